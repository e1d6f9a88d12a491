import type Database from "better-sqlite3";
import { CairnError } from "../core/errors.ts";
import type { WriteLockWait } from "../store/store.ts";
import { errorCode, isStorageFault, storageError } from "./storage-error.ts";
import { writeLockHolder } from "./write-lock-holder.ts";

interface Waiting {
  run(): Attempt;
  since: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Attempt =
  | { done: true; ok: true; value: unknown }
  | { done: true; ok: false; error: unknown }
  | { done: false };

/** The longest one attempt blocks the event loop inside SQLite's own busy handler, in ms. */
export const lockAttemptMs = 25;

/**
 * Immediate transactions on one connection, waiting for another process's write lock
 * without blocking the event loop. better-sqlite3 is synchronous, so SQLite's busy handler
 * would freeze the process for the whole busy timeout: `/readyz`, `/healthz` and heartbeats
 * with it. Instead each attempt waits at most {@link lockAttemptMs} in SQLite, and between
 * attempts the event loop runs. Writes keep their call order: while one waits, later ones
 * queue behind it. A write whose transaction function ran is never retried.
 *
 * State: idle (no queue) → a write finds the lock taken → waiting (queue, timer) → the queue
 * drains (lock acquired, or each write gave up at `timeoutMs`) → idle. A wait past
 * `warnAfterMs` is reported once (`waiting`) and its end once (`acquired` / `gave-up`).
 */
export class WriteLock {
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #timeoutMs: number;
  readonly #warnAfterMs: number;
  readonly #listeners = new Set<(wait: WriteLockWait) => void>();
  readonly #queue: Waiting[] = [];
  /** `busy_timeout` for one attempt at the lock, and back to the store's for everything else. */
  readonly #shortWait: Database.Statement;
  readonly #longWait: Database.Statement;
  /** The store's `synchronous` level where it fsyncs at commits (FULL, EXTRA), else null. */
  readonly #syncedLevel: number | null;
  /** Built once: better-sqlite3 compiles a new wrapper on every `transaction()` call. */
  readonly #transaction: Database.Transaction<
    (fn: () => unknown, ran: { ran: boolean }) => unknown
  >;
  #episodeSince = 0;
  #warned = false;
  #gaveUp = false;

  constructor(
    db: Database.Database,
    path: string,
    options: { timeoutMs: number; warnAfterMs: number },
  ) {
    this.#db = db;
    this.#path = path;
    this.#timeoutMs = options.timeoutMs;
    this.#warnAfterMs = options.warnAfterMs;
    // Reads keep the full busy timeout: they wait only while another process recovers the
    // WAL after a crash, which is short, and failing them would fail runs.
    this.#shortWait = db.prepare(
      `PRAGMA busy_timeout = ${Math.min(lockAttemptMs, options.timeoutMs)}`,
    );
    this.#longWait = db.prepare(`PRAGMA busy_timeout = ${options.timeoutMs}`);
    // SQLite applies a pragma when it compiles it: at `prepare`, then at every run but the
    // first (a run recompiles the statement the one before expired). Unspent, that first
    // run left a process's first write waiting the whole busy timeout with the loop blocked.
    this.#shortWait.get();
    this.#longWait.get();
    // 2 is FULL, 3 EXTRA: the levels that fsync the WAL at every commit.
    const level = db.pragma("synchronous", { simple: true }) as number;
    this.#syncedLevel = level >= 2 ? level : null;
    this.#transaction = db.transaction((fn: () => unknown, ran: { ran: boolean }) => {
      ran.ran = true;
      this.#longWait.get();
      return fn();
    });
  }

  /**
   * Runs `fn` in an immediate transaction once this process holds the write lock. With
   * `synced: false` the commit does not wait for the WAL's fsync (SQLite's `synchronous =
   * NORMAL`, for this transaction only): for writes that every process on the file may
   * lose together, see `SqliteStore.claimRuns`.
   */
  run<T>(fn: () => T, synced = true): Promise<T> {
    const run = () => this.#attempt(fn, synced);
    if (this.#queue.length === 0) {
      const attempt = run();
      if (attempt.done) {
        return attempt.ok ? Promise.resolve(attempt.value as T) : Promise.reject(attempt.error);
      }
      this.#episodeSince = performance.now();
      this.#warned = false;
      this.#gaveUp = false;
      setTimeout(() => this.#retry(), 1);
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        run,
        since: performance.now(),
        resolve: resolve as (value: unknown) => void,
        reject,
      });
    });
  }

  /**
   * Runs `fn` in an immediate transaction if the lock can be had now (waiting at most one
   * short attempt, behind no queued write); returns whether it committed. For writes that
   * may be skipped, such as a closing process's tidying up.
   */
  tryNow(fn: () => unknown): boolean {
    if (this.#queue.length > 0) return false;
    const attempt = this.#attempt(fn);
    return attempt.done && attempt.ok;
  }

  /** Hears long waits; returns the function that stops it. */
  onWait(listener: (wait: WriteLockWait) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Since when (`performance.now()`) a write has waited for the lock; null when none does. */
  get waitingSince(): number | null {
    return this.#queue.length > 0 ? this.#episodeSince : null;
  }

  #attempt(fn: () => unknown, synced = true): Attempt {
    const state = { ran: false };
    // SQLite refuses to change the level inside a transaction: around it, then. A statement
    // compiled each time, unlike the busy timeouts': a first run that did nothing here would
    // leave the store unsynced.
    const restore = synced ? null : this.#syncedLevel;
    try {
      this.#shortWait.get();
      if (restore !== null) this.#db.pragma("synchronous = NORMAL");
      const value = this.#transaction.immediate(fn, state);
      return { done: true, ok: true, value };
    } catch (error) {
      const ran = state.ran;
      if (!ran && this.#db.open) this.#longWait.get();
      if (!ran && errorCode(error).startsWith("SQLITE_BUSY") && this.#db.open)
        return { done: false };
      return {
        done: true,
        ok: false,
        error: isStorageFault(error) ? storageError(this.#path, error) : error,
      };
    } finally {
      if (restore !== null && this.#db.open) this.#db.pragma(`synchronous = ${restore}`);
    }
  }

  #retry(attempts = 1): void {
    for (;;) {
      const head = this.#queue[0];
      if (!head) {
        this.#ended();
        return;
      }
      const attempt = head.run();
      const now = performance.now();
      if (attempt.done) {
        this.#queue.shift();
        if (attempt.ok) head.resolve(attempt.value);
        else head.reject(attempt.error);
        continue; // the lock is free: the writes queued behind it go now
      }
      if (now - head.since >= this.#timeoutMs) {
        this.#queue.shift();
        this.#gaveUp = true;
        head.reject(this.#timedOut(now - head.since));
        continue;
      }
      if (!this.#warned && now - this.#episodeSince >= this.#warnAfterMs) {
        this.#warned = true;
        this.#report("waiting", now);
      }
      // 1, 2, 4 … ms, at most 50: a short hold costs little latency, a long one little CPU.
      setTimeout(() => this.#retry(attempts + 1), Math.min(2 ** attempts, 50));
      return;
    }
  }

  #ended(): void {
    if (this.#warned) this.#report(this.#gaveUp ? "gave-up" : "acquired", performance.now());
    this.#warned = false;
  }

  #report(state: WriteLockWait["state"], now: number): void {
    const holder = state === "acquired" ? undefined : writeLockHolder(this.#path);
    const wait: WriteLockWait = {
      state,
      path: this.#path,
      waitedMs: Math.round(now - this.#episodeSince),
      ...(holder ? { holder } : {}),
    };
    for (const listener of this.#listeners) {
      try {
        listener(wait);
      } catch {
        // A listener's failure must not stop the writes waiting in the queue.
      }
    }
  }

  #timedOut(waitedMs: number): CairnError {
    const holder = writeLockHolder(this.#path);
    const by = holder
      ? `process ${holder.pid}${holder.name ? ` (${holder.name})` : ""}`
      : "another process";
    return new CairnError(
      "STORE_UNAVAILABLE",
      `Database ${this.#path} stayed locked by ${by} for ${Math.round(waitedMs)} ms (the busy timeout); the write was not made. A process stopped or frozen while writing holds the lock until it resumes or exits.`,
    );
  }
}
