import type Database from "better-sqlite3";
import { CairnError } from "../core/errors.ts";
import type { RunId, RunStatus } from "../core/types.ts";
import type { JournalEntry } from "../store/store.ts";
import { entryParams } from "./commit-batch.ts";
import type { prepareStatements } from "./statements.ts";

/**
 * A `ctx.transaction` step, run inside the caller's immediate transaction: the user's
 * queries and the step's checkpoint commit together, fenced on the run's token.
 * better-sqlite3 transactions are synchronous: `fn` runs inside this one and must not
 * await, or its writes would escape the checkpoint's transaction.
 */
export function transactionalStep<T>(
  db: Database.Database,
  sql: ReturnType<typeof prepareStatements>,
  op: { runId: RunId; token: number; entry: JournalEntry },
  fn: (tx: unknown) => T | Promise<T>,
  serializeOutput: (value: T) => string,
): { ok: true; value: T; output: string } | { ok: false; reason: "fenced" } {
  const current = sql.getOwnership.get(op.runId) as
    | { status: RunStatus; fencing_token: number }
    | undefined;
  if (current?.status !== "running" || current.fencing_token !== op.token) {
    return { ok: false, reason: "fenced" };
  }
  const value = fn(db);
  if (value !== null && typeof (value as { then?: unknown })?.then === "function") {
    throw new CairnError(
      "INVALID_ARGUMENT",
      "On SQLite, the function of ctx.transaction must be synchronous: better-sqlite3 runs " +
        "the step's queries and its checkpoint in one synchronous transaction.",
    );
  }
  const output = serializeOutput(value as T);
  sql.upsertEntry.run(entryParams(op.runId, { ...op.entry, output }));
  return { ok: true, value: value as T, output };
}
