import type Database from "better-sqlite3";
import { scanLimitOf, sqlitePath, whereCandidates } from "../store/run-where.ts";
import type { RunFilter, RunRecord, RunSearch } from "../store/store.ts";
import { toRun } from "./rows.ts";

/** Runs by filter, newest first, keyset-paginated; ascending by update for change feeds. */
export function listRuns(db: Database.Database, filter: RunFilter): RunRecord[] {
  const { where, params } = conditions(filter);
  const order =
    filter.updatedAfter !== undefined ? "updated_at ASC, id ASC" : "created_at DESC, id DESC";
  const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY ${order} LIMIT (SELECT @limit)`;
  return db.prepare(sql).all(params).map(toRun);
}

/**
 * Runs whose input/output JSON matches `filter.where`. No index covers arbitrary paths, so
 * the indexed fields pick at most `scanLimit` newest runs (the runs_*_created_at indexes,
 * run_tags) and `json_extract` checks only those; `scannedTo` tells where the scan stopped.
 */
export function searchRuns(db: Database.Database, filter: RunFilter): RunSearch {
  const { where, params } = conditions(filter);
  const indexed = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const scan = scanLimitOf(filter.scanLimit);
  const json = (filter.where ?? []).map((w, i) => {
    const [asString, literal] = whereCandidates(w);
    params[`wherePath${i}`] = sqlitePath(w);
    params[`whereString${i}`] = asString;
    params[`whereLiteral${i}`] = literal;
    // `->` gives the value as JSON text (minified), comparable to the candidates.
    return `(${w.source} -> @wherePath${i}) IN (@whereString${i}, @whereLiteral${i})`;
  });
  const rows = db
    .prepare(
      `SELECT * FROM (SELECT * FROM runs ${indexed} ORDER BY created_at DESC, id DESC LIMIT ${scan})
      ${json.length ? `WHERE ${json.join(" AND ")}` : ""}
      ORDER BY created_at DESC, id DESC LIMIT (SELECT @limit)`,
    )
    .all(params)
    .map(toRun);
  const edge = db
    .prepare(
      `SELECT created_at, id FROM runs ${indexed}
      ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ${scan - 1}`,
    )
    .get(params) as { created_at: number; id: RunRecord["id"] } | undefined;
  return { runs: rows, scannedTo: edge ? { createdAt: edge.created_at, id: edge.id } : null };
}

function conditions(filter: RunFilter): { where: string[]; params: Record<string, unknown> } {
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
  return { where, params };
}
