import { CairnError } from "../core/errors.ts";
import { isConnectionError } from "./guarded-reservation.ts";

/** SQLSTATE 53100 `disk_full`: PostgreSQL could not extend a file or write its WAL. */
const diskFull = "53100";
/** SQLSTATE 53300 `too_many_connections`: every connection slot of the server is taken. */
const tooManyConnections = "53300";

/**
 * A PostgreSQL error as callers need it, once its retries are spent:
 * - a full disk becomes `STORAGE_FULL` (the API's 503 "storage full", as on SQLite).
 *   PostgreSQL rolls back the transaction that hit the full disk, so nothing of the write
 *   was kept; once space is freed the same connections take writes again;
 * - a server that cannot be reached or has no connection slot left becomes
 *   `STORE_UNAVAILABLE` (the API's 503 with Retry-After), not an unexplained 500;
 * anything else is returned as it is.
 */
export function postgresStorageError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === diskFull) {
    return new CairnError(
      "STORAGE_FULL",
      `PostgreSQL: the database server's disk is full (${(error as Error).message}); nothing of this write was kept, and writes resume by themselves once space is freed on the server.`,
      { cause: error },
    );
  }
  if (CairnError.is(error)) return error;
  if (code === tooManyConnections || isConnectionError(error)) {
    return new CairnError(
      "STORE_UNAVAILABLE",
      `PostgreSQL cannot take this request now (${(error as Error).message}); nothing of it was kept. Retry later.`,
      { cause: error },
    );
  }
  return error;
}
