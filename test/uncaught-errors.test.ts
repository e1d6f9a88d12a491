import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { openStore } from "../src/engine/open-store.ts";
import { Cairn } from "../src/index.ts";
import {
  healthy,
  lateRejection,
  leakyWorkflows,
  parked,
  strayRejection,
  timerThrow,
} from "./fixtures/leaky-workflows.ts";
import { testStore } from "./support/engine.ts";
import { freshSchema } from "./support/postgres.ts";

const fixture = resolve(import.meta.dirname, "fixtures/leaky-process.ts");

interface Reported {
  type: string;
  message?: string;
  context?: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(): Promise<string> {
  if (testStore === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "cairn-leaks-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    return `sqlite:${join(dir, "cairn.db")}`;
  }
  const base = inject("cairnTestPgUrl");
  const { schema, drop } = await freshSchema(base);
  cleanups.push(drop);
  return `${base}${base.includes("?") ? "&" : "?"}schema=${schema}`;
}

/** A leaky worker process on `db`, with everything it reported so far. */
async function leakyWorker(db: string) {
  const child: ChildProcess = fork(fixture, [], {
    env: { ...process.env, CAIRN_DB: db },
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const reports: Reported[] = [];
  const exited = new Promise<number | null>((done) => child.once("exit", done));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  await new Promise<void>((ready, fail) => {
    child.on("message", (message: Reported) => {
      reports.push(message);
      if (message.type === "ready") ready();
    });
    void exited.then((code) => fail(new Error(`leaky worker exited early (${code})`)));
  });
  /** Resolves with the first report whose context contains `text`. */
  const reported = (text: string) =>
    new Promise<Reported>((found) => {
      const hit = reports.find((r) => r.context?.includes(text));
      if (hit) return found(hit);
      const listen = (message: Reported) => {
        if (!message.context?.includes(text)) return;
        child.off("message", listen);
        found(message);
      };
      child.on("message", listen);
    });
  return { child, reports, exited, reported };
}

async function client(db: string): Promise<Cairn> {
  const cairn = await Cairn.open({ db, workflows: leakyWorkflows, pollMs: 50 });
  cleanups.push(() => cairn.close());
  return cairn;
}

describe(`uncaught errors in a worker process (${testStore})`, () => {
  it("fails the leaking attempt, retries it, and keeps the process and its other runs alive", async () => {
    const db = await database();
    const worker = await leakyWorker(db);
    const cairn = await client(db);
    const timer = await cairn.start(timerThrow, undefined);
    const rejection = await cairn.start(strayRejection, undefined);
    const others = await Promise.all([1, 2, 3].map((n) => cairn.start(healthy, n)));

    // The second attempt succeeded: the first failed with the leaked error instead of
    // hanging or taking the process down.
    expect(await timer.result()).toBe(2);
    expect(await rejection.result()).toBe(2);
    expect(await Promise.all(others.map((h) => h.result()))).toEqual([2, 4, 6]);

    const timerInfo = await cairn.getRun(timer.id);
    const leak = timerInfo.steps.find((s) => s.key === "leak");
    expect(leak?.attempt).toBe(2);
    const timerReport = await worker.reported(`run ${timer.id} (attempt 1): the attempt fails`);
    expect(timerReport.message).toBe("thrown in a timer");
    expect(timerReport.context).toMatch(/^uncaughtException in step "leak"/);
    const rejectionReport = await worker.reported(`run ${rejection.id} (attempt 1)`);
    expect(rejectionReport.message).toBe("rejected and forgotten");
    expect(rejectionReport.context).toMatch(/^unhandledRejection in step "leak"/);
    expect(worker.child.exitCode).toBeNull();
  });

  it("logs a rejection that arrives after its step returned without failing the step", async () => {
    const db = await database();
    const worker = await leakyWorker(db);
    const cairn = await client(db);
    const run = await cairn.start(lateRejection, undefined);
    const report = await worker.reported(`run ${run.id} (attempt 1) after the attempt had ended`);
    expect(report.message).toBe("rejected after the step returned");
    expect(await run.result()).toBe("done");
    const info = await cairn.getRun(run.id);
    expect(info.steps.find((s) => s.key === "early")).toMatchObject({
      status: "completed",
      attempt: 1,
    });
    expect(worker.child.exitCode).toBeNull();
  });

  it("drains and exits 1 on an error outside any step, naming the runs in flight", async () => {
    const db = await database();
    const worker = await leakyWorker(db);
    const cairn = await client(db);
    const run = await cairn.start(parked, undefined);
    // In flight in the worker's own books, not only claimed in the database.
    await worker.reported(`step started: ${run.id} park`);
    worker.child.send("stray");
    const report = await worker.reported("outside any step");
    expect(report.message).toBe("thrown outside any step");
    expect(report.context).toContain(`runs in flight: ${run.id}`);
    expect(await worker.exited).toBe(1);
    // Drained, not lost, but not released either: the process went down in an unknown state,
    // so the run's lease was ended and the next worker takes it over with a crash counted
    // (a run that throws outside its steps is quarantined like one that kills its worker).
    expect((await cairn.getRun(run.id)).status).toBe("running");
    const store = await openStore(db);
    cleanups.push(() => store.close());
    // A second ahead: the lease ended on the worker's clock (PostgreSQL's, there).
    const claimed = await store.claimRuns(
      "probe",
      { workflows: [parked.name] },
      Date.now() + 1_000,
      60_000,
      1,
    );
    expect(claimed.map((c) => [c.run.id, c.takeover, c.crashes])).toEqual([[run.id, true, 1]]);
  });
});
