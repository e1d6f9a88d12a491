import type { ReservedSql } from "postgres";
import { serializeAnyOutcome } from "../core/any-outcome.ts";
import { matchesEvent } from "../core/events.ts";
import { deserialize } from "../core/serializer.ts";
import type { JournalOp, WaitRegistration } from "../store/store.ts";
import type { Send } from "./pipeline.ts";
import { toEvent } from "./rows.ts";
import { nextSeq } from "./run-statements.ts";

type AnyWait = Extract<WaitRegistration, { kind: "any" }>;
type Suspend = Extract<JournalOp, { type: "suspend" }>;

/** The event names a wait listens to: their advisory locks are taken before the run's row. */
export function eventNamesOf(wait: WaitRegistration): string[] {
  if (wait.kind === "event") return [wait.event];
  if (wait.kind === "any") return wait.events.map((e) => e.event);
  return [];
}

/**
 * Suspends a `ctx.waitForAny` position, as SQLite's `registerAnyWait` does: records the
 * `waiting` entry, then resolves it with the earliest buffered input among its alternatives
 * (events before signals on a tie, then in declared order), or registers one `waits` row per
 * alternative (`alt` 1…n). The caller holds the advisory locks of every event named (see
 * `eventNamesOf`) and the run's row, which `sendEvent` and `sendSignal` take too: an input
 * sent meanwhile is either read here or finds the registered rows. Returns true when resolved.
 */
export async function suspendOnAny(
  tx: ReservedSql,
  send: Send,
  op: Suspend,
  wait: AnyWait,
  runCreatedAt: number,
): Promise<boolean> {
  const detail = JSON.stringify({ events: wait.events, signals: wait.signals });
  void send(tx`INSERT INTO steps (run_id, position, key, kind, status, started_at, wake_at, detail)
    VALUES (${op.runId}, ${wait.position}, ${wait.key}, 'any', 'waiting', ${op.at},
      ${wait.timeoutAt}, ${detail})
    ON CONFLICT (run_id, position) DO NOTHING`);
  const entry = send(
    tx`SELECT status FROM steps WHERE run_id = ${op.runId} AND position = ${wait.position}`,
  );
  const events = wait.events.map(({ event }) =>
    send(tx`SELECT id, name, data, created_at FROM events
      WHERE name = ${event} AND created_at >= ${runCreatedAt}
        AND id NOT IN (SELECT event_id FROM steps
          WHERE run_id = ${op.runId} AND event_id IS NOT NULL)
      ORDER BY created_at, seq`),
  );
  const signals = wait.signals.map((name) =>
    send(tx`SELECT seq, payload, created_at FROM signals
      WHERE run_id = ${op.runId} AND name = ${name} AND consumed_at IS NULL
      ORDER BY seq LIMIT 1`),
  );
  const [current] = await entry;
  if (current?.status !== "waiting") return true;

  let best: { at: number; resolve: () => void } | undefined;
  const offer = (arrivedAt: number, resolve: () => void) => {
    if (!best || arrivedAt < best.at) best = { at: arrivedAt, resolve };
  };
  for (const [i, { match }] of wait.events.entries()) {
    const rows = (await events[i]) ?? [];
    const event = rows.map(toEvent).find((e) => matchesEvent(deserialize(e.data), match));
    if (!event) continue;
    offer(event.createdAt, () => {
      const output = serializeAnyOutcome("event", event.name, event.data);
      void send(tx`UPDATE steps SET status = 'completed', output = ${output},
          event_id = ${event.id}, finished_at = ${op.at}, ${tx.unsafe(nextSeq)}
        WHERE run_id = ${op.runId} AND position = ${wait.position} AND status = 'waiting'`);
    });
  }
  for (const [i, name] of wait.signals.entries()) {
    const [signal] = (await signals[i]) ?? [];
    if (!signal) continue;
    offer(Number(signal.created_at), () => {
      const output = serializeAnyOutcome("signal", name, signal.payload as string | null);
      void send(tx`UPDATE signals SET consumed_at = ${op.at} WHERE seq = ${signal.seq}`);
      void send(tx`UPDATE steps SET status = 'completed', output = ${output}, error = NULL,
          finished_at = ${op.at}, ${tx.unsafe(nextSeq)}
        WHERE run_id = ${op.runId} AND position = ${wait.position} AND status = 'waiting'`);
    });
  }
  if (best) {
    best.resolve();
    return true;
  }
  const alternatives = [
    ...wait.events.map((e) => ({ kind: "event", name: e.event, match: JSON.stringify(e.match) })),
    ...wait.signals.map((name) => ({ kind: "signal", name, match: null as string | null })),
  ];
  void send(tx`INSERT INTO waits (run_id, position, alt, kind, name, match, created_at)
    SELECT ${op.runId}, ${wait.position}, v.alt, v.kind, v.name, v.match, ${op.at}
    FROM unnest(${alternatives.map((_, i) => i + 1)}::int[],
      ${alternatives.map((a) => a.kind)}::text[], ${alternatives.map((a) => a.name)}::text[],
      ${alternatives.map((a) => a.match)}::text[]) AS v(alt, kind, name, match)
    ON CONFLICT (run_id, position, alt) DO UPDATE SET kind = excluded.kind,
      name = excluded.name, match = excluded.match, created_at = excluded.created_at`);
  return false;
}
