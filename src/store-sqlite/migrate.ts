import { readdirSync, readFileSync } from "node:fs";
import type Database from "better-sqlite3";

const migrationsDir = new URL("./migrations/", import.meta.url);

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** The numbered `migrations/NNNN_name.sql` files, in order. */
export function loadMigrations(dir: URL = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      id: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ""),
      sql: readFileSync(new URL(file, dir), "utf8"),
    }));
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
  for (const migration of loadMigrations()) {
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
