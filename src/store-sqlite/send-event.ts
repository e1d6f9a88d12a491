import { serializeAnyOutcome } from "../core/any-outcome.ts";
import { matchesEvent, serializeReceivedEvent } from "../core/events.ts";
import { deserialize } from "../core/serializer.ts";
import type { RunId } from "../core/types.ts";
import type { EventRecord, NewRun } from "../store/store.ts";
import { idempotencyHolder } from "./idempotency-holder.ts";
import { newRunParams } from "./rows.ts";
import type { Statements } from "./statements.ts";

/**
 * Records an event inside the caller's write transaction (a duplicate id is a no-op), starts
 * the runs its triggers made, and resolves the waits it matches: one wait per run.
 */
export function sendEvent(sql: Statements, event: EventRecord, starts: readonly NewRun[]) {
  const inserted = sql.insertEvent.run(event.id, event.name, event.data, event.createdAt);
  if (inserted.changes === 0) {
    return { accepted: true, duplicate: true, woke: [] as RunId[], started: [] as RunId[] };
  }
  const started: RunId[] = [];
  for (const run of starts) {
    if (idempotencyHolder(sql, run)) continue; // the key's run within its window stands
    if (sql.insertRun.get(newRunParams(run, undefined))) started.push(run.id);
  }
  const data = deserialize(event.data);
  const payload = serializeReceivedEvent(event);
  const woke = new Set<RunId>();
  const waits = sql.waitsForEvent.all(event.name) as {
    run_id: RunId;
    position: number;
    alt: number;
    match: string | null;
  }[];
  for (const wait of waits) {
    if (woke.has(wait.run_id)) continue; // one event resumes one wait per run
    if (!matchesEvent(data, wait.match ? JSON.parse(wait.match) : null)) continue;
    // The other alternatives of a waitForAny go with the position's waits below.
    sql.resolveEventEntry.run(
      wait.alt > 0 ? serializeAnyOutcome("event", event.name, event.data) : payload,
      event.id,
      event.createdAt,
      wait.run_id,
      wait.position,
    );
    sql.deleteWait.run(wait.run_id, wait.position);
    sql.wakeRun.run(event.createdAt, event.createdAt, wait.run_id);
    woke.add(wait.run_id);
  }
  return { accepted: true, duplicate: false, woke: [...woke], started };
}
