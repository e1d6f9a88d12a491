import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunId } from "../core/types.ts";
import { openStore } from "../engine/open-store.ts";
import type { JournalEntry, JournalOp, Store } from "../store/store.ts";
import { JournalWriter } from "./journal-writer.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const entry = (key: string): JournalEntry => ({
  position: 0,
  key,
  kind: "step",
  status: "completed",
  output: "1",
  error: null,
  attempt: 1,
  startedAt: 1,
  finishedAt: 1,
  wakeAt: null,
  detail: null,
  seq: null,
});

/**
 * A real SQLite store whose first commit waits until `failFirst` is called and then fails
 * (the database went away mid-commit); every commit's ops are recorded.
 */
async function storeFailingFirstCommit() {
  const dir = mkdtempSync(join(tmpdir(), "cairn-journal-writer-"));
  dirs.push(dir);
  const inner = await openStore(`sqlite:${join(dir, "cairn.db")}`);
  const commits: JournalOp[][] = [];
  let failFirst: (error: Error) => void = () => {};
  let firstStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    firstStarted = resolve;
  });
  const commit: Store["commit"] = (ops) => {
    commits.push([...ops]);
    if (commits.length > 1) return inner.commit(ops);
    firstStarted();
    return new Promise((_, reject) => {
      failFirst = reject;
    });
  };
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "commit") return commit;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store, inner, commits, started, fail: (error: Error) => failFirst(error) };
}

describe("JournalWriter", () => {
  it("after a failed commit, the run's later ops under that token are refused unsent; others go on", async () => {
    const { store, inner, commits, started, fail } = await storeFailingFirstCommit();
    const writer = new JournalWriter(store);
    const run = "run-a" as RunId;
    const other = "run-b" as RunId;
    try {
      const lastStep = writer.write({ type: "entry", runId: run, token: 1, entry: entry("last") });
      lastStep.catch(() => {});
      await started;
      // Written while the first batch is in flight: they form the next batch.
      const completion = writer.write({
        type: "complete",
        runId: run,
        token: 1,
        output: "1",
        at: 2,
      });
      completion.catch(() => {});
      const nextLease = writer.write({ type: "entry", runId: run, token: 2, entry: entry("last") });
      const otherRun = writer.write({ type: "entry", runId: other, token: 1, entry: entry("x") });
      const lost = new Error("write CONNECTION_CLOSED");
      fail(lost);

      await expect(lastStep).rejects.toBe(lost);
      await expect(completion).rejects.toBe(lost);
      // Neither run exists in this store: both writes are fenced, but they were sent.
      expect(await nextLease).toMatchObject({ ok: false });
      expect(await otherRun).toMatchObject({ ok: false });
      expect(commits.map((ops) => ops.map((op) => `${op.runId}:${op.token}:${op.type}`))).toEqual([
        ["run-a:1:entry"],
        ["run-a:2:entry", "run-b:1:entry"],
      ]);
    } finally {
      await writer.idle();
      await inner.close();
    }
  });

  it("holds a commit while outcomes handed out start steps, and for one turn when they start none", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-journal-writer-"));
    dirs.push(dir);
    const store = await openStore(`sqlite:${join(dir, "cairn.db")}`);
    const writer = new JournalWriter(store, { maxHoldMs: 60_000 });
    const op = (key: string): JournalOp => ({
      type: "entry",
      runId: "r" as RunId,
      token: 1,
      entry: entry(key),
    });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      // Outcomes wait to be handed out and a step waits for the commit: writes made turns
      // apart share one commit, made once the handing ends.
      const endDelivering = writer.delivering();
      const endWaiting = writer.stepWaiting();
      const first = writer.write(op("a"));
      await turn();
      await turn();
      const second = writer.write(op("b"));
      await turn();
      expect(writer.stats.flushes).toBe(0);
      endDelivering();
      endWaiting();
      await Promise.all([first, second]);
      expect(writer.stats).toEqual({ flushes: 1, ops: 2 });

      // Outcomes wait but start no step: the commit waits one turn, not for the handing.
      const stillDelivering = writer.delivering();
      await writer.write(op("c"));
      expect(writer.stats).toEqual({ flushes: 2, ops: 3 });
      stillDelivering();
    } finally {
      await store.close();
    }
  });
});
