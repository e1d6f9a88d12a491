import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "./open-database.ts";
import { WriteLock } from "./write-lock.ts";

describe("WriteLock", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function open(synchronous: "FULL" | "NORMAL") {
    const dir = mkdtempSync(join(tmpdir(), "cairn-write-lock-"));
    dirs.push(dir);
    const path = join(dir, "cairn.db");
    const db = openDatabase(path, { synchronous });
    const lock = new WriteLock(db, path, { timeoutMs: 1_000, warnAfterMs: 1_000 });
    // 1 is NORMAL (no fsync at commit in WAL mode), 2 FULL.
    const level = () => db.pragma("synchronous", { simple: true });
    return { db, lock, level };
  }

  it("commits an unsynced write at NORMAL and every other at the store's level", async () => {
    const { db, lock, level } = open("FULL");
    db.exec("CREATE TABLE t (x INTEGER)");
    const insert = db.prepare("INSERT INTO t (x) VALUES (?)");
    const inside: unknown[] = [];
    await lock.run(() => {
      inside.push(level());
      insert.run(1);
    }, false);
    expect(level()).toBe(2);
    await lock.run(() => {
      inside.push(level());
      insert.run(2);
    });
    expect(inside).toEqual([1, 2]);
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2 });
    db.close();
  });

  it("restores the level after an unsynced write that throws", async () => {
    const { db, lock, level } = open("FULL");
    await expect(
      lock.run(() => {
        throw new Error("bad write");
      }, false),
    ).rejects.toThrow("bad write");
    expect(level()).toBe(2);
    db.close();
  });

  it("waits briefly in SQLite from the first write on, not the whole busy timeout", async () => {
    const { db } = open("FULL");
    const path = db.name;
    db.close();
    // A fresh lock, its first write finding another connection holding the file's lock.
    const mine = openDatabase(path, { busyTimeoutMs: 5_000 });
    const first = new WriteLock(mine, path, { timeoutMs: 5_000, warnAfterMs: 5_000 });
    const other = openDatabase(path, {});
    other.exec("BEGIN IMMEDIATE");
    const before = performance.now();
    const write = first.run(() => "written");
    // The attempt blocks the event loop for its busy timeout: 25 ms, or 5 s when it is wrong.
    const blockedMs = performance.now() - before;
    other.exec("COMMIT");
    expect(await write).toBe("written");
    expect(blockedMs).toBeLessThan(2_500);
    other.close();
    mine.close();
  });

  it("leaves a store opened at NORMAL at NORMAL", async () => {
    const { db, lock, level } = open("NORMAL");
    await lock.run(() => undefined, false);
    await lock.run(() => undefined);
    expect(level()).toBe(1);
    db.close();
  });
});
