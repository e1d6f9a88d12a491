import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";
import { endedRunsText } from "./ended-runs-reader.ts";
import { migrate } from "./migrate.ts";
import { prepareScheduleStatements } from "./sqlite-schedules.ts";
import { prepareStatements } from "./statements.ts";

// SQLite plans without statistics (the store never runs ANALYZE), so a statement's plan is
// fixed by its text and the schema: these are the reads that once walked every queued or
// finished run, 10 to 80 ms each beside tens of thousands of them (docs/scaling.md).
const dir = mkdtempSync(join(tmpdir(), "cairn-plans-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const db = new Database(join(dir, "plans.db"));
migrate(db);
afterAll(() => db.close());

/** The plan's lines that read `runs`, with the parameters' values irrelevant to the plan. */
function runsPlan(statement: Database.Statement, ...params: unknown[]): string[] {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${statement.source}`).all(...params);
  return (rows as { detail: string }[])
    .map((row) => row.detail)
    .filter((detail) => / runs | r USING/.test(detail));
}

const sql = prepareStatements(db);
const scope = { workflows: '["wf"]', queues: '["default"]', versions: null };

it.each([
  [
    "a claim",
    () => runsPlan(sql.claimable, { ...scope, now: 1, limit: 1, no_suspects: 1 }),
    "SEARCH runs USING INDEX runs_claimable (queue=? AND workflow=? AND available_at<?)",
  ],
  [
    "the next wake-up",
    () => runsPlan(sql.nextWake, scope),
    "SEARCH runs USING INDEX runs_claimable (queue=? AND workflow=? AND available_at>?)",
  ],
  [
    "an admission pass",
    () => runsPlan(sql.pendingAdmission, '["wf"]', 100),
    "SCAN runs USING INDEX runs_unadmitted",
  ],
  [
    "a debounced start",
    () => runsPlan(sql.debounceRun, "{}", 1, 1, "wf", "k"),
    "SEARCH runs USING INDEX runs_debounce (workflow=? AND debounce_key=?)",
  ],
  [
    "a purge chunk",
    () => runsPlan(sql.deleteFinished, 1, 100),
    "SEARCH runs USING INDEX runs_finished_at (finished_at<?)",
  ],
  [
    "a waiter's read of the awaited runs that ended",
    () => runsPlan(db.prepare(endedRunsText), '["r1"]'),
    "SEARCH runs USING INDEX sqlite_autoindex_runs_1 (id=?)",
  ],
  [
    "a due schedule's overlap check",
    () => runsPlan(prepareScheduleStatements(db).due, { now: 1, workflows: "null", limit: 10 }),
    "SEARCH r USING INDEX runs_schedule_active (schedule_id=?)",
  ],
])(
  "%s reads runs through its index, never a walk of all queued or finished runs",
  (_, plan, line) => {
    const lines = plan();
    expect(lines).toContain(line);
    expect(lines.join("\n")).not.toMatch(/runs_status_created_at|runs_schedule_slot|SCAN runs$/m);
  },
);
