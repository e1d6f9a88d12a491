import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import type { RunId } from "../core/types.ts";
import type { RunOutcome } from "../store/store.ts";
import { endedRunsReader } from "./ended-runs-reader.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** The columns the reader looks at, with a run per status. */
function runs() {
  const dir = mkdtempSync(join(tmpdir(), "cairn-ended-runs-"));
  const db = new Database(join(dir, "cairn.db"));
  cleanups.push(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  db.exec(`CREATE TABLE runs (id TEXT PRIMARY KEY, status TEXT NOT NULL, output TEXT,
    error TEXT, continued_to TEXT)`);
  const insert = db.prepare("INSERT INTO runs VALUES (?, ?, ?, ?, ?)");
  for (const status of ["running", "cancelled", "waiting"]) {
    insert.run(status, status, null, null, null);
  }
  insert.run("completed", "completed", '{"json":1}', null, null);
  insert.run("failed", "failed", null, '{"name":"Error","message":"no"}', null);
  insert.run("continued", "completed", '{"json":2}', null, "successor");
  insert.run("done-not-awaited", "completed", '{"json":3}', null, null);
  return db;
}

const ids = (...names: string[]) => names as RunId[];

it("names the awaited runs that ended, and no others", () => {
  const db = runs();
  const told: (readonly RunId[])[] = [];
  const reader = endedRunsReader(
    db,
    (found) => told.push(found),
    () => ids("running", "completed", "failed", "cancelled", "waiting"),
  );
  reader.onCommit();
  expect(told.map((found) => [...found].sort())).toEqual([["cancelled", "completed", "failed"]]);
  reader.stop();
});

it("says how the awaited runs completed or failed, not how a cancelled or continued one ended", () => {
  const db = runs();
  const told: ReadonlyMap<RunId, RunOutcome>[] = [];
  const reader = endedRunsReader(
    db,
    (_found, outcomes) => told.push(outcomes),
    () => ids("completed", "failed", "cancelled", "continued", "running"),
  );
  reader.onCommit();
  expect(told.map((outcomes) => Object.fromEntries(outcomes))).toEqual([
    {
      completed: { status: "completed", output: '{"json":1}' },
      failed: { status: "failed", error: '{"name":"Error","message":"no"}' },
    },
  ]);
  reader.stop();
});

it("folds the commits after a slow read into one read, later", async () => {
  const db = runs();
  const told: (readonly RunId[])[] = [];
  let onTold = () => {};
  // A clock that moves a millisecond each time it is read: every read takes a millisecond,
  // over the 0 ms limit, so the next waits ten (whatever the machine's load).
  let clock = 0;
  const reader = endedRunsReader(
    db,
    (found) => {
      told.push(found);
      onTold();
    },
    () => ids("completed"),
    { slowReadMs: 0, now: () => ++clock },
  );
  cleanups.push(reader.stop);
  reader.onCommit();
  expect(told).toHaveLength(1);
  reader.onCommit();
  reader.onCommit();
  expect(told).toHaveLength(1); // deferred, not dropped
  await new Promise<void>((resolve) => {
    onTold = resolve;
  });
  expect(told).toHaveLength(2);
});
