import type { z } from "@hono/zod-openapi";
import type { RunFilter } from "../store/store.ts";
import { parseTimestamp } from "./schemas.ts";
import type { RunSelection } from "./schemas-ui.ts";

type Selection = Partial<z.infer<typeof RunSelection>>;

/** A run filter from the UI's selection fields (`from`/`to`, `tag=key:value`, `idPrefix`). */
export function toRunFilter(selection: Selection): Omit<RunFilter, "limit" | "before"> {
  const filter: Omit<RunFilter, "limit" | "before"> = {};
  if (selection.workflow !== undefined) filter.workflow = selection.workflow;
  if (selection.status !== undefined) filter.status = selection.status;
  if (selection.from !== undefined) filter.createdAfter = parseTimestamp(selection.from);
  if (selection.to !== undefined) filter.createdBefore = parseTimestamp(selection.to);
  if (selection.idPrefix !== undefined) filter.idPrefix = selection.idPrefix;
  const tags = selection.tag === undefined ? [] : [selection.tag].flat();
  if (tags.length > 0) {
    filter.tags = tags.map((tag) => {
      const at = tag.indexOf(":");
      return { key: tag.slice(0, at), value: tag.slice(at + 1) };
    });
  }
  return filter;
}
