import { createHash } from "node:crypto";
import { maxNameLength } from "../core/names.ts";
import type { RunId } from "../core/types.ts";

/**
 * The id of the child a ctx.invoke starts: `parent/step`, e.g. `order-1/ship`. Past 256
 * characters (long names, deep nesting) it keeps its start and ends in a hash of the whole
 * (`~` and 16 hex digits): PostgreSQL's index refuses keys of more than about 2.7 kB, which
 * 32 levels of 256-character names would pass, while SQLite takes them. The same parent and
 * step always give the same id, so a child started twice (a crash in between) is one run.
 */
export function childRunId(parentId: RunId, stepKey: string): RunId {
  const id = `${parentId}/${stepKey}`;
  if (id.length <= maxNameLength) return id as RunId;
  const hash = createHash("sha256").update(id).digest("hex").slice(0, 16);
  let head = id.slice(0, maxNameLength - hash.length - 1);
  // Never cut a surrogate pair in two: half of one is what no store can hold.
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  return `${head}~${hash}` as RunId;
}
