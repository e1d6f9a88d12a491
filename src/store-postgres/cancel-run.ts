import type { Sql } from "postgres";
import { CairnError } from "../core/errors.ts";
import { isTerminal, type RunId, type RunStatus } from "../core/types.ts";
import { pipelinedTransaction } from "./pipeline.ts";
import { clearUnblocked, nextSeq, unblock, wakeChannel } from "./run-statements.ts";

/**
 * Cancels a run and its descendants and bumps their fencing tokens, so their workers are
 * fenced at their next write or heartbeat. The tree's concurrency slots, then its rows
 * (and the root's parent's, whose `invoke` entry fails) are locked first, in the global
 * order: a batch writing for one of these runs either commits first (and its run is then
 * cancelled) or is fenced.
 */
export async function cancelRun(sql: Sql, id: RunId, error: string, at: number): Promise<RunId[]> {
  return pipelinedTransaction(sql, async (tx, send, commit) => {
    void send(tx`WITH RECURSIVE tree (id) AS (
        SELECT id FROM runs WHERE id = ${id}
        UNION ALL SELECT runs.id FROM runs JOIN tree ON runs.parent_id = tree.id
      )
      SELECT pg_advisory_xact_lock(k) FROM (
        SELECT DISTINCT hashtext(current_schema() || ':slot:' || workflow || chr(31)
          || coalesce(concurrency_key, '')) AS k
        FROM runs WHERE id IN (SELECT id FROM tree) AND concurrency_limit IS NOT NULL
        ORDER BY k) AS keys`);
    const rows = await send(tx`WITH RECURSIVE tree (id) AS (
        SELECT id FROM runs WHERE id = ${id}
        UNION ALL SELECT runs.id FROM runs JOIN tree ON runs.parent_id = tree.id
      ), targets (id, in_tree) AS (
        SELECT id, TRUE FROM tree
        UNION ALL SELECT parent_id, FALSE FROM runs WHERE id = ${id} AND parent_id IS NOT NULL
      )
      SELECT runs.id, runs.status, runs.parent_id, runs.parent_position, targets.in_tree
      FROM runs JOIN targets ON targets.id = runs.id
      ORDER BY runs.id FOR UPDATE OF runs`);
    const root = rows.find((row) => row.id === id && row.in_tree);
    if (!root) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
    const tree = rows.filter((row) => row.in_tree).map((row) => row.id as string);
    const cancelled = send(tx`WITH c AS (
        UPDATE runs SET status = 'cancelled', error = ${error}, finished_at = ${at},
          updated_at = ${at}, available_at = NULL, lease_owner = NULL,
          fencing_token = fencing_token + 1
        WHERE id = ANY(${tree}::text[]) AND status NOT IN ('completed', 'failed', 'cancelled')
        RETURNING id, workflow, concurrency_key, concurrency_limit, ${at}::bigint AS at
      ), cleared AS (
        DELETE FROM waits USING c WHERE waits.run_id = c.id
      ), ${unblock(tx, "c", "c")}
      SELECT id, (SELECT count(*) FROM (SELECT pg_notify(${tx.unsafe(wakeChannel)}, workflow)
        FROM unblocked) AS n) AS notified FROM c`);
    void send(clearUnblocked(tx));
    if (!isTerminal(root.status as RunStatus) && root.parent_id && root.parent_position !== null) {
      // The parent awaiting this run sees it fail with the cancellation error.
      void send(tx`WITH resolved AS (
          UPDATE steps SET status = 'failed', output = NULL, error = ${error}, finished_at = ${at},
            ${tx.unsafe(nextSeq)}
          WHERE run_id = ${root.parent_id} AND position = ${root.parent_position}
            AND status = 'waiting'
          RETURNING run_id
        )
        UPDATE runs SET status = 'queued', available_at = ${at}, updated_at = ${at}
        WHERE id IN (SELECT run_id FROM resolved) AND status = 'waiting'
        RETURNING pg_notify(${tx.unsafe(wakeChannel)}, workflow) AS notified`);
    }
    await commit();
    return (await cancelled).map((row) => row.id as RunId);
  });
}
