import type { Sql } from "postgres";
import type { RunId } from "../core/types.ts";
import type { RunOutcome, RunRecord } from "../store/store.ts";
import { toRun } from "./rows.ts";

/**
 * Turns the payloads of the schema's ended-runs channel into `watchEnds` calls. A payload is
 * the run's id, or (migration 0015) the id, its status and its serialized outcome, separated
 * by the first two newlines (ids hold no control characters). No payload: the listener
 * restarted and may have missed ends.
 */
export function onEndNotice(
  onEnded: (runIds?: readonly RunId[], outcomes?: ReadonlyMap<RunId, RunOutcome>) => void,
): (payload?: string) => void {
  return (payload) => {
    if (payload === undefined) return onEnded();
    const { id, outcome } = parseEndNotice(payload);
    onEnded([id], outcome && new Map([[id, outcome]]));
  };
}

export function parseEndNotice(payload: string): { id: RunId; outcome?: RunOutcome } {
  const idEnd = payload.indexOf("\n");
  const statusEnd = idEnd < 0 ? -1 : payload.indexOf("\n", idEnd + 1);
  if (statusEnd < 0) return { id: payload as RunId };
  const id = payload.slice(0, idEnd) as RunId;
  const status = payload.slice(idEnd + 1, statusEnd);
  const body = payload.slice(statusEnd + 1);
  if (status === "completed") return { id, outcome: { status, output: body } };
  if (status === "failed") return { id, outcome: { status, error: body } };
  return { id };
}

/**
 * Asks for run `id`'s end to be announced, without a read: for a caller that reads the run
 * its own way (the event stream). A run that has ended already needs nothing.
 */
export async function announceEnd(sql: Sql, id: RunId): Promise<void> {
  await sql`UPDATE runs SET announce_end = true WHERE id = ${id} AND NOT announce_end
    AND status NOT IN ('completed', 'failed', 'cancelled')`;
}

/**
 * Reads a run and asks for its end to be announced, in one statement (a waiter's read and its
 * request were two round trips before every wait). The read is the statement's snapshot;
 * `announced` says whether the run's end will be announced: it already was to be (a run
 * created unclaimed), or the update asked for it. An update that waited for the row's lock
 * and found the run ended since asks nothing, and the snapshot still shows it running: then
 * `announced` is false and the caller reads again.
 */
export async function getRunAnnouncingEnd(
  sql: Sql,
  id: RunId,
): Promise<{ run: RunRecord | undefined; announced: boolean }> {
  const [row] = await sql`WITH asked AS (
      UPDATE runs SET announce_end = true WHERE id = ${id} AND NOT announce_end
        AND status NOT IN ('completed', 'failed', 'cancelled')
      RETURNING id
    )
    SELECT r.*, r.announce_end OR EXISTS (SELECT 1 FROM asked) AS announced
    FROM runs r WHERE r.id = ${id}`;
  if (!row) return { run: undefined, announced: false };
  const { announced, ...run } = row;
  return { run: toRun(run), announced: announced === true };
}
