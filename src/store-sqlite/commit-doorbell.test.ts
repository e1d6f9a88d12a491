import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it, vi } from "vitest";
import { callCounter } from "../../test/support/call-counter.ts";
import { newRun, runId, stepEntry } from "../store/conformance-support.ts";
import type { WakeReason } from "../store/store.ts";
import { CommitDoorbell } from "./commit-doorbell.ts";
import { watchDataVersion } from "./data-version-watch.ts";
import { SqliteStore } from "./sqlite-store.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A migrated database file; `connection()` opens a connection with a doorbell of its own,
 * whose queued writes first await `beforeWrite` (another process holding the write lock).
 */
async function database() {
  const dir = mkdtempSync(join(tmpdir(), "cairn-doorbell-"));
  const path = join(dir, "cairn.db");
  await new SqliteStore(path).close(); // the migrations
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const rows = () => connection().db.prepare("SELECT port, pid FROM commit_doorbells").all();
  const connection = (beforeWrite = async () => {}) => {
    const db = new Database(path);
    const write = <T>(fn: () => T): T => db.transaction(fn).immediate();
    const doorbell = new CommitDoorbell(db, {
      queued: async (fn) => {
        await beforeWrite();
        return write(fn);
      },
      tryNow: (fn) => {
        write(fn);
        return true;
      },
    });
    cleanups.push(() => db.close());
    cleanups.push(() => doorbell.close());
    /** A commit, then a ring (saying `"admission"`), or none. */
    const commit = (ring: "ring" | "admission" | "none" = "ring") => {
      write(() =>
        db.prepare("INSERT OR REPLACE INTO write_probes (id, probed_at) VALUES (1, 0)").run(),
      );
      if (ring !== "none") doorbell.ring(ring === "admission" ? "admission" : undefined);
    };
    return { db, doorbell, commit };
  };
  return { path, connection, rows };
}

/** A socket of no process on the file, sending datagrams of its own choosing to `a`'s doorbell. */
function stranger(a: { db: Database.Database }) {
  const { port, token } = a.db.prepare("SELECT port, token FROM commit_doorbells").get() as {
    port: number;
    token: string;
  };
  const socket = createSocket("udp4");
  cleanups.push(() => socket.close());
  const send = (message: Buffer) =>
    new Promise<void>((resolve, reject) =>
      socket.send(message, port, "127.0.0.1", (error) => (error ? reject(error) : resolve())),
    );
  return { token, send };
}

it("rings every other listening process after a commit, and not itself", async () => {
  const file = await database();
  const [a, b, c] = [file.connection(), file.connection(), file.connection()];
  const [heardA, heardB] = [callCounter(), callCounter()];
  a.doorbell.listen(heardA.call);
  b.doorbell.listen(heardB.call);
  expect(await a.doorbell.registered()).toBe(true);
  expect(await b.doorbell.registered()).toBe(true);
  // c only commits: a process that rings need not listen.
  const both = Promise.all([heardA.next(), heardB.next()]);
  c.commit();
  await both;
  const toA = heardA.next();
  b.commit();
  await toA;
  expect([heardA.count, heardB.count]).toEqual([2, 1]);
});

it("sends a ring at once: it leaves even when the socket closes in the same turn", async () => {
  const file = await database();
  const [a, b] = [file.connection(), file.connection()];
  const heard = callCounter();
  a.doorbell.listen(heard.call);
  expect(await a.doorbell.registered()).toBe(true);
  const rung = heard.next();
  b.commit();
  // A datagram still waiting for its address lookup (Node's answers on the next tick) would
  // be dropped here, and the ring would never arrive.
  b.doorbell.close();
  await rung;
  expect(heard.count).toBe(1);
});

it("wakes nobody for a datagram other than the listener's token", async () => {
  const file = await database();
  const a = file.connection();
  const heard = callCounter();
  a.doorbell.listen(heard.call);
  await a.doorbell.registered();
  const { token, send } = stranger(a);
  const woken = heard.next();
  // In order from one socket on loopback: the stray datagram arrives before the ring.
  await send(Buffer.from("not the token"));
  await send(Buffer.from(token, "hex"));
  await woken;
  expect(heard.count).toBe(1);
});

it("says when a ring is for runs awaiting admission; a longer stray datagram wakes nobody", async () => {
  const file = await database();
  const [a, b] = [file.connection(), file.connection()];
  const reasons: (string | undefined)[] = [];
  let heard = () => {};
  a.doorbell.listen(
    (reason) => {
      reasons.push(reason);
      heard();
    },
    { admits: true },
  );
  await a.doorbell.registered();
  const { token, send } = stranger(a);
  const hears = (count: number) =>
    new Promise<void>((resolve) => {
      heard = () => reasons.length === count && resolve();
    });
  let next = hears(1);
  b.commit("admission");
  await next;
  // In order from one socket: the token with a byte that means nothing yet, then a ring.
  next = hears(2);
  await send(Buffer.from(`${token}02`, "hex"));
  await send(Buffer.from(`${token}01`, "hex"));
  await next;
  next = hears(3);
  b.commit();
  await next;
  expect(reasons).toEqual(["admission", "admission", undefined]);
});

it("removes its row at close, and the rows of processes that died at a registration", async () => {
  const file = await database();
  const a = file.connection();
  a.db
    .prepare("INSERT INTO commit_doorbells (port, token, pid, since) VALUES (1, 'ab', ?, 0)")
    .run(2_147_483_646); // no such process
  a.doorbell.listen(() => {});
  await a.doorbell.registered();
  expect(file.rows()).toEqual([{ port: expect.any(Number), pid: process.pid }]);
  a.doorbell.close();
  expect(file.rows()).toEqual([]);
});

it("a doorbell closed while its registration waits for the lock removes its row once written", async () => {
  const file = await database();
  let freeTheLock = () => {};
  let waiting = () => {};
  const registrationWaits = new Promise<void>((resolve) => (waiting = resolve));
  const a = file.connection(() => {
    waiting();
    return new Promise<void>((resolve) => (freeTheLock = resolve));
  });
  a.doorbell.listen(() => {});
  await registrationWaits; // bound, its row queued behind the lock
  a.doorbell.close(); // returns at once
  freeTheLock();
  expect(await a.doorbell.registered()).toBe(true);
  expect(file.rows()).toEqual([]);
});

it("a doorbell closed before its socket is bound registers nothing", async () => {
  const file = await database();
  const a = file.connection();
  a.doorbell.listen(() => {});
  a.doorbell.close();
  expect(await a.doorbell.registered()).toBe(false);
  expect(file.rows()).toEqual([]);
});

// Only a worker has anything to do with runs awaiting admission: a server or a process
// waiting for a result is not woken for them, and the ringing process sends one datagram less.
it("rings for runs awaiting admission only the listeners that admit runs, marked as they come", async () => {
  const file = await database();
  const [a, b, c] = [file.connection(), file.connection(), file.connection()];
  const reasons = { a: [] as (string | undefined)[], b: [] as (string | undefined)[] };
  let heard = () => {};
  const heardBy = (who: "a" | "b") => (reason?: WakeReason) => {
    reasons[who].push(reason);
    heard();
  };
  const hears = (a: number, b: number) =>
    new Promise<void>((resolve) => {
      heard = () => reasons.a.length === a && reasons.b.length === b && resolve();
    });
  const admitting = c.db.prepare("SELECT admits FROM commit_doorbells ORDER BY admits").pluck();
  const admits = () => admitting.all();
  a.doorbell.listen(heardBy("a"));
  b.doorbell.listen(heardBy("b"), { admits: true });
  await Promise.all([a.doorbell.registered(), b.doorbell.registered()]);
  expect(admits()).toEqual([0, 1]);
  // In order from one socket: an admission ring `a` would hear before the plain one.
  let next = hears(1, 2);
  c.commit("admission");
  c.commit();
  await next;
  expect(reasons).toEqual({ a: [undefined], b: ["admission", undefined] });
  // A listener that admits, in a process registered without one, marks its row.
  a.doorbell.listen(() => {}, { admits: true });
  await vi.waitFor(() => expect(admits()).toEqual([1, 1]));
  next = hears(2, 3);
  c.commit("admission");
  await next;
  expect(reasons.a).toEqual([undefined, "admission"]);
});

it("wakes a data-version watch at another process's ring, with no file events and no timed check", async () => {
  const file = await database();
  const [a, b] = [file.connection(), file.connection()];
  // Registered before the watch begins: its own row is not a change the watch could see.
  a.doorbell.listen(() => {});
  await a.doorbell.registered();
  let woken = () => {};
  const changed = new Promise<void>((resolve) => (woken = resolve));
  // No `othersVersion`: no probes of the WAL. The timed checks are an hour apart.
  const stop = watchDataVersion(file.path, () => a.db.open, woken, {
    everyMs: 3_600_000,
    idleMs: 3_600_000,
    rings: (onRing) => a.doorbell.listen(onRing),
  });
  cleanups.push(stop);
  b.commit();
  await changed; // the test's own timeout is the guard
});

/**
 * A watch of `a`'s file with `a`'s connection as the store's (its own commits), timed checks
 * `checkEveryMs` apart (5), probes of the WAL unless `probes` is false, and `ringGraceMs`,
 * once another connection's ring has reached it (`b` rings, saying "admission").
 * `wakesAfter()` then resolves with the reasons of its next `count` wake-ups; `othersMoved()`
 * once a check has read another connection's commit in `a`'s version.
 */
async function reasonWatch(
  file: Awaited<ReturnType<typeof database>>,
  { ringGraceMs = 3_600_000, checkEveryMs = 5, probes = true } = {},
) {
  const [a, b] = [file.connection(), file.connection()];
  a.doorbell.listen(() => {}, { admits: true });
  await a.doorbell.registered();
  const reasons: (string | undefined)[] = [];
  let heard = () => {};
  const version = a.db.prepare("PRAGMA data_version").pluck();
  let othersRead = () => {};
  const stop = watchDataVersion(
    file.path,
    () => a.db.open,
    (reason) => {
      reasons.push(reason);
      heard();
    },
    {
      everyMs: checkEveryMs,
      idleMs: checkEveryMs,
      ringGraceMs,
      ...(probes
        ? {
            othersVersion: () => {
              othersRead();
              return version.get();
            },
          }
        : {}),
      rings: (onRing) => a.doorbell.listen(onRing, { admits: true }),
    },
  );
  cleanups.push(stop);
  // Rings have come: a listener registered after the watch's hears this one after it.
  await new Promise<void>((resolve) => {
    const unlisten = a.doorbell.listen(() => {
      unlisten();
      resolve();
    });
    b.commit("admission");
  });
  return {
    a,
    b,
    /** The reasons of every wake-up so far, the priming ring's included. */
    reasons,
    wakesAfter(count: number) {
      const from = reasons.length;
      return new Promise<(string | undefined)[]>((resolve) => {
        heard = () => reasons.length >= from + count && resolve(reasons.slice(from));
      });
    },
    othersMoved() {
      const before = version.get();
      return new Promise<void>((resolve) => {
        othersRead = () => version.get() !== before && resolve();
      });
    },
  };
}

// The change an admission ring's check finds may hold other commits too: those that ring
// wake the watch all the same, for everything. (No probes, and no timed check for an hour.)
it("wakes a data-version watch for admissions at such a ring, and for everything at a plain one", async () => {
  const file = await database();
  const { b, wakesAfter } = await reasonWatch(file, { checkEveryMs: 3_600_000, probes: false });
  const wakes = wakesAfter(2);
  b.commit("admission");
  b.commit();
  expect(await wakes).toEqual(["admission", undefined]);
});

// Once rings come, a change a check finds in another process's commit before its ring waits
// for the ring: the worker is woken for admissions alone if that is what it says. (An hour's
// grace here: the ring, sent at once, must be what wakes the watch.)
it("lets a ring say what a change found before it was", async () => {
  const { b, wakesAfter, othersMoved } = await reasonWatch(await database());
  const found = othersMoved();
  const wakes = wakesAfter(1);
  b.commit("none");
  await found; // a check has taken the change: it waits
  b.doorbell.ring("admission");
  expect(await wakes).toEqual(["admission"]);
});

// Its own commits have no ring on the way to say more (and may have made runs claimable).
it("wakes at once for the store's own commits, rings or not", async () => {
  const { a, wakesAfter } = await reasonWatch(await database());
  const wakes = wakesAfter(1);
  a.commit("none");
  expect(await wakes).toEqual([undefined]);
});

// Once rings come, every commit that is news rings: the probes after each write to the WAL
// stop, where on a busy file they woke every process each millisecond and, after the grace,
// woke the subscriber for a run's steps in another worker. (A wait of fixed time, to see
// that nothing happens: probes began a millisecond after the write and woke the watch 1 ms
// after that. It cannot fail a watch that works.)
it("stops probing the WAL once rings have come, and leaves a commit no ring explains to the checks", async () => {
  const { b, reasons, wakesAfter } = await reasonWatch(await database(), {
    ringGraceMs: 1,
    checkEveryMs: 3_600_000,
  });
  const primed = reasons.length;
  b.commit("none");
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(reasons).toHaveLength(primed);
  // The watch itself still wakes at the next ring, for the change it has not taken yet.
  const wakes = wakesAfter(1);
  b.doorbell.ring();
  expect(await wakes).toEqual([undefined]);
});

it("wakes for another's commit that no ring explains, after the grace", async () => {
  const { b, wakesAfter } = await reasonWatch(await database(), { ringGraceMs: 1 });
  const wakes = wakesAfter(1);
  b.commit("none");
  expect(await wakes).toEqual([undefined]);
});

it("a store rings when it creates a run unclaimed and when a run ends, not for claimed starts and steps", async () => {
  const file = await database();
  const store = new SqliteStore(file.path);
  cleanups.push(() => store.close());
  // A listener of our own, registered as another process's would be.
  const listener = createSocket("udp4");
  cleanups.push(() => listener.close());
  await new Promise<void>((resolve) => listener.bind(0, "127.0.0.1", resolve));
  const token = "0123456789abcdef";
  const { db } = file.connection();
  db.prepare(
    "INSERT INTO commit_doorbells (port, token, pid, since, admits) VALUES (?, ?, ?, 0, 1)",
  ).run(listener.address().port, token, process.pid);
  const heard: string[] = [];
  let onHeard = (_: string) => {};
  listener.on("message", (m) => {
    heard.push(m.toString("hex"));
    onHeard(m.toString("hex"));
  });
  const hears = (expected: string) =>
    new Promise<void>((resolve) => {
      onHeard = (m) => m === expected && resolve();
    });
  // A run created unclaimed is news to other processes' workers (a `cairn server`'s start);
  // created unadmitted (started without the code), it only needs admitting, and says so.
  let heardNow = hears(token);
  await store.createRun(newRun("r0"));
  await heardNow;
  heardNow = hears(`${token}01`);
  await store.createRun(newRun("p0", 1000, { admitted: false }));
  await heardNow;
  // Admitted and not taken here, it is claimable by other workers: a plain ring.
  heardNow = hears(token);
  const admission = { fields: { queue: "default" }, delayMs: 0 };
  expect(await store.admitRuns([{ id: runId("p0"), admission }], 1000)).toMatchObject({
    claimed: [],
    unclaimed: 1,
  });
  await heardNow;
  // Admitted again by a worker that lost the race, it is no news: no ring (the marker's
  // ring below would come after one).
  expect(await store.admitRuns([{ id: runId("p0"), admission }], 1000)).toEqual({
    claimed: [],
    unclaimed: 0,
    failed: [],
  });
  const before = [token, `${token}01`, token];
  // A run created claimed runs here, and its steps concern nobody else: no ring for either.
  const { run } = await store.createRun(newRun("r1"), { owner: "w1", leaseUntil: 60_000 });
  const step = { type: "entry" as const, runId: run.id, token: run.fencingToken };
  expect(await store.commit([{ ...step, entry: stepEntry(0, "a") }])).toEqual([{ ok: true }]);
  // Its end is news to whoever waits for it elsewhere: rung with a new token, which comes
  // after any datagram the claimed start or the step sent (one socket sends them in order).
  const marker = "fedcba9876543210";
  db.prepare("UPDATE commit_doorbells SET token = ? WHERE token = ?").run(marker, token);
  heardNow = hears(marker);
  const [ended] = await store.commit([
    { type: "complete", runId: run.id, token: run.fencingToken, output: "{}", at: 2000 },
  ]);
  expect(ended).toMatchObject({ ok: true, status: "completed" });
  await heardNow;
  expect(heard).toEqual([...before, marker]);
  // A resumed workflow's runs are claimable again, by any process's worker: that rings too.
  heardNow = hears(marker);
  await store.setWorkflowPaused("wf", false, 3000);
  await heardNow;
  expect(heard).toEqual([...before, marker, marker]);
});
