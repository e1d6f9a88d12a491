import type { Sql } from "postgres";
import { postgresPath, scanLimitOf, whereCandidates } from "../store/run-where.ts";
import type { RunFilter, RunRecord, RunSearch } from "../store/store.ts";
import { toRun } from "./rows.ts";

/** Runs by filter, newest first, keyset-paginated; ascending by update for change feeds. */
export async function listRuns(sql: Sql, filter: RunFilter): Promise<RunRecord[]> {
  const condition = conditions(sql, filter);
  const order =
    filter.updatedAfter !== undefined ? sql`updated_at ASC, id ASC` : sql`created_at DESC, id DESC`;
  const rows = await sql`SELECT * FROM runs WHERE ${condition}
    ORDER BY ${order} LIMIT ${Math.min(filter.limit ?? 50, 1000)}`;
  return rows.map(toRun);
}

/**
 * Runs whose input/output JSON matches `filter.where`. No index covers arbitrary paths, so
 * the indexed fields pick at most `scanLimit` newest runs (the runs_*_created_at indexes,
 * run_tags) and `jsonb #>` checks only those; `scannedTo` tells where the scan stopped.
 * Payloads are stored as text: each examined one is parsed once by the cast.
 */
export async function searchRuns(sql: Sql, filter: RunFilter): Promise<RunSearch> {
  const condition = conditions(sql, filter);
  const scan = scanLimitOf(filter.scanLimit);
  const json = (filter.where ?? []).map((w) => {
    const [asString, literal] = whereCandidates(w);
    const column = sql(w.source);
    // Sent as text: a parameter the server types jsonb would be JSON-encoded once more.
    return sql`(${column}::jsonb #> ${postgresPath(w)}::text[]) IN (${asString}::text::jsonb, ${literal}::text::jsonb)`;
  });
  const matched = json.reduce((all, one) => sql`${all} AND ${one}`, sql`TRUE`);
  const rows = await sql`SELECT * FROM (SELECT * FROM runs WHERE ${condition}
      ORDER BY created_at DESC, id DESC LIMIT ${scan}) AS scanned
    WHERE ${matched} ORDER BY created_at DESC, id DESC LIMIT ${Math.min(filter.limit ?? 50, 1000)}`;
  const [edge] = await sql`SELECT created_at, id FROM runs WHERE ${condition}
    ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ${scan - 1}`;
  return {
    runs: rows.map(toRun),
    scannedTo: edge ? { createdAt: Number(edge.created_at), id: edge.id } : null,
  };
}

function conditions(sql: Sql, filter: RunFilter) {
  const where = [sql`TRUE`];
  if (filter.workflow !== undefined) where.push(sql`workflow = ${filter.workflow}`);
  if (filter.status !== undefined) where.push(sql`status = ${filter.status}`);
  if (filter.parentId !== undefined) where.push(sql`parent_id = ${filter.parentId}`);
  if (filter.createdAfter !== undefined)
    where.push(sql`created_at >= ${filter.createdAfter}::bigint`);
  if (filter.createdBefore !== undefined)
    where.push(sql`created_at < ${filter.createdBefore}::bigint`);
  if (filter.updatedAfter !== undefined)
    where.push(sql`updated_at > ${filter.updatedAfter}::bigint`);
  if (filter.before) {
    where.push(
      sql`(created_at, id) < (${filter.before.createdAt}::bigint, ${filter.before.id}::text)`,
    );
  }
  if (filter.idPrefix !== undefined) where.push(sql`starts_with(id, ${filter.idPrefix})`);
  for (const tag of filter.tags ?? []) {
    where.push(sql`EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id
      AND t.key = ${tag.key} AND t.value = ${tag.value})`);
  }
  return where.reduce((all, one) => sql`${all} AND ${one}`);
}
