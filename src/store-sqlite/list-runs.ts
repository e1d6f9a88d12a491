import type Database from "better-sqlite3";
import type { RunFilter, RunRecord } from "../store/store.ts";
import { toRun } from "./rows.ts";

/** Runs by filter, newest first, keyset-paginated; ascending by update for change feeds. */
export function listRuns(db: Database.Database, filter: RunFilter): RunRecord[] {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: Math.min(filter.limit ?? 50, 1000) };
  if (filter.workflow !== undefined) {
    where.push("workflow = @workflow");
    params.workflow = filter.workflow;
  }
  if (filter.status !== undefined) {
    where.push("status = @status");
    params.status = filter.status;
  }
  if (filter.parentId !== undefined) {
    where.push("parent_id = @parentId");
    params.parentId = filter.parentId;
  }
  if (filter.createdAfter !== undefined) {
    where.push("created_at >= @createdAfter");
    params.createdAfter = filter.createdAfter;
  }
  if (filter.createdBefore !== undefined) {
    where.push("created_at < @createdBefore");
    params.createdBefore = filter.createdBefore;
  }
  if (filter.updatedAfter !== undefined) {
    where.push("updated_at > @updatedAfter");
    params.updatedAfter = filter.updatedAfter;
  }
  if (filter.before) {
    where.push("(created_at, id) < (@cursorAt, @cursorId)");
    params.cursorAt = filter.before.createdAt;
    params.cursorId = filter.before.id;
  }
  if (filter.idPrefix !== undefined) {
    where.push("id >= @idPrefix AND substr(id, 1, length(@idPrefix)) = @idPrefix");
    params.idPrefix = filter.idPrefix;
  }
  for (const [i, tag] of (filter.tags ?? []).entries()) {
    where.push(
      `EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.key = @tagKey${i} AND t.value = @tagValue${i})`,
    );
    params[`tagKey${i}`] = tag.key;
    params[`tagValue${i}`] = tag.value;
  }
  const order =
    filter.updatedAfter !== undefined ? "updated_at ASC, id ASC" : "created_at DESC, id DESC";
  const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY ${order} LIMIT @limit`;
  return db.prepare(sql).all(params).map(toRun);
}
