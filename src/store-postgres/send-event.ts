import type { Sql } from "postgres";
import { serializeAnyOutcome } from "../core/any-outcome.ts";
import { matchesEvent, serializeReceivedEvent } from "../core/events.ts";
import { deserialize } from "../core/serializer.ts";
import type { RunId } from "../core/types.ts";
import type { EventRecord, NewRun } from "../store/store.ts";
import { idempotencyHolder } from "./idempotency-holder.ts";
import { pipelinedTransaction } from "./pipeline.ts";
import { insertRuns, lockAdvisory, lockKey, nextSeq, wakeRuns } from "./run-statements.ts";

/**
 * Stores the event once per id, creates the runs it triggers and resolves the waits it
 * matches (one per run), in one transaction.
 *
 * Race with a run suspending on this event: the suspension reads the buffered events and,
 * finding none, inserts its wait; this transaction inserts the event and reads the waits.
 * Under READ COMMITTED each could miss the other's uncommitted row and the run would wait
 * forever. Both therefore take an advisory lock on the event name first: whichever comes
 * second sees the first one's rows.
 */
export async function sendEvent(
  sql: Sql,
  event: EventRecord,
  starts: readonly NewRun[] = [],
): Promise<{ accepted: boolean; duplicate: boolean; woke: RunId[]; started: RunId[] }> {
  return pipelinedTransaction(sql, async (tx, send, commit) => {
    void send(lockAdvisory(tx, [lockKey.event(event.name)]));
    const inserted = send(tx`INSERT INTO events (id, name, data, created_at)
      VALUES (${event.id}, ${event.name}, ${event.data}, ${event.createdAt})
      ON CONFLICT DO NOTHING RETURNING id`);
    const waits = send(tx`SELECT run_id, position, alt, match FROM waits
      WHERE kind = 'event' AND name = ${event.name} ORDER BY run_id, position, alt`);
    if ((await inserted).length === 0) {
      return { accepted: true, duplicate: true, woke: [], started: [] };
    }
    // Before any run row is locked: a start that collides with another transaction's
    // insert of the same id (or key) waits for it, and must not hold run locks meanwhile.
    const fresh: NewRun[] = [];
    for (const run of starts) {
      if (!(await idempotencyHolder(tx, send, run))) fresh.push(run); // else its run stands
    }
    const started = fresh.length > 0 ? send(insertRuns(tx, fresh)) : null;
    const data = deserialize(event.data);
    const candidates = pickWaits(await waits, data);
    let woke: RunId[] = [];
    if (candidates.length > 0) {
      // No new wait for this event can appear (we hold its lock), but one can go away
      // (a timeout claimed, the run cancelled or finished) until the run row is ours:
      // lock the runs in id order, then read their waits again.
      const ids = candidates.map((w) => w.runId);
      void send(tx`SELECT 1 FROM runs WHERE id = ANY(${ids}::text[]) ORDER BY id FOR UPDATE`);
      const chosen = pickWaits(
        await send(tx`SELECT run_id, position, alt, match FROM waits
          WHERE kind = 'event' AND name = ${event.name} AND run_id = ANY(${ids}::text[])
          ORDER BY run_id, position, alt`),
        data,
      );
      if (chosen.length > 0) {
        const runIds = chosen.map((w) => w.runId);
        const positions = chosen.map((w) => w.position);
        // A waitForAny position (alt > 0) records which alternative won; its other
        // alternatives go with the position's waits below.
        const anyOutput = serializeAnyOutcome("event", event.name, event.data);
        const outputs = chosen.map((w) => (w.alt > 0 ? anyOutput : null));
        void send(tx`UPDATE steps SET status = 'completed',
            output = coalesce(v.output, ${serializeReceivedEvent(event)}), event_id = ${event.id},
            finished_at = ${event.createdAt}, ${tx.unsafe(nextSeq)}
          FROM unnest(${runIds}::text[], ${positions}::int[], ${outputs}::text[])
            AS v(run_id, position, output)
          WHERE steps.run_id = v.run_id AND steps.position = v.position
            AND steps.status = 'waiting'`);
        void send(tx`DELETE FROM waits w
          USING unnest(${runIds}::text[], ${positions}::int[]) AS v(run_id, position)
          WHERE w.run_id = v.run_id AND w.position = v.position`);
        void send(wakeRuns(tx, runIds, event.createdAt));
        woke = runIds as RunId[];
      }
    }
    await commit();
    const startedIds = started ? (await started).map((row) => row.id as RunId) : [];
    return { accepted: true, duplicate: false, woke, started: startedIds };
  });
}

/** The waits an event resolves: the first matching one of each run. */
function pickWaits(
  rows: readonly Record<string, unknown>[],
  data: unknown,
): { runId: string; position: number; alt: number }[] {
  const chosen = new Map<string, { position: number; alt: number }>();
  for (const row of rows) {
    const runId = row.run_id as string;
    if (chosen.has(runId)) continue; // one event resumes one wait per run
    const match = row.match ? (JSON.parse(row.match as string) as Record<string, unknown>) : null;
    if (matchesEvent(data, match)) {
      chosen.set(runId, { position: Number(row.position), alt: Number(row.alt) });
    }
  }
  return [...chosen].map(([runId, wait]) => ({ runId, ...wait }));
}
