import type { JournalOp } from "../store/store.ts";
import { newRunParams } from "./rows.ts";
import type { Statements } from "./statements.ts";

type Continue = Extract<JournalOp, { type: "continue" }>;

/**
 * `ctx.continueAsNew`, inside the commit's transaction (the caller checked the fencing
 * token): the successor is created — an existing row of that id is left alone — and linked
 * back, takes the run's tags, and the run completes with no output, linked on. Its waits go
 * (the caller frees its concurrency slot); its parent is not resolved (the successor carries the
 * parent link, so the last run of the chain resolves it).
 */
export function continueRun(sql: Statements, op: Continue): void {
  const { successor } = op;
  if (sql.insertRun.get(newRunParams(successor, undefined))) {
    sql.linkSuccessor.run(op.runId, successor.id);
    sql.copyTags.run(successor.id, op.runId);
  }
  sql.continueRun.run(op.at, op.at, successor.id, op.runId);
  sql.deleteWaits.run(op.runId);
}

/**
 * The last run of the chain that starts at `id` (a child that continued as new is awaited
 * through its successors), or undefined when there is no such run.
 */
export function lastOfChain(sql: Statements, id: string): unknown {
  let row = sql.getRun.get(id) as { continued_to: string | null } | undefined;
  while (row?.continued_to) {
    row = sql.getRun.get(row.continued_to) as { continued_to: string | null } | undefined;
  }
  return row;
}
