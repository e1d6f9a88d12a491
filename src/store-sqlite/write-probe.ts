import Database from "better-sqlite3";

const upsert =
  "INSERT INTO write_probes (id, probed_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at";

/**
 * The readiness write probe of a SQLite file: its own connection with no busy timeout, so a
 * lock held by another process makes it fail at once instead of blocking the event loop for
 * the store's busy timeout (better-sqlite3 waits synchronously). The caller decides how long
 * a failing probe is tolerated. An in-memory database has no second connection: it uses
 * `fallback` (the store's own connection), which no other process can lock anyway.
 */
export function sqliteWriteProbe(
  path: string,
  fallback: (at: number) => Promise<unknown>,
): { probe(at: number): Promise<void>; close(): void } {
  if (path === ":memory:")
    return {
      async probe(at) {
        await fallback(at);
      },
      close() {},
    };
  let db: Database.Database | undefined;
  return {
    async probe(at) {
      db ??= new Database(path);
      db.pragma("busy_timeout = 0");
      db.transaction(() => db?.prepare(upsert).run(at)).immediate();
    },
    close() {
      db?.close();
      db = undefined;
    },
  };
}

export { upsert as writeProbeUpsert };
