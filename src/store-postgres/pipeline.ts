import type { PendingQuery, ReservedSql, Row, RowList, Sql } from "postgres";
import { GuardedReservation } from "./guarded-reservation.ts";
import { postgresStorageError } from "./storage-error.ts";

export { isConnectionError } from "./guarded-reservation.ts";

/**
 * Sends a query at once, behind everything already sent on its connection, and records
 * it; the caller awaits the returned promise only when it needs the rows.
 */
export type Send = <T extends readonly Row[]>(query: PendingQuery<T>) => Promise<RowList<T>>;

/** SQLSTATEs after which the whole transaction rolled back and may simply run again. */
const retryable = new Set(["40P01", "40001"]); // deadlock_detected, serialization_failure

/**
 * Runs `fn` in a transaction on a reserved connection, pipelined. postgres.js runs a query
 * only once it is awaited or executed; `send` executes it at once without waiting for the
 * answer, so statements sent back to back share one round trip. `BEGIN` goes out with
 * `fn`'s first statements; `commit()` sends `COMMIT` right behind the last ones and then
 * awaits every statement sent (`fn` calls it once it has sent its writes, or it is called
 * when `fn` returns). `fn` awaits only the reads it needs to decide what to write: a
 * transaction that needs none costs one round trip.
 *
 * If any statement fails, PostgreSQL aborts the transaction and answers the pipelined
 * `COMMIT` with a rollback: all or nothing, and the statement's error is thrown. A deadlock
 * victim is run again (up to `attempts` times in all): it rolled back entirely.
 */
export async function pipelinedTransaction<T>(
  sql: Sql,
  fn: (tx: ReservedSql, send: Send, commit: () => Promise<void>) => Promise<T>,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    // A restart or a network cut must fail the transaction, not hang it: see GuardedReservation.
    const { reservation, begun } = await GuardedReservation.begin(sql);
    const tx = reservation.tx;
    const sent: Promise<unknown>[] = [begun];
    begun.catch(() => {}); // reported by commit() or the catch below
    let committing = false;
    const send: Send = (query) => {
      if (committing) throw new Error("A statement was sent after COMMIT.");
      const result = reservation.execute(query);
      result.catch(() => {}); // reported by commit() or the catch below
      sent.push(result);
      return result;
    };
    const commit = async () => {
      if (!committing) {
        void send(tx`COMMIT`);
        committing = true;
      }
      for (const statement of sent) await statement;
    };
    try {
      const result = await reservation.guard(fn(tx, send, commit));
      await commit();
      return result;
    } catch (thrown) {
      // Ends the transaction if it is still open; after a sent COMMIT it is a no-op (a
      // silenced "there is no transaction in progress" warning). It is answered after
      // every statement in flight, so the connection goes back to the pool idle.
      // A read awaited after a failed write reports only "current transaction is
      // aborted"; the first failure in the pipeline is the cause.
      const settled = await Promise.allSettled(sent);
      if (!reservation.lost) await reservation.execute(tx`ROLLBACK`).catch(() => {});
      const cause = settled.find((s) => s.status === "rejected")?.reason ?? thrown;
      const error = reservation.lost ?? (isAbortedNotice(thrown) ? cause : thrown);
      if (attempt < attempts && retryable.has((error as { code?: string }).code ?? "")) continue;
      throw postgresStorageError(error);
    } finally {
      reservation.finish();
    }
  }
}

/** 25P02 in_failed_sql_transaction: an earlier statement of the transaction failed. */
function isAbortedNotice(error: unknown): boolean {
  return (error as { code?: string }).code === "25P02";
}

/** Runs a one-statement transaction again when it was chosen as a deadlock victim. */
export async function retryingDeadlocks<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt < attempts && retryable.has((error as { code?: string }).code ?? "")) continue;
      throw postgresStorageError(error);
    }
  }
}
