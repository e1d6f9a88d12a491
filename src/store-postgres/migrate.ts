import { setTimeout as delay } from "node:timers/promises";
import type { Sql } from "postgres";
import { CairnError } from "../core/errors.ts";
import { loadMigrations, type Migration } from "../store/migration-files.ts";

const migrationsDir = new URL("./migrations/", import.meta.url);

export type PostgresMigration = Migration;

/** The PostgreSQL store's numbered migrations, in order. */
export function loadPostgresMigrations(dir: URL = migrationsDir): Migration[] {
  return loadMigrations(dir);
}

export interface MigratePostgresOptions {
  /**
   * The schema to migrate, created when missing. (Default: the connection's
   * `current_schema()`, usually `public`)
   */
  schema?: string;
  /**
   * How long one attempt waits for the migration lock, or for a table lock a migration
   * needs while workers use the table, in ms. (Default: 5_000)
   */
  lockTimeoutMs?: number;
  /** Attempts before a lock timeout is reported; backoff doubles from 100 ms. (Default: 5) */
  attempts?: number;
}

/**
 * Applies the migrations this database lacks, in one transaction that first takes a
 * transaction-scoped advisory lock named after the schema: processes that open the same
 * database at once queue on the lock, and each migration is applied exactly once (the
 * later ones find it in `cairn_migrations`). DDL is transactional in PostgreSQL, so a
 * crash leaves the schema all-old or all-new. `lock_timeout` bounds every lock wait, so a
 * migration never queues forever behind a long transaction (and never holds up the
 * workers queued behind it); a timed-out attempt is retried with backoff.
 *
 * Returns the ids of the migrations applied by this call.
 */
export async function migratePostgres(
  sql: Sql,
  options: MigratePostgresOptions = {},
): Promise<number[]> {
  const migrations = loadPostgresMigrations();
  const lockTimeoutMs = options.lockTimeoutMs ?? 5_000;
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await sql.begin(async (tx) => {
        await tx`SELECT set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`;
        const schema =
          options.schema ?? ((await tx`SELECT current_schema() AS name`)[0]?.name as string | null);
        if (!schema) {
          throw new CairnError(
            "INVALID_ARGUMENT",
            "The connection's search_path names no existing schema: create one, or pass the schema to migrate.",
          );
        }
        await tx`SELECT pg_advisory_xact_lock(hashtext(${`cairn:migrate:${schema}`}))`;
        const exists = await tx`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`;
        if (exists.length === 0) await tx`CREATE SCHEMA ${tx(schema)}`;
        await tx`SELECT set_config('search_path', ${quoteIdentifier(schema)}, true)`;
        await tx`CREATE TABLE IF NOT EXISTS cairn_migrations (
          id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;
        const done = new Set(
          (await tx`SELECT id FROM cairn_migrations`).map((row) => Number(row.id)),
        );
        const applied: number[] = [];
        for (const migration of migrations) {
          if (done.has(migration.id)) continue;
          await tx.unsafe(migration.sql);
          await tx`INSERT INTO cairn_migrations (id, name, applied_at)
            VALUES (${migration.id}, ${migration.name},
              (extract(epoch from clock_timestamp()) * 1000)::bigint)`;
          applied.push(migration.id);
        }
        return applied;
      });
    } catch (error) {
      // 55P03 lock_not_available: lock_timeout expired; the transaction rolled back.
      if ((error as { code?: string }).code === "55P03" && attempt < attempts) {
        await delay(100 * 2 ** (attempt - 1));
        continue;
      }
      throw error;
    }
  }
}

/** `name` as a double-quoted SQL identifier, for settings such as `search_path`. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The migrations applied to this schema, oldest first. */
export async function appliedMigrations(
  sql: Sql,
): Promise<{ id: number; name: string; appliedAt: number }[]> {
  const rows = await sql`SELECT id, name, applied_at FROM cairn_migrations ORDER BY id`;
  return rows.map((r) => ({
    id: Number(r.id),
    name: String(r.name),
    appliedAt: Number(r.applied_at),
  }));
}
