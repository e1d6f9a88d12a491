/**
 * Read-only looks at the engine's SQLite file between process lifetimes (no process has it
 * open then): integrity after each SIGKILL, and a snapshot of what was durable at the kill.
 */
import { existsSync } from "node:fs";
import Database from "better-sqlite3";

export interface RunRow {
  id: string;
  status: string;
  output: string | null;
  /** For a running run: when its lease expires. */
  available_at: number | null;
  /** The worker holding the lease: `host:pid:random`. */
  lease_owner: string | null;
  fencing_token: number;
}

export interface StepRow {
  run_id: string;
  position: number;
  key: string;
  kind: string;
  status: string;
  output: string | null;
  attempt: number;
  wake_at: number | null;
  finished_at: number | null;
}

export interface DbSnapshot {
  /** False when the child died before it created the file. */
  exists: boolean;
  integrity: string[];
  foreignKeyViolations: number;
  /**
   * A migration is all or nothing: either the `0001` row and every table it creates are
   * there, or none of them is. False when a kill left a half-applied schema.
   */
  schemaConsistent: boolean;
  runs: Map<string, RunRow>;
  /** By `run_id + "\0" + key`. */
  steps: Map<string, StepRow>;
  /** How long the inspection took. */
  ms: number;
  /** Wall time once everything was read: whatever the snapshot shows was durable by then. */
  readAt: number;
}

export const stepId = (run: string, key: string) => `${run}\u0000${key}`;

/**
 * Opens the file read-only (no checkpoint, nothing written to the database), checks it and
 * reads it.
 */
export function inspectDb(path: string): DbSnapshot {
  const started = performance.now();
  if (!existsSync(path)) {
    return {
      exists: false,
      integrity: ["ok"],
      foreignKeyViolations: 0,
      schemaConsistent: true,
      runs: new Map(),
      steps: new Map(),
      ms: 0,
      readAt: Date.now(),
    };
  }
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = db
      .prepare("PRAGMA integrity_check")
      .all()
      .map((row) => String((row as { integrity_check: unknown }).integrity_check));
    const foreignKeyViolations = db.prepare("PRAGMA foreign_key_check").all().length;
    const tables = db
      .prepare(
        `SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'
          AND name IN ('runs', 'steps', 'waits', 'events', 'signals')`,
      )
      .get() as { n: number };
    const hasMigrationTable = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cairn_migrations'")
      .get();
    const migrated =
      hasMigrationTable !== undefined &&
      db.prepare("SELECT 1 FROM cairn_migrations WHERE id = 1").get() !== undefined;
    const schemaConsistent = migrated ? tables.n === 5 : tables.n === 0;
    const runs = new Map<string, RunRow>();
    const steps = new Map<string, StepRow>();
    if (migrated && tables.n === 5) {
      for (const row of db
        .prepare("SELECT id, status, output, available_at, lease_owner, fencing_token FROM runs")
        .all() as RunRow[]) {
        runs.set(row.id, row);
      }
      for (const row of db
        .prepare(
          "SELECT run_id, position, key, kind, status, output, attempt, wake_at, finished_at FROM steps",
        )
        .all() as StepRow[]) {
        steps.set(stepId(row.run_id, row.key), row);
      }
    }
    return {
      exists: true,
      integrity,
      foreignKeyViolations,
      schemaConsistent,
      runs,
      steps,
      ms: performance.now() - started,
      readAt: Date.now(),
    };
  } finally {
    db.close();
  }
}
