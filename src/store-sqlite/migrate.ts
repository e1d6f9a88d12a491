import type Database from "better-sqlite3";
import { loadMigrations, type Migration } from "../store/migration-files.ts";

const migrationsDir = new URL("./migrations/", import.meta.url);

export type { Migration } from "../store/migration-files.ts";

/** The SQLite store's numbered migrations, in order. */
export function loadSqliteMigrations(dir: URL = migrationsDir): Migration[] {
  return loadMigrations(dir);
}

/**
 * Applies the migrations this database lacks, each in its own immediate transaction so
 * that processes opening the same file at once apply each migration exactly once.
 */
export function migrate(db: Database.Database): number[] {
  db.exec(
    "CREATE TABLE IF NOT EXISTS cairn_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const applied: number[] = [];
  for (const migration of loadSqliteMigrations()) {
    const apply = db.transaction(() => {
      const done = db.prepare("SELECT 1 FROM cairn_migrations WHERE id = ?").get(migration.id);
      if (done) return;
      db.exec(migration.sql);
      db.prepare("INSERT INTO cairn_migrations (id, name, applied_at) VALUES (?, ?, ?)").run(
        migration.id,
        migration.name,
        Date.now(),
      );
      applied.push(migration.id);
    });
    apply.immediate();
  }
  return applied;
}
