import type { Sql } from "postgres";
import type { RunFilter, RunRecord } from "../store/store.ts";
import { toRun } from "./rows.ts";

/** Runs by filter, newest first, keyset-paginated; ascending by update for change feeds. */
export async function listRuns(sql: Sql, filter: RunFilter): Promise<RunRecord[]> {
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
  const condition = where.reduce((all, one) => sql`${all} AND ${one}`);
  const order =
    filter.updatedAfter !== undefined ? sql`updated_at ASC, id ASC` : sql`created_at DESC, id DESC`;
  const rows = await sql`SELECT * FROM runs WHERE ${condition}
    ORDER BY ${order} LIMIT ${Math.min(filter.limit ?? 50, 1000)}`;
  return rows.map(toRun);
}
