import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, fixtures, type Service, startService, tempDir } from "./cli.ts";

const dir = tempDir();
const services: Service[] = [];
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop("SIGKILL")));
  dir.remove();
});

function start(args: string[]): Service {
  const service = startService(args);
  services.push(service);
  return service;
}

const order = (id: string, total: number) =>
  JSON.stringify({ id, total, email: "ada@example.com", items: [{ sku: "SKU-001", qty: 2 }] });

/** The pino lines a process wrote to stderr. */
function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("cairn dev examples", () => {
  it("serves the API, runs workflows started with cairn run --wait, logs them, stops on SIGTERM", async () => {
    const dev = start([
      "dev",
      "examples",
      "--port",
      "0",
      "--json",
      "--db",
      `sqlite:${join(dir.path, "dev.db")}`,
    ]);
    const summary = await dev.ready;
    const url = summary.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((summary.workflows as { name: string }[]).map((w) => w.name)).toEqual(
      expect.arrayContaining(["expense-approval", "inventory-report", "process-order"]),
    );
    // main.ts is a script: importing it would run the whole demo.
    expect(summary.skipped).toContainEqual(
      expect.objectContaining({ file: join("examples", "main.ts") }),
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const expense = JSON.stringify({ expenseId: "e1", amount: 42, submitter: "ada" });
    const approval = JSON.stringify({ expenseId: "e1", approved: true, reviewer: "grace" });
    const [ok, declined, [started, sent, followed]] = await Promise.all([
      cli(["run", "process-order", "--url", url, "--wait", "--input", order("1001", 129.9)]),
      cli(["run", "process-order", "--url", url, "--wait", "--input", order("1002", 9_999)]),
      (async () => {
        const run = ["run", "expense-approval", "--url", url, "--id", "exp-1", "--input", expense];
        const first = await cli(run);
        const event = await cli([
          "events",
          "send",
          "expense.approved",
          "--url",
          url,
          "--data",
          approval,
        ]);
        // Starting the same id again returns the existing run; --wait follows it to its end.
        return [first, event, await cli([...run, "--wait"])] as const;
      })(),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      orderId: "1001",
      trackingNumber: expect.stringMatching(/^TRK/),
    });
    expect(ok.stderr).toContain("ship: attempt 1 failed");
    expect(ok.stderr).toContain("ship: completed");
    expect(ok.stderr).toMatch(/run completed in/);
    expect(declined.code).toBe(1);
    expect(declined.stdout).toBe("");
    expect(declined.stderr).toContain("NonRetryableError: Card declined");
    expect(started.stdout.trim()).toBe("exp-1");
    expect(sent.code, sent.stderr).toBe(0);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stderr).toContain("already exists");
    expect(JSON.parse(followed.stdout)).toMatchObject({ decision: "approved", reviewer: "grace" });

    const invalid = await cli(["run", "process-order", "--url", url, "--input", '{"id":"x"}']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('Invalid input for workflow "process-order"');

    expect(await dev.stop("SIGTERM")).toBe(0);
    const logs = logLines(dev.stderr());
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: "step retrying",
        workflow: "process-order",
        step: "ship",
        attempt: 1,
      }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: "run completed", workflow: "process-order" }),
    );
    expect(logs.every((l) => typeof l.level === "number")).toBe(true);
  }, 60_000);
});

describe("graceful shutdown", () => {
  it("SIGTERM lets the in-flight step finish, hands the run back and exits 0", async () => {
    const db = `sqlite:${join(dir.path, "drain.db")}`;
    const entry = join(fixtures, "workflows");
    const dev = start(["dev", entry, "--port", "0", "--json", "--db", db, "--log-level", "debug"]);
    const url = (await dev.ready).url as string;
    const release = join(dir.path, "release-slow-step");
    const started = await cli([
      "run",
      "slow",
      "--url",
      url,
      "--id",
      "s1",
      "--input",
      JSON.stringify({ releaseFile: release }),
    ]);
    expect(started.code).toBe(0);
    await dev.waitForStderr('"step":"slow-step"');
    const exited = dev.stop("SIGTERM");
    await dev.waitForStderr('"msg":"shutting down"');
    // While it drains, the API still answers but tells balancers to stop sending work.
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    let released = false;
    void exited.then(() => expect(released, "exited before its step was let go").toBe(true));
    released = true;
    writeFileSync(release, "");
    expect(await exited).toBe(0);
    const shown = await cli(["runs", "show", "s1", "--json", "--db", db]);
    const run = JSON.parse(shown.stdout) as {
      status: string;
      steps: { key: string; status: string }[];
    };
    expect(run.steps[0]).toMatchObject({ key: "slow-step", status: "completed" });
    expect(run.status).toBe("queued"); // handed back: the next worker runs "after"
  }, 60_000);
});

describe("cairn worker with cairn run --db", () => {
  it("runs what the database hands it; run --wait follows by polling the database", async () => {
    const db = `sqlite:${join(dir.path, "worker.db")}`;
    const worker = start([
      "worker",
      join(fixtures, "workflows"),
      "--db",
      db,
      "--json",
      "--queue",
      "gpu,default",
    ]);
    await worker.ready;
    const [ok, failed] = await Promise.all([
      cli(["run", "greet", "--db", db, "--wait", "--input", '{"name":"Ada"}']),
      cli(["run", "fail", "--db", db, "--wait"]),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ message: "Hello, Ada!", attempts: 2 });
    expect(ok.stderr).toContain("flaky: completed");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("NonRetryableError: boom on purpose");
    expect(await worker.stop("SIGINT")).toBe(0);
  }, 60_000);
});

describe("cairn server", () => {
  it("serves the API without workflow code or worker, and stops on SIGTERM", async () => {
    const server = start([
      "server",
      "--port",
      "0",
      "--json",
      "--db",
      `sqlite:${join(dir.path, "api.db")}`,
    ]);
    const summary = await server.ready;
    expect(summary).toMatchObject({ kind: "server", worker: null, workflows: [] });
    expect((await fetch(`${summary.url}/healthz`)).status).toBe(200);
    expect(await server.stop("SIGTERM")).toBe(0);
  }, 30_000);

  // `cairn server` has its process to itself, so it answers with @hono/node-server's own
  // Response class (`dedicatedProcess`): every kind of answer must still come out whole.
  it("starts runs a separate worker executes, and answers JSON, problems, streams and the UI", async () => {
    const db = `sqlite:${join(dir.path, "split.db")}`;
    const worker = start(["worker", join(fixtures, "workflows"), "--db", db, "--json"]);
    await worker.ready;
    const server = start(["server", "--port", "0", "--json", "--db", db]);
    const url = (await server.ready).url as string;

    const ok = await cli(["run", "greet", "--url", url, "--wait", "--input", '{"name":"Ada"}']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ message: "Hello, Ada!", attempts: 2 });

    const started = await fetch(`${url}/api/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workflow: "greet", id: "split-1", input: { name: "Bo" } }),
    });
    expect(started.status).toBe(201);
    expect(started.headers.get("content-type")).toMatch(/^application\/json/);
    expect(started.headers.get("location")).toBe("/api/v1/runs/split-1");
    expect(started.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await started.json()).toMatchObject({ id: "split-1", workflow: "greet", created: true });
    const result = await fetch(`${url}/api/v1/runs/split-1/result?waitMs=30000`);
    expect(await result.json()).toMatchObject({ output: { message: "Hello, Bo!", attempts: 2 } });

    // An event stream (a body the adapter writes as it comes): the run's status comes first.
    const aborter = new AbortController();
    const stream = await fetch(`${url}/api/v1/stream?run=split-1`, { signal: aborter.signal });
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes("\n\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    aborter.abort();
    expect(text).toContain("event: run");
    expect(text).toContain('"status":"completed"');

    const missing = await fetch(`${url}/api/v1/runs/no-such-run`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await missing.json()).toMatchObject({ code: "RUN_NOT_FOUND" });

    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");

    expect(await server.stop("SIGTERM")).toBe(0);
    expect(await worker.stop("SIGTERM")).toBe(0);
  }, 60_000);
});
