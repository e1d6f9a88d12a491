import { checkLookupId, checkName } from "../core/names.ts";
import type { RunFilter } from "../store/store.ts";
import { checkTags } from "./check-tags.ts";

/**
 * The names in a run filter go into the query's parameters: one PostgreSQL cannot hold
 * (a NUL) would fail the query there and match nothing on SQLite; refused on both instead.
 */
export function checkRunFilter(filter: RunFilter): RunFilter {
  if (filter.workflow !== undefined) checkName("workflow name", filter.workflow);
  if (filter.parentId !== undefined) checkLookupId("run id", filter.parentId);
  if (filter.before !== undefined) checkLookupId("run id", filter.before.id);
  if (filter.idPrefix !== undefined) checkName("idPrefix", filter.idPrefix);
  if (filter.tags !== undefined)
    checkTags(Object.fromEntries(filter.tags.map((t) => [t.key, t.value])));
  return filter;
}
