import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { Writable } from "node:stream";
import Database from "better-sqlite3";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { logEvent } from "../src/cli/logger.ts";
import type { EngineEvent } from "../src/core/engine-event.ts";
import { openStore } from "../src/engine/open-store.ts";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { type RunningServer, startServer } from "../src/server/index.ts";
import { SqliteStore } from "../src/store-sqlite/sqlite-store.ts";
import { nextEngineEvent } from "../src/testing/next-engine-event.ts";
import { tempDir } from "./cli/cli.ts";

const lockHolder = resolve(import.meta.dirname, "fixtures/hold-sqlite-lock.ts");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const echo = defineWorkflow({ name: "echo" }, async (ctx, input: { pad: string }) =>
  ctx.step("length", () => input.pad.length),
);

/** A child process holding `path`'s write lock (BEGIN IMMEDIATE) until told to release it. */
async function holdLock(path: string): Promise<ChildProcess> {
  const holder = fork(lockHolder, [path], { execArgv: ["--import", "tsx"] });
  cleanups.push(() => {
    if (holder.exitCode === null && holder.signalCode === null) {
      holder.kill("SIGCONT");
      holder.kill("SIGKILL");
    }
  });
  await new Promise((locked) => holder.once("message", locked));
  return holder;
}

async function serve(cairn: Cairn, onReady?: (ready: boolean) => void): Promise<RunningServer> {
  const server = await startServer(cairn, {
    port: 0,
    readiness: { thresholdMs: 300, probeIntervalMs: 50, onChange: onReady },
  });
  cleanups.push(() => server.close());
  return server;
}

describe("a frozen process holding the SQLite write lock", () => {
  it("is logged at warn with its pid, turns /readyz 503 while the event loop keeps answering, and clears", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const path = `${dir.path}/cairn.db`;
    await new SqliteStore(path).close(); // migrated before the lock is taken
    const cairn = await Cairn.open({
      db: `sqlite:${path}`,
      workflows: [echo],
      sqlite: { lockWarnMs: 300, busyTimeoutMs: 120_000 },
    });
    cleanups.push(() => cairn.close());
    const lines: string[] = [];
    const logger = pino(
      { level: "debug" },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    cairn.subscribe((event) => logEvent(logger, event));
    const readiness: boolean[] = [];
    const readyWaiters: { ready: boolean; resolve: () => void }[] = [];
    const server = await serve(cairn, (ready) => {
      readiness.push(ready);
      for (const w of readyWaiters.filter((x) => x.ready === ready)) w.resolve();
    });
    const becomes = (ready: boolean) =>
      new Promise<void>((done) => readyWaiters.push({ ready, resolve: done }));

    const holder = await holdLock(path);
    holder.kill("SIGSTOP"); // frozen mid-transaction: only the kernel knows it holds the lock

    const warned = nextEngineEvent<Extract<EngineEvent, { type: "store-lock" }>>(
      cairn,
      (e) => e.type === "store-lock" && e.state === "waiting",
      30_000,
    );
    const unready = becomes(false);
    const start = cairn.start(echo, { pad: "x" }, { id: "while-locked" });
    const warning = await warned;
    expect(warning.holderPid).toBe(holder.pid);
    expect(warning.path).toBe(path);
    await unready;
    // The write waits between event-loop turns: the probes still answer meanwhile.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.holderPid === holder.pid);
    expect(line).toMatchObject({ level: 40, database: path, holderPid: holder.pid });
    expect(line.msg).toContain(`held by pid ${holder.pid}`);

    const acquired = nextEngineEvent(
      cairn,
      (e) => e.type === "store-lock" && e.state === "acquired",
      30_000,
    );
    const ready = becomes(true);
    holder.kill("SIGCONT");
    holder.send("release");
    await acquired;
    const run = await start;
    expect(run.id).toBe("while-locked");
    await ready;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(readiness).toEqual([false, true]);
  });

  it("fails a write at the busy timeout with an error naming the file and the holder, 503 over HTTP", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const path = `${dir.path}/cairn.db`;
    await new SqliteStore(path).close();
    const cairn = await Cairn.open({
      db: `sqlite:${path}`,
      workflows: [echo],
      sqlite: { busyTimeoutMs: 200 },
    });
    cleanups.push(() => cairn.close());
    const server = await serve(cairn);
    const holder = await holdLock(path);

    const error = await cairn.start(echo, { pad: "x" }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.code).toBe("STORE_UNAVAILABLE");
    expect(error?.message).toContain(path);
    expect(error?.message).toContain(`process ${holder.pid}`);

    const res = await fetch(`${server.url}/api/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workflow: "echo", input: { pad: "x" } }),
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe("STORE_UNAVAILABLE");
    expect(body.detail).not.toContain(path); // the file's path is for the log, not callers
    holder.kill("SIGKILL");
  });
});

/** Mounts a tmpfs of `size` at a fresh folder; undefined where mounting is not permitted. */
function mountTmpfs(size: string): { path: string; remount(options: string): void } | undefined {
  const dir = tempDir();
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir.path], {
      stdio: "ignore",
    });
  } catch {
    dir.remove();
    return undefined;
  }
  cleanups.push(() => {
    execFileSync("umount", ["-l", dir.path], { stdio: "ignore" });
    dir.remove();
  });
  return {
    path: dir.path,
    remount: (options) =>
      execFileSync("mount", ["-o", `remount,${options}`, dir.path], { stdio: "ignore" }),
  };
}

const noMount = "mounting a tmpfs is not permitted here (needs root and CAP_SYS_ADMIN)";

describe("a full disk", () => {
  it("refuses starts with 503 storage full, writes nothing half, and recovers when space returns", async (ctx) => {
    const mount = mountTmpfs("2m");
    if (!mount) return ctx.skip(noMount);
    const path = `${mount.path}/cairn.db`;
    const errors: Error[] = [];
    const cairn = await Cairn.open({
      db: `sqlite:${path}`,
      workflows: [echo],
      onError: (error) => errors.push(error),
    });
    cleanups.push(() => cairn.close());
    await cairn.worker({ concurrency: 4 });
    const server = await serve(cairn);
    const first = await cairn.start(echo, { pad: "x" });
    expect(await first.result()).toBe(1);

    // Fill the file system, leaving SQLite nothing to grow its WAL into.
    const filler = `${mount.path}/filler`;
    const fd = openSync(filler, "w");
    const chunk = Buffer.alloc(16 * 1024);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      expect((error as { code?: string }).code).toBe("ENOSPC");
    } finally {
      closeSync(fd);
    }

    const pad = "p".repeat(64 * 1024);
    const accepted: string[] = [];
    const refused: string[] = [];
    for (let i = 0; i < 40 && refused.length < 3; i++) {
      const id = `full-${i}`;
      const res = await fetch(`${server.url}/api/v1/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ workflow: "echo", input: { pad }, id }),
      });
      if (res.status === 503) {
        const body = (await res.json()) as { code: string; title: string };
        expect(body).toMatchObject({ code: "STORAGE_FULL", title: "Storage full" });
        refused.push(id);
      } else {
        expect(res.status).toBe(201);
        accepted.push(id);
      }
    }
    expect(refused.length).toBeGreaterThan(0);

    rmSync(filler); // space returns: no restart, no operator action
    const after = await fetch(`${server.url}/api/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workflow: "echo", input: { pad: "y" }, id: "after" }),
    });
    expect(after.status).toBe(201);
    expect(await cairn.getRun("after").then((r) => r.id)).toBe("after");
    for (const id of [...accepted, "after"]) {
      const run = await cairn.start(echo, { pad: "" }, { id });
      expect(await run.result()).toBeGreaterThanOrEqual(1);
    }
    // Every acknowledged start exists whole; no refused one left anything behind.
    const db = new Database(path, { readonly: true });
    cleanups.push(() => {
      db.close();
    });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    for (const id of refused) {
      expect(db.prepare("SELECT count(*) AS n FROM runs WHERE id = ?").get(id)).toEqual({ n: 0 });
    }
    for (const id of accepted) {
      expect(db.prepare("SELECT status FROM runs WHERE id = ?").get(id)).toEqual({
        status: "completed",
      });
    }
  });
});

describe("a database that cannot be written", () => {
  it("names the path and a read-only file system", async (ctx) => {
    const mount = mountTmpfs("1m");
    if (!mount) return ctx.skip(noMount);
    const path = `${mount.path}/cairn.db`;
    await new SqliteStore(path).close();
    mount.remount("ro");
    await expect(openStore(`sqlite:${path}`)).rejects.toThrow(
      `Database ${path} cannot be written: its folder ${mount.path} is on a read-only file system`,
    );
    await expect(openStore(`sqlite:${mount.path}/sub/cairn.db`)).rejects.toThrow(
      `its folder ${mount.path}/sub does not exist and cannot be created (the file system is read-only)`,
    );
  });

  it("names the path when its folder cannot be created", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    mkdirSync(dir.path, { recursive: true });
    writeFileSync(`${dir.path}/plain-file`, "");
    await expect(openStore(`sqlite:${dir.path}/plain-file/sub/cairn.db`)).rejects.toThrow(
      `its folder ${dir.path}/plain-file/sub does not exist and cannot be created (a part of that path is a file, not a folder)`,
    );
  });
});
