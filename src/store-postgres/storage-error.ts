import { CairnError } from "../core/errors.ts";

/** SQLSTATE 53100 `disk_full`: PostgreSQL could not extend a file or write its WAL. */
const diskFull = "53100";

/**
 * A PostgreSQL error as callers need it: a full disk becomes `STORAGE_FULL` (the API's 503
 * "storage full", as on SQLite); anything else is returned as it is. PostgreSQL rolls back the
 * transaction that hit the full disk, so nothing of the write was kept; once space is freed
 * the same connections take writes again.
 */
export function postgresStorageError(error: unknown): unknown {
  if ((error as { code?: unknown } | null)?.code !== diskFull) return error;
  return new CairnError(
    "STORAGE_FULL",
    `PostgreSQL: the database server's disk is full (${(error as Error).message}); nothing of this write was kept, and writes resume by themselves once space is freed on the server.`,
    { cause: error },
  );
}
