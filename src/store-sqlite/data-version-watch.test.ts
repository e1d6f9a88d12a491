import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { callCounter } from "../../test/support/call-counter.ts";
import { watchDataVersion } from "./data-version-watch.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A WAL database with the store's own connection (`mine`) and another one (`theirs`). */
function database() {
  const dir = mkdtempSync(join(tmpdir(), "cairn-data-version-"));
  const path = join(dir, "cairn.db");
  const mine = new Database(path);
  mine.pragma("journal_mode = WAL");
  mine.exec("CREATE TABLE t (x INTEGER)");
  const theirs = new Database(path);
  cleanups.push(() => {
    theirs.close();
    mine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const version = mine.prepare("PRAGMA data_version").pluck();
  return { path, mine, theirs, othersVersion: () => version.get() };
}

// The timed checks are an hour apart here: a wake-up can only come from the file's events.
// Probes go on for a minute, as a busy machine may take long to sync a commit.
const hourly = { everyMs: 3_600_000, idleMs: 3_600_000, probeForMs: 60_000 };

/** A database under watch, with the wake-ups counted. */
function watched() {
  const db = database();
  const wakes = callCounter();
  const stop = watchDataVersion(db.path, () => db.mine.open, wakes.call, {
    ...hourly,
    othersVersion: db.othersVersion,
  });
  cleanups.push(stop);
  return { db, wakes };
}

it("wakes for another connection's commit as the WAL is written, not at the next timed check", async () => {
  const { db, wakes } = watched();
  for (let i = 0; i < 3; i++) {
    const woken = wakes.next();
    db.theirs.prepare("INSERT INTO t VALUES (?)").run(i);
    await woken;
  }
  expect(wakes.count).toBe(3);
});

// The tests above run in vitest's busy process. A `cairn worker` or an app waiting for a
// result may have nothing but a far timer, its event loop blocked in the poll for I/O: the
// file's event alone must carry the wake-up through.
it("wakes an otherwise idle process at the commit, not at its next timer", async () => {
  const db = database();
  const fixture = new URL("../../test/fixtures/idle-data-version-watch.ts", import.meta.url);
  const child = spawn(process.execPath, ["--import", "tsx", fixture.pathname, db.path], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanups.push(() => child.kill("SIGKILL"));
  const lines: string[] = [];
  const printed = (line: string) =>
    new Promise<void>((resolve) => {
      const look = () => lines.includes(line) && resolve();
      child.stdout.on("data", (chunk: Buffer) => {
        lines.push(...chunk.toString().split("\n"));
        look();
      });
      look();
    });
  await printed("ready");
  db.theirs.prepare("INSERT INTO t VALUES (1)").run();
  await printed("changed"); // the test's own timeout is the guard: the child's timer is 10 min
});

it("does not wake for the store's own commits between timed checks", async () => {
  const { db, wakes } = watched();
  const written = new Promise<void>((resolve) => {
    const watcher = watch(dirname(db.path), () => {
      watcher.close();
      resolve();
    });
  });
  for (let i = 0; i < 20; i++) db.mine.prepare("INSERT INTO t VALUES (?)").run(i);
  // The watch hears of these writes in the same turn as this watcher, and probes in the next.
  await written;
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  // Then two commits of another connection, one wake-up each; one more would be the store's.
  for (const x of [98, 99]) {
    const woken = wakes.next();
    db.theirs.prepare("INSERT INTO t VALUES (?)").run(x);
    await woken;
  }
  expect(wakes.count).toBe(2);
});
