import { CairnError } from "../core/errors.ts";
import { redactUrl } from "../core/redact.ts";
import type { PostgresStore } from "../store-postgres/postgres-store.ts";
import type { SqliteStore, SqliteStoreOptions } from "../store-sqlite/sqlite-store.ts";
import { sqliteFileProblem } from "./sqlite-file-problem.ts";

export { redactUrl } from "../core/redact.ts";
// Its own module so the CLI's configuration reads it without loading the store drivers.
export { defaultDatabaseUrl } from "./default-database-url.ts";

/**
 * A store Cairn ships: a `Store` for the engine, plus the API tokens (`tokens`) that
 * whoever builds the HTTP server hands to it (tokens are the server's port, not the engine's).
 */
export type BundledStore = SqliteStore | PostgresStore;

/**
 * Opens the store a database URL names: `sqlite:path/to/file.db` (or a bare path ending in
 * `.db`/`.sqlite`), `sqlite::memory:`, or `postgres://user@host:5432/name` (optionally
 * `?schema=name`; the schema and its tables are created and migrated on open). Each driver
 * is imported only when its URL is opened: a SQLite user never loads postgres.js, nor a
 * PostgreSQL user better-sqlite3's native module.
 */
export async function openStore(
  url: string,
  sqlite: SqliteStoreOptions = {},
): Promise<BundledStore> {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "")
      throw new CairnError("INVALID_ARGUMENT", `Database URL "${url}" names no file.`);
    return openSqlite(path, sqlite);
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { PostgresStore } = await import("../store-postgres/postgres-store.ts");
    return PostgresStore.open({ url });
  }
  if (/\.(db|sqlite3?)$/.test(url)) return openSqlite(url, sqlite);
  throw new CairnError(
    "INVALID_ARGUMENT",
    `Database URL "${redactUrl(url)}" is not understood: use "sqlite:path/to/file.db" or "postgres://user@host:5432/name".`,
  );
}

async function openSqlite(path: string, options: SqliteStoreOptions): Promise<SqliteStore> {
  const problem = path === ":memory:" ? undefined : sqliteFileProblem(path);
  if (problem) throw new CairnError("INVALID_ARGUMENT", `Database ${path} ${problem}.`);
  const { SqliteStore } = await import("../store-sqlite/sqlite-store.ts");
  return new SqliteStore(path, options);
}
