import { CairnError } from "../core/errors.ts";
import type { Store } from "../store/store.ts";
import { PostgresStore } from "../store-postgres/postgres-store.ts";
import { SqliteStore, type SqliteStoreOptions } from "../store-sqlite/sqlite-store.ts";

// Its own module so the CLI's configuration reads it without loading the store drivers.
export { defaultDatabaseUrl } from "./default-database-url.ts";

/**
 * Opens the store a database URL names: `sqlite:path/to/file.db` (or a bare path ending in
 * `.db`/`.sqlite`), `sqlite::memory:`, or `postgres://user@host:5432/name` (optionally
 * `?schema=name`; the schema and its tables are created and migrated on open).
 */
/** A database URL safe to print: its password replaced. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

export async function openStore(url: string, sqlite: SqliteStoreOptions = {}): Promise<Store> {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "")
      throw new CairnError("INVALID_ARGUMENT", `Database URL "${url}" names no file.`);
    return new SqliteStore(path, sqlite);
  }
  if (/^postgres(ql)?:\/\//.test(url)) return PostgresStore.open({ url });
  if (/\.(db|sqlite3?)$/.test(url)) return new SqliteStore(url, sqlite);
  throw new CairnError(
    "INVALID_ARGUMENT",
    `Database URL "${redactUrl(url)}" is not understood: use "sqlite:path/to/file.db" or "postgres://user@host:5432/name".`,
  );
}
