import { nameProblem } from "../core/names.ts";
import type { RunId } from "../core/types.ts";
import { HttpProblem } from "./problems.ts";

/** Where a page of runs ended: the keyset `(createdAt, id)` of its last run. */
export interface RunCursor {
  createdAt: number;
  id: RunId;
}

/**
 * Cursors are opaque to clients (base64url of a small JSON array) so the keyset behind them
 * can change without breaking anyone who just echoes `nextCursor`.
 */
export function encodeCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id]), "utf8").toString("base64url");
}

/** @throws HttpProblem `invalid_cursor` for anything `encodeCursor` did not make. */
export function decodeCursor(text: string): RunCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  // The id goes into the keyset query: one no store can hold (a NUL) is no cursor of ours.
  // Any length: a child run's id (`parent/step`) can pass 256 characters.
  if (
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isSafeInteger(value[0]) &&
    nameProblem(value[1], Number.POSITIVE_INFINITY) === undefined
  ) {
    return { createdAt: value[0] as number, id: value[1] as RunId };
  }
  throw new HttpProblem(
    "invalid_cursor",
    "The cursor is not one this API returned; pass `nextCursor` from the previous page unchanged.",
  );
}
