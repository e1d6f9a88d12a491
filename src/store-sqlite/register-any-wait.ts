import { serializeAnyOutcome } from "../core/any-outcome.ts";
import { matchesEvent } from "../core/events.ts";
import { deserialize } from "../core/serializer.ts";
import type { RunId } from "../core/types.ts";
import type { WaitRegistration } from "../store/store.ts";
import type { Statements } from "./statements.ts";

type AnyWait = Extract<WaitRegistration, { kind: "any" }>;

/**
 * Suspends a `ctx.waitForAny` position (inside the commit's immediate transaction, so no
 * event or signal can come between the look and the registration): records its `waiting`
 * entry, then resolves it at once with the earliest buffered input among its alternatives,
 * or registers one `waits` row per alternative (`alt` 1…n). Returns true when resolved.
 *
 * Buffered input: events sent after the run began that this run has not consumed, and
 * signals not consumed. The first to arrive wins (events before signals on a tie, then in
 * the order declared); the signals not chosen stay buffered for later waits.
 */
export function registerAnyWait(sql: Statements, runId: RunId, wait: AnyWait, at: number): boolean {
  const detail = JSON.stringify({ events: wait.events, signals: wait.signals });
  sql.insertWaitingEntry.run(runId, wait.position, wait.key, "any", at, wait.timeoutAt, detail);
  const entry = sql.getEntryStatus.get(runId, wait.position) as { status: string };
  if (entry.status !== "waiting") return true;

  let best: { at: number; resolve: () => void } | undefined;
  const offer = (arrivedAt: number, resolve: () => void) => {
    if (!best || arrivedAt < best.at) best = { at: arrivedAt, resolve };
  };
  const createdAt = (sql.getRunCreatedAt.get(runId) as { created_at: number }).created_at;
  for (const { event, match } of wait.events) {
    for (const row of sql.bufferedEvents.all(event, createdAt, runId)) {
      const record = row as { id: string; name: string; data: string | null; created_at: number };
      if (!matchesEvent(deserialize(record.data), match)) continue;
      offer(record.created_at, () => {
        const output = serializeAnyOutcome("event", record.name, record.data);
        sql.resolveEventEntry.run(output, record.id, at, runId, wait.position);
      });
      break;
    }
  }
  for (const name of wait.signals) {
    const signal = sql.oldestSignal.get(runId, name) as
      | { seq: number; payload: string | null; created_at: number }
      | undefined;
    if (!signal) continue;
    offer(signal.created_at, () => {
      sql.consumeSignal.run(at, signal.seq);
      const output = serializeAnyOutcome("signal", name, signal.payload);
      sql.resolveEntry.run("completed", output, null, at, runId, wait.position);
    });
  }
  if (best) {
    best.resolve();
    return true;
  }
  let alt = 0;
  for (const { event, match } of wait.events) {
    sql.insertAnyWait.run(runId, wait.position, ++alt, "event", event, JSON.stringify(match), at);
  }
  for (const name of wait.signals) {
    sql.insertAnyWait.run(runId, wait.position, ++alt, "signal", name, null, at);
  }
  return false;
}
