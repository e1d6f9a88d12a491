/**
 * Restate (single-node restate-server from the npm package + the TypeScript SDK), the benchmark
 * workloads (see ../harness.ts).
 *
 * This process starts restate-server on loopback with a fresh data directory, serves the bench
 * service over HTTP/2 on 127.0.0.1, registers it, and calls it through the ingress
 * (POST http://127.0.0.1:8080/bench/<handler>, which answers with the result): start -> result.
 * Every step is a ctx.run, whose result the server journals (replicated loglet on the local
 * log-server, RocksDB WAL fsync on: the server defaults) before the handler goes on.
 *
 *   npm run bench [-- --quick] [-- --passes=N]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync, rmSync } from "node:fs";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import "./setup.ts";
import * as restate from "@restatedev/restate-sdk";
import {
  describeMachine,
  options,
  type PeerEngine,
  resultPath,
  runWorkloads,
  writeResult,
} from "../harness.ts";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const serverBin = here("./node_modules/@restatedev/restate-server-linux-x64/bin/restate-server");
const dataDir = here("./restate-data");
const ingress = "http://127.0.0.1:8080";
const admin = "http://127.0.0.1:9070";

const bench = restate.service({
  name: "bench",
  handlers: {
    sequential: async (ctx: restate.Context, steps: number) => {
      let done = 0;
      for (let i = 0; i < steps; i++) {
        const out = await ctx.run(`step-${i}`, async () => ({ i, ok: true }));
        if (out.ok) done++;
      }
      return done;
    },
    fanOut: async (ctx: restate.Context, steps: number) => {
      const outs = await restate.RestatePromise.all(
        Array.from({ length: steps }, (_, i) =>
          ctx.run(`branch-${i}`, async () => ({ i, ok: true })),
        ),
      );
      return outs.filter((o) => o.ok).length;
    },
  },
});

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(url: string, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms`);
    await sleep(200);
  }
}

function startServer(): ChildProcess {
  rmSync(dataDir, { recursive: true, force: true });
  const log = createWriteStream(here("./restate-server.log"));
  const child = spawn(
    serverBin,
    [
      "--no-logo",
      "--node-name",
      "bench",
      "--base-dir",
      dataDir,
      "--bind-address",
      "127.0.0.1:5122",
      "--advertised-address",
      "http://127.0.0.1:5122/",
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        RESTATE_DISABLE_TELEMETRY: "true",
        RESTATE_LOG_DISABLE_ANSI_CODES: "true",
        // Every listener on loopback only.
        RESTATE_BIND_IP: "127.0.0.1",
        RESTATE_INGRESS__BIND_ADDRESS: "127.0.0.1:8080",
        RESTATE_ADMIN__BIND_ADDRESS: "127.0.0.1:9070",
      },
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function stopServer(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

async function call(handler: "sequential" | "fanOut", steps: number): Promise<unknown> {
  const res = await fetch(`${ingress}/bench/${handler}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(steps),
  });
  if (!res.ok) throw new Error(`ingress ${res.status}: ${await res.text()}`);
  return res.json();
}

const server = startServer();
const endpoint = http2.createServer(restate.createEndpointHandler({ services: [bench] }));
// restate-server keeps its HTTP/2 connections open; close() alone would wait for them forever.
const sessions = new Set<http2.ServerHttp2Session>();
endpoint.on("session", (session: http2.ServerHttp2Session) => {
  sessions.add(session);
  session.once("close", () => sessions.delete(session));
});
try {
  await new Promise<void>((resolve) => endpoint.listen(0, "127.0.0.1", resolve));
  const port = (endpoint.address() as AddressInfo).port;
  await waitFor(`${admin}/health`, "restate admin");
  await waitFor(`${ingress}/restate/health`, "restate ingress");
  const reg = await fetch(`${admin}/deployments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ uri: `http://127.0.0.1:${port}`, force: true }),
  });
  if (!reg.ok) throw new Error(`registration failed: ${reg.status} ${await reg.text()}`);

  const engine: PeerEngine = {
    sequential: (steps) => call("sequential", steps),
    fanOut: (steps) => call("fanOut", steps),
  };
  // The first call may race the ingress learning about the new deployment.
  for (let i = 0; ; i++) {
    try {
      await engine.sequential(1);
      break;
    } catch (err) {
      if (i > 50) throw err;
      await sleep(200);
    }
  }

  const opts = options();
  const machine = describeMachine();
  const version = (p: string) =>
    JSON.parse(readFileSync(here(`./node_modules/${p}/package.json`), "utf8")).version as string;
  const server_ = `@restatedev/restate-server@${version("@restatedev/restate-server")}`;
  const sdk = `@restatedev/restate-sdk@${version("@restatedev/restate-sdk")}`;
  console.log(`${server_}, ${sdk}, ${machine.cpuModel} x${machine.cores}, Node ${machine.node}`);
  const { passes, figures } = await runWorkloads(engine, opts);
  writeResult(resultPath(here("../results/restate.json")), {
    engine: "restate",
    package: `${server_} + ${sdk}`,
    setup:
      "single restate-server node (defaults: 24 partitions, replicated loglet on the local " +
      "log-server, RocksDB WAL fsync on) started by the bench with a fresh data dir; service " +
      "in the bench process over HTTP/2 on loopback; each run is one ingress request/response",
    options: opts,
    machine,
    figures,
    passes,
  });
} finally {
  await stopServer(server);
  for (const session of sessions) session.destroy();
  await new Promise((resolve) => endpoint.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
