import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Cairn } from "../src/index.ts";
import { benchWorkflows } from "./workflows.ts";

export type Dialect = "sqlite" | "postgres";

/** Where the workloads' databases live, and how to get a fresh one per workload. */
export interface DatabaseTarget {
  dialect: Dialect;
  /** For the report: where the data lives and how durable it is. Never holds a password. */
  description: string;
  /** For SQLite: the directory holding the files (the commit-floor probe writes there too). */
  directory: string | undefined;
  /** A database URL no workload has used yet. */
  fresh(label: string): string;
  /** Deletes whatever `fresh` created. Safe to call twice. */
  dispose(): Promise<void>;
}

export function databaseTarget(db: string | undefined): DatabaseTarget {
  if (db === undefined || db.startsWith("sqlite:")) return sqliteTarget(db);
  if (/^postgres(ql)?:\/\//.test(db)) return postgresTarget(db);
  throw new Error(`--db "${redact(db)}": use sqlite:<path> or postgres://user@host:5432/name.`);
}

function sqliteTarget(db: string | undefined): DatabaseTarget {
  const beside = db === undefined ? undefined : db.slice("sqlite:".length);
  if (beside === ":memory:") {
    throw new Error(
      "--db sqlite::memory: has no disk and no fsync; the bench measures durable writes.",
    );
  }
  // A new temp dir per bench, one file per workload inside it: no workload sees another's
  // rows, and one rmSync cleans up everything, including the -wal and -shm files.
  const parent = beside ? dirname(resolve(beside)) : tmpdir();
  mkdirSync(parent, { recursive: true });
  const directory = mkdtempSync(join(parent, "cairn-bench-"));
  const remove = () => rmSync(directory, { recursive: true, force: true });
  // Also when an engine bug crashes the process before `dispose` (uncaught exception).
  process.once("exit", remove);
  return {
    dialect: "sqlite",
    description: `SQLite, fresh file (and directory) per workload in ${directory} (WAL, synchronous=FULL)`,
    directory,
    fresh(label) {
      // A directory per database: a SQLite store watches its file's directory for writes to
      // the WAL, and W6 runs two databases side by side, whose engines must not wake each
      // other at every write.
      const own = join(directory, label);
      mkdirSync(own, { recursive: true });
      return `sqlite:${join(own, `${label}.db`)}`;
    },
    async dispose() {
      process.off("exit", remove);
      remove();
    },
  };
}

/**
 * PostgreSQL: one database for the bench (creating databases needs rights the bench should
 * not assume), a fresh schema per workload in it. The store creates the schema named by
 * the URL's `schema` parameter; the bench drops them all at the end.
 */
function postgresTarget(db: string): DatabaseTarget {
  const url = new URL(db);
  const prefix = `${url.searchParams.get("schema") ?? "cairn_bench"}_${Date.now().toString(36)}`;
  url.searchParams.delete("schema");
  const schemas: string[] = [];
  return {
    dialect: "postgres",
    description: `PostgreSQL at ${redact(url.toString())}, fresh schema ${prefix}_<workload> per workload`,
    directory: undefined,
    fresh(label) {
      const schema = `${prefix}_${label}`.replace(/[^a-z0-9_]/gi, "_").toLowerCase();
      schemas.push(schema);
      const fresh = new URL(url);
      fresh.searchParams.set("schema", schema);
      return fresh.toString();
    },
    async dispose() {
      const drop = schemas.splice(0);
      if (drop.length === 0) return;
      // Loaded only here: a SQLite bench never needs the PostgreSQL client.
      const { default: postgres } = await import("postgres");
      const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        for (const schema of drop) await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        console.error(`(could not drop the bench schemas ${drop.join(", ")}: ${reason})`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}

/** Hides the password of a URL before it is printed or written to JSON. */
export function redact(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]+):[^@]*@/, "$1:***@");
}

/** Raised when the engine cannot open the database at all; printed without a stack. */
export class DatabaseOpenError extends Error {
  override name = "DatabaseOpenError";
}

/**
 * Opens the engine the way an application does (`Cairn.open` + an in-process worker), on
 * the given fresh database, with the default full durability spelled out so that a change
 * of defaults cannot quietly make the figures cheaper.
 */
export async function openEngine(url: string, concurrency: number): Promise<Cairn> {
  let cairn: Cairn;
  try {
    cairn = await Cairn.open({
      db: url,
      workflows: benchWorkflows,
      sqlite: { synchronous: "FULL" },
    });
  } catch (error) {
    // The engine's message quotes the URL as given, password included.
    const message = (error instanceof Error ? error.message : String(error)).replaceAll(
      url,
      redact(url),
    );
    throw new DatabaseOpenError(`Cairn.open failed for ${redact(url)}:\n  ${message}`);
  }
  await cairn.worker({ concurrency });
  return cairn;
}

/** Runs `body` on a fresh engine and always closes it, even when `body` throws. */
export async function withEngine<T>(
  target: DatabaseTarget,
  label: string,
  concurrency: number,
  body: (cairn: Cairn) => Promise<T>,
): Promise<T> {
  const cairn = await openEngine(target.fresh(label), concurrency);
  try {
    return await body(cairn);
  } finally {
    await cairn.close();
  }
}
