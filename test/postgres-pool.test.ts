import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterEach, expect, it } from "vitest";
import { learnDriver } from "../src/store-postgres/guarded-reservation.ts";
import { KeptConnections } from "../src/store-postgres/kept-connections.ts";
import { pipelinedTransaction } from "../src/store-postgres/pipeline.ts";
import { RecyclingPool } from "../src/store-postgres/recycling-pool.ts";
import { testDatabaseUrl, withSql } from "./support/postgres.ts";

const url = await testDatabaseUrl();
let pool: RecyclingPool | undefined;
afterEach(async () => {
  await pool?.end({ timeout: 1 });
  pool = undefined;
});

/** A store-like pool: array types fetched once, every connection opened. */
async function openPool(applicationName: string, onclose?: () => void): Promise<RecyclingPool> {
  const opened = new RecyclingPool(() =>
    postgres(url, {
      max: 4,
      onnotice: () => {},
      ...(onclose ? { onclose } : {}),
      connection: { application_name: applicationName },
    }),
  );
  await opened.sql`SELECT 1`;
  opened.typesKnown();
  await opened.warm();
  return opened;
}

/** The backend a transaction on `pool` ran on. */
async function backendOfTransaction(on: RecyclingPool): Promise<number> {
  return pipelinedTransaction(on.sql, async (tx, send, commit) => {
    const rows = send(tx`SELECT pg_backend_pid() AS pid`);
    await commit();
    return (await rows)[0]?.pid as number;
  });
}

it("transactions one after another reuse the connection released last", async () => {
  pool = await openPool(`cairn-kept-${randomBytes(4).toString("hex")}`);
  const pids: number[] = [];
  for (let i = 0; i < 8; i++) pids.push(await backendOfTransaction(pool));
  // postgres.js alone hands out the connection idle longest: four backends in turn.
  expect(new Set(pids).size).toBe(1);
  // So do autocommit statements sent through `hot`.
  const hotPid = await pool.hot(async (sql) => (await sql`SELECT pg_backend_pid() AS pid`)[0]?.pid);
  expect(hotPid).toBe(pids[0]);
});

it("a kept connection whose backend is gone is never handed out again", async () => {
  const applicationName = `cairn-kept-${randomBytes(4).toString("hex")}`;
  let socketClosed!: () => void;
  const closed = new Promise<void>((resolve) => (socketClosed = resolve));
  pool = await openPool(applicationName, () => socketClosed());
  const first = await backendOfTransaction(pool);
  // The connection waits in the pool's keep for the next transaction; end its backend.
  await withSql(url, (sql) => sql`SELECT pg_terminate_backend(${first})`);
  // Wait for postgres.js to see the socket close (the pool's `onclose` runs after the
  // connection's own, which takes it out of the keep). The backend leaves pg_stat_activity
  // before its socket closes, so waiting for that raced: the next transaction could still
  // meet the dying socket.
  await closed;
  // Not the dead one: the transaction runs, on another backend, and the next ones too.
  const next = await backendOfTransaction(pool);
  expect(next).not.toBe(first);
  expect(await backendOfTransaction(pool)).toBe(next);
});

it("a kept connection goes back to the pool once unused, also after a long transaction on it", async () => {
  pool = await openPool(`cairn-kept-${randomBytes(4).toString("hex")}`);
  const on = pool;
  await backendOfTransaction(on);
  // Taken again and held past the keep's idle time: its timer fires while it is in use.
  await pipelinedTransaction(on.sql, async (tx, send, commit) => {
    void send(tx`SELECT pg_sleep(0.25)`);
    await commit();
  });
  // Kept once more, then given back: plain statements get all four connections again.
  const backendsOfPlainStatements = async () => {
    const rows = await Promise.all(
      Array.from({ length: 4 }, () => on.sql`SELECT pg_backend_pid() AS pid, pg_sleep(0.02)`),
    );
    return new Set(rows.map((r) => r[0]?.pid)).size;
  };
  await expect.poll(backendsOfPlainStatements, { timeout: 5000 }).toBe(4);
});

it("autocommit statements sent through `hot` one after another stay on one backend", async () => {
  pool = await openPool(`cairn-kept-${randomBytes(4).toString("hex")}`);
  const on = pool;
  // No transaction ran, so nothing is kept yet: `hot` reserves a connection and keeps it.
  const pids: number[] = [];
  for (let i = 0; i < 8; i++) {
    pids.push(await on.hot(async (sql) => (await sql`SELECT pg_backend_pid() AS pid`)[0]?.pid));
  }
  // Through postgres.js alone they would go round the four connections.
  expect(new Set(pids).size).toBe(1);
});

it("keeps at most two connections, the ones released last", async () => {
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  try {
    const kept = new KeptConnections();
    const reserved = await Promise.all(Array.from({ length: 4 }, () => sql.reserve()));
    const pids: number[] = [];
    for (const connection of reserved) {
      kept.adopt(connection);
      learnDriver(connection);
      pids.push((await connection`SELECT pg_backend_pid() AS pid`)[0]?.pid);
    }
    for (const connection of reserved) connection.release();
    // The last two released are kept, the last first; the first two went back to postgres.js.
    const [last, before, none] = [kept.take(), kept.take(), kept.take()];
    expect(none).toBeUndefined();
    if (!last || !before) throw new Error("two connections should have been kept");
    const pidOf = async (c: typeof last) => (await c`SELECT pg_backend_pid() AS pid`)[0]?.pid;
    expect([await pidOf(last), await pidOf(before)]).toEqual([pids[3], pids[2]]);
    last.release();
    before.release();
    kept.drain();
  } finally {
    await sql.end({ timeout: 1 });
  }
});
