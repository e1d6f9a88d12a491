import type { ReservedSql } from "postgres";
import { matchesEvent, serializeReceivedEvent } from "../core/events.ts";
import { deserialize } from "../core/serializer.ts";
import { isTerminal, type RunStatus } from "../core/types.ts";
import type { JournalOp, WaitRegistration } from "../store/store.ts";
import type { Send } from "./pipeline.ts";
import { toEvent } from "./rows.ts";
import { nextSeq, unblock, wakeChannel } from "./run-statements.ts";
import { suspendOnAny } from "./suspend-on-any.ts";

export { eventNamesOf } from "./suspend-on-any.ts";
/** A sleep among a suspension's waits (the batch registers those with one statement). */
export type SleepWait = Extract<WaitRegistration, { kind: "sleep" }>;

type Op<K extends JournalOp["type"]> = Extract<JournalOp, { type: K }>;

/**
 * A suspension that also waits for an event, a signal or a child, one wait after another
 * as SQLite's `registerWait` does: record the `waiting` entry, then resolve it at once from
 * buffered input (an event that arrived after the run began, an unconsumed signal, a
 * finished child) or register the wait. Reads are pipelined with the entry's insert, so a
 * wait costs one round trip; writes are sent without waiting. The run row is locked (by
 * `lockRuns`) and so are the events it waits for (by `lockAdvisory`): no signal, event or
 * child result can slip in between the read and the registration.
 */
export async function suspendOnInput(
  tx: ReservedSql,
  send: Send,
  op: Op<"suspend">,
  runCreatedAt: number,
): Promise<RunStatus> {
  let resolved = false;
  for (const wait of op.waits) {
    if (wait.kind === "retry") continue; // only the run's available_at waits for it
    if (wait.kind === "any") {
      if (await suspendOnAny(tx, send, op, wait, runCreatedAt)) resolved = true;
      continue;
    }
    const detail =
      wait.kind === "event"
        ? JSON.stringify({ event: wait.event, match: wait.match })
        : wait.kind === "signal"
          ? JSON.stringify({ signal: wait.signal })
          : wait.kind === "invoke"
            ? JSON.stringify({ childId: wait.childId })
            : null;
    const wakeAt =
      wait.kind === "sleep" ? wait.wakeAt : wait.kind === "invoke" ? null : wait.timeoutAt;
    void send(tx`INSERT INTO steps (run_id, position, key, kind, status, started_at, wake_at, detail)
      VALUES (${op.runId}, ${wait.position}, ${wait.key}, ${wait.kind}, 'waiting', ${op.at},
        ${wakeAt}, ${detail})
      ON CONFLICT (run_id, position) DO NOTHING`);
    const entry = send(
      tx`SELECT status FROM steps WHERE run_id = ${op.runId} AND position = ${wait.position}`,
    );
    const input =
      wait.kind === "event"
        ? send(tx`SELECT id, name, data, created_at FROM events
            WHERE name = ${wait.event} AND created_at >= ${runCreatedAt}
              AND id NOT IN (SELECT event_id FROM steps
                WHERE run_id = ${op.runId} AND event_id IS NOT NULL)
            ORDER BY created_at, seq`)
        : wait.kind === "signal"
          ? send(tx`SELECT seq, payload FROM signals
              WHERE run_id = ${op.runId} AND name = ${wait.signal} AND consumed_at IS NULL
              ORDER BY seq LIMIT 1`)
          : wait.kind === "invoke"
            ? // The last run of the child's chain: a child may have continued as new.
              send(tx`WITH RECURSIVE chain AS (
                  SELECT status, output, error, continued_to FROM runs WHERE id = ${wait.childId}
                  UNION ALL SELECT r.status, r.output, r.error, r.continued_to
                  FROM runs r JOIN chain ON r.id = chain.continued_to)
                SELECT status, output, error FROM chain WHERE continued_to IS NULL`)
            : null;
    const [current] = await entry;
    if (current?.status !== "waiting") {
      resolved = true;
      continue;
    }
    const rows = input ? await input : [];
    switch (wait.kind) {
      case "sleep":
        break;
      case "event": {
        const event = rows.map(toEvent).find((e) => matchesEvent(deserialize(e.data), wait.match));
        if (event) {
          void send(tx`UPDATE steps SET status = 'completed', output = ${serializeReceivedEvent(event)},
              event_id = ${event.id}, finished_at = ${op.at}, ${tx.unsafe(nextSeq)}
            WHERE run_id = ${op.runId} AND position = ${wait.position} AND status = 'waiting'`);
          resolved = true;
        } else {
          void send(
            insertWait(tx, op, wait.position, "event", wait.event, JSON.stringify(wait.match)),
          );
        }
        break;
      }
      case "signal": {
        const signal = rows[0];
        if (signal) {
          void send(tx`UPDATE signals SET consumed_at = ${op.at} WHERE seq = ${signal.seq}`);
          void send(tx`UPDATE steps SET status = 'completed', output = ${signal.payload}, error = NULL,
              finished_at = ${op.at}, ${tx.unsafe(nextSeq)}
            WHERE run_id = ${op.runId} AND position = ${wait.position} AND status = 'waiting'`);
          resolved = true;
        } else {
          void send(insertWait(tx, op, wait.position, "signal", wait.signal, null));
        }
        break;
      }
      case "invoke": {
        const child = rows[0];
        if (child && isTerminal(child.status as RunStatus)) {
          void send(tx`UPDATE steps SET status = ${child.status === "completed" ? "completed" : "failed"},
              output = ${child.output}, error = ${child.error}, finished_at = ${op.at},
              ${tx.unsafe(nextSeq)}
            WHERE run_id = ${op.runId} AND position = ${wait.position} AND status = 'waiting'`);
          resolved = true;
        }
        break;
      }
    }
  }
  const status: RunStatus = resolved ? "queued" : "waiting";
  void send(tx`WITH u AS (
      UPDATE runs SET status = ${status}, available_at = ${resolved ? op.at : op.availableAt},
        updated_at = ${op.at}, lease_owner = NULL
      WHERE id = ${op.runId}
      RETURNING id, status, workflow, concurrency_key, concurrency_limit, updated_at AS at
    ), ${unblock(tx, "u", "u")}
    SELECT (SELECT count(*) FROM (SELECT pg_notify(${tx.unsafe(wakeChannel)}, workflow)
        FROM (SELECT workflow FROM u WHERE status = 'queued'
          UNION SELECT workflow FROM unblocked) AS w) AS n) AS notified`);
  return status;
}

/** Registers a wait for outside input (SQLite's `INSERT OR REPLACE`). */
function insertWait(
  tx: ReservedSql,
  op: Op<"suspend">,
  position: number,
  kind: "event" | "signal",
  name: string,
  match: string | null,
) {
  return tx`INSERT INTO waits (run_id, position, kind, name, match, created_at)
    VALUES (${op.runId}, ${position}, ${kind}, ${name}, ${match}, ${op.at})
    ON CONFLICT (run_id, position, alt) DO UPDATE SET kind = excluded.kind, name = excluded.name,
      match = excluded.match, created_at = excluded.created_at`;
}
