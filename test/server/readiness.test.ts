import { fork } from "node:child_process";
import { resolve } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { Cairn } from "../../src/index.ts";
import { type RunningServer, startServer } from "../../src/server/index.ts";
import { SqliteStore } from "../../src/store-sqlite/sqlite-store.ts";
import { tempDir } from "../cli/cli.ts";
import { testStore } from "../support/engine.ts";
import { freshSchema, withSql } from "../support/postgres.ts";

const lockHolder = resolve(import.meta.dirname, "../fixtures/hold-sqlite-lock.ts");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server over an engine without a worker, whose readiness transitions can be awaited. */
async function serverOn(db: string) {
  const cairn = await Cairn.open({ db });
  const transitions: boolean[] = [];
  const waiters: { ready: boolean; resolve: () => void }[] = [];
  const server: RunningServer = await startServer(cairn, {
    port: 0,
    readiness: {
      thresholdMs: 300,
      probeIntervalMs: 50,
      onChange(ready) {
        transitions.push(ready);
        for (const w of waiters.filter((x) => x.ready === ready)) w.resolve();
      },
    },
  });
  cleanups.push(async () => {
    await server.close();
    await cairn.close();
  });
  const becomes = (ready: boolean) =>
    new Promise<void>((done) => waiters.push({ ready, resolve: done }));
  const status = async () => (await fetch(`${server.url}/readyz`)).status;
  const gauge = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return /^cairn_ready (\d)$/m.exec(text)?.[1];
  };
  return { cairn, transitions, becomes, status, gauge };
}

describe.runIf(testStore === "sqlite")("readiness on SQLite", () => {
  it("turns 503 while another process holds the write lock past the threshold, 200 after", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const path = `${dir.path}/cairn.db`;
    await new SqliteStore(path).close(); // migrated before the lock is taken
    const s = await serverOn(`sqlite:${path}`);
    expect(await s.status()).toBe(200);
    expect(await s.gauge()).toBe("1");

    const holder = fork(lockHolder, [path], { execArgv: ["--import", "tsx"] });
    cleanups.push(() => {
      if (holder.exitCode === null) holder.kill("SIGKILL");
    });
    await new Promise((locked) => holder.once("message", locked));
    await s.becomes(false);
    expect(await s.status()).toBe(503);
    expect(await s.gauge()).toBe("0");

    const back = s.becomes(true);
    holder.send("release");
    await back;
    expect(await s.status()).toBe(200);
    expect(await s.gauge()).toBe("1");
    expect(s.transitions).toEqual([false, true]);
  });
});

describe.runIf(testStore === "postgres")("readiness on PostgreSQL", () => {
  it("turns 503 while writes hang on a lock past the threshold, 200 after", async () => {
    const base = inject("cairnTestPgUrl");
    const { schema, drop } = await freshSchema(base);
    cleanups.push(drop);
    const s = await serverOn(`${base}${base.includes("?") ? "&" : "?"}schema=${schema}`);
    expect(await s.status()).toBe(200);

    let release: () => void = () => {};
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holding = withSql(base, (sql) =>
      sql.begin(async (tx) => {
        await tx`LOCK TABLE ${tx(schema)}.write_probes IN ACCESS EXCLUSIVE MODE`;
        locked();
        await new Promise<void>((r) => {
          release = r;
        });
      }),
    );
    cleanups.push(async () => {
      release();
      await holding;
    });
    await isLocked;
    await s.becomes(false);
    expect(await s.status()).toBe(503);
    expect(await s.gauge()).toBe("0");

    const back = s.becomes(true);
    release();
    await back;
    expect(await s.status()).toBe(200);
    expect(await s.gauge()).toBe("1");
  });

  it("turns 503 when the store's connections are terminated mid-probe, and recovers", async () => {
    const base = inject("cairnTestPgUrl");
    const { schema, drop } = await freshSchema(base);
    cleanups.push(drop);
    const s = await serverOn(`${base}${base.includes("?") ? "&" : "?"}schema=${schema}`);
    // A probe stuck on a lock is then killed with its connection: a write that failed.
    let release: () => void = () => {};
    const holding = withSql(base, (sql) =>
      sql.begin(async (tx) => {
        await tx`LOCK TABLE ${tx(schema)}.write_probes IN ACCESS EXCLUSIVE MODE`;
        await withSql(base, async (admin) => {
          for (;;) {
            const waiting = await admin`SELECT pid FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE '%write_probes%'`;
            if (waiting.length > 0) {
              await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE pid IN ${admin(waiting.map((w) => w.pid as number))}`;
              return;
            }
          }
        });
        await new Promise<void>((r) => {
          release = r;
        });
      }),
    );
    cleanups.push(async () => {
      release();
      await holding;
    });
    await s.becomes(false);
    expect(await s.status()).toBe(503);
    const back = s.becomes(true);
    release();
    await back;
    expect(await s.status()).toBe(200);
  });
});
