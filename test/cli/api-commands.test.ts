import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defineWorkflow } from "../../src/index.ts";
import { type RunningServer, startServer } from "../../src/server/index.ts";
import { createTestCairn, type TestCairn, waitForStatus } from "../../src/testing/index.ts";
import { cli, tempDir } from "./cli.ts";

// Each test spawns CLI processes; a loaded machine can make them slow.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** Logs from the workflow and from a step. */
const chatty = defineWorkflow({ name: "chatty" }, async (ctx, n: number) => {
  ctx.log.info("begin", { n });
  return ctx.step("talk", (s) => {
    s.log.warn("careful");
    return n + 1;
  });
});

/** Waits for signal `go`. */
const gated = defineWorkflow({ name: "gated" }, async (ctx) => ctx.waitForSignal("go"));

// The commands that act on a running server, through `cairnjs/client` with --url.
let t: TestCairn;
let server: RunningServer;
let url: string;
const dir = tempDir();
beforeAll(async () => {
  t = await createTestCairn({ workflows: [chatty, gated] });
  server = await startServer(t.cairn, { port: 0 });
  url = server.url;
  await (await t.cairn.start(chatty, 1, { id: "c1" })).result();
  for (const id of ["g1", "g2", "g3"]) {
    await t.cairn.start(gated, undefined, { id });
    await waitForStatus(t.cairn, id, "waiting");
  }
});
afterAll(async () => {
  await server.close();
  await t.close();
  dir.remove();
});

describe("commands through the API (--url)", () => {
  it("runs logs, runs rerun, run --wait --json", async () => {
    const [logs, rerun, waited] = await Promise.all([
      cli(["runs", "logs", "c1", "--url", url]),
      cli(["runs", "rerun", "c1", "--from-step", "talk", "--input", "41", "--url", url, "--json"]),
      cli(["run", "chatty", "--input", "9", "--id", "c2", "--wait", "--json", "--url", url]),
    ]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/INFO {2}\[workflow\] begin \{"n":1\}/);
    expect(logs.stdout).toMatch(/WARN {2}\[talk#1\] careful/);
    expect(rerun.code, rerun.stderr).toBe(0);
    const { id } = JSON.parse(rerun.stdout) as { id: string };
    await waitForStatus(t.cairn, id, "completed");
    expect((await t.cairn.getRun(id)).output).toBe(42);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toContain("talk: completed");
    expect(JSON.parse(waited.stdout)).toMatchObject({
      id: "c2",
      status: "completed",
      output: 10,
      steps: [{ key: "talk", status: "completed" }],
    });
  });

  it("runs cancel (one, and --filter), runs retry", async () => {
    const one = await cli(["runs", "cancel", "g1", "--url", url, "--json"]);
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ id: "g1", status: "cancelled" });
    const bulk = await cli([
      "runs",
      "cancel",
      "--filter",
      "workflow=gated",
      "--filter",
      "status=waiting",
      "--yes",
      "--url",
      url,
    ]);
    expect(bulk.code, bulk.stderr).toBe(0);
    expect(bulk.stdout.trim()).toBe("Cancelled 2 of 2 matching runs.");
    const retried = await cli(["runs", "retry", "g1", "--url", url, "--json"]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ id: "g1" });
    await waitForStatus(t.cairn, "g1", "waiting");
  });

  it("flows deploy, list, show, versions", async () => {
    const file = join(dir.path, "nap.flow.yaml");
    writeFileSync(file, "name: nap\nsteps:\n  - id: rest\n    sleep: 1s\n");
    const deployed = await cli(["flows", "deploy", file, "--url", url]);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain("deployed nap v1");
    const [list, show, versions] = await Promise.all([
      cli(["flows", "list", "--url", url]),
      cli(["flows", "show", "nap", "1", "--url", url]),
      cli(["flows", "versions", "nap", "--url", url, "--json"]),
    ]);
    expect(list.stdout).toMatch(/nap\s+v1/);
    expect(show.stdout.trim()).toBe("name: nap\nsteps:\n  - id: rest\n    sleep: 1s");
    expect(JSON.parse(versions.stdout)).toMatchObject([{ name: "nap", version: 1 }]);
  });

  it("prints an error answer with its HTTP status, exit 2 for the caller's mistake", async () => {
    const [missing, signal] = await Promise.all([
      cli(["flows", "show", "no-flow", "--url", url]),
      cli(["signal", "nope", "go", "--url", url]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: .*no-flow.* \(HTTP 404\)$/m);
    expect(signal.code).toBe(2);
    expect(signal.stderr).toContain('No run with id "nope". (HTTP 404)');
  });
});
