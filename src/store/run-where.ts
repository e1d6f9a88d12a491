import type { RunWhere } from "./store.ts";

/** Runs a `where` search examines per call unless told otherwise, and at most. */
export const defaultScanLimit = 10_000;
export const maxScanLimit = 100_000;

export function scanLimitOf(limit: number | undefined): number {
  return Math.max(1, Math.min(limit ?? defaultScanLimit, maxScanLimit));
}

/**
 * The JSON texts a condition's value matches: the string itself, and the literal it spells
 * when that is a number, boolean or null (`total:17` finds `17` and `"17"`).
 */
export function whereCandidates(where: RunWhere): [string, string] {
  // The source becomes a column name in the query: never anything but these two.
  if (where.source !== "input" && where.source !== "output") {
    throw new TypeError(`A where condition searches "input" or "output", not ${where.source}.`);
  }
  const asString = JSON.stringify(where.value);
  let literal = asString;
  try {
    const parsed: unknown = JSON.parse(where.value);
    if (parsed === null || typeof parsed === "number" || typeof parsed === "boolean") {
      literal = JSON.stringify(parsed);
    }
  } catch {
    // not a literal: the string alone
  }
  return [asString, literal];
}

/**
 * The SQLite JSON path of a condition inside a stored payload (serialized as
 * `{ json, meta }`): `$.json."customer"."id"`, `[0]` for an index. Keys are quoted; the
 * parser already refused quotes and backslashes in them.
 */
export function sqlitePath(where: RunWhere): string {
  return `$.json${where.path.map((p) => (typeof p === "number" ? `[${p}]` : `."${p}"`)).join("")}`;
}

/** The PostgreSQL `#>` path of a condition: `{json,customer,id}` as a text array. */
export function postgresPath(where: RunWhere): string[] {
  return ["json", ...where.path.map(String)];
}
