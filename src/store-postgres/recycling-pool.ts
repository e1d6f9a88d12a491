import { setMaxListeners } from "node:events";
import type { ReservedSql, Sql } from "postgres";
import { CairnError } from "../core/errors.ts";
import { isConnectionError, learnDriver } from "./guarded-reservation.ts";
import { KeptConnections } from "./kept-connections.ts";
import { reserveConnection } from "./reserve-connection.ts";

/** Runs an autocommit statement on a hot connection: `RecyclingPool.hot`'s shape. */
export type Hot = <T>(statement: (sql: Sql) => Promise<T>) => Promise<T>;

/** How long a retired pool's statements in flight may take before its connections close, in s. */
const retireTimeoutS = 1;
/** How often a replacement is tried while the database is still away, in ms. */
const retryMs = 250;

/**
 * Seconds before a closed connection reconnects, after `failures` failed attempts in a row
 * (postgres.js counts them per pool): 50 ms doubling up to 1 s, with jitter. postgres.js's own
 * backoff grows as 3^failures / 100 s up to 20 s, and during a restart a busy worker fails
 * many connects in a row: its queries then waited up to 20 s after the database was back.
 */
export function reconnectDelayS(failures: number): number {
  return Math.min(0.05 * 2 ** failures, 1) * (0.5 + Math.random() / 2);
}

/**
 * The store's postgres.js pool, replaced by a fresh, warm one (see `warm`) after a
 * reservation failed to connect or one of its connections closed.
 *
 * postgres.js 3.4 (`reserve()` in its index.js) queues a reservation request and, if no
 * connection is open, also hands it to a closed connection to connect; when that connect
 * fails the request is rejected but stays in the pool's queue, and the next connection to
 * open is handed to the dead request and lost to the pool for good. While the database
 * restarts, every transaction attempted leaks a connection that way, so a worker soon has
 * none and waits forever (seen in Q-P1: a worker stalled until the next restart closed the
 * leaked connections). Hence, after such a failure, a fresh pool is opened; once it
 * answers, it replaces this one, which is ended: that closes the leaked connections. Ending
 * a postgres.js pool does not reject the reservations still queued in it, so those move to
 * the fresh pool (see `reserveConnection`). The replacement is tried every 250 ms until the
 * database answers, and by every reservation meanwhile; while the database is away the
 * check fails cheaply (a plain query leaves nothing behind) and the old pool stays.
 *
 * `sql` is a stable handle that forwards to whichever pool is current, so everything that
 * holds it (statements, fragments, `begin`, `reserve`) follows the replacement.
 */
export class RecyclingPool {
  readonly sql: Sql;
  readonly #open: (onclose: () => void) => Sql;
  #current: Sql;
  /** The current pool's connections kept between transactions (see `KeptConnections`). */
  #kept = new KeptConnections();
  #leaky = false;
  #ended = false;
  #retry: NodeJS.Timeout | undefined;
  #replacing: Promise<void> | undefined;
  readonly #retiring = new Set<Promise<void>>();
  /** Per pool: resolves when it is retired or ended, for the reservations waiting in it. */
  readonly #retirements = new Map<Sql, AbortController>();

  /** `open(onclose)` makes a postgres.js pool that calls `onclose` when a connection closes. */
  constructor(open: (onclose: () => void) => Sql) {
    this.#open = open;
    this.#current = this.#openWatched();
    const reserve = () => this.#reserve();
    this.sql = new Proxy((() => {}) as unknown as Sql, {
      apply: (_, thisArg, args) => Reflect.apply(this.#current, thisArg, args),
      get: (_, prop) => {
        if (prop === "reserve") return reserve;
        const value = Reflect.get(this.#current, prop);
        return typeof value === "function" ? value.bind(this.#current) : value;
      },
    });
  }

  /**
   * Called once a statement has succeeded: the pool's first connection has fetched
   * PostgreSQL's array types, and later connections reuse them instead of fetching again.
   * postgres.js fetches them on every new connection and leaves that fetch's promise
   * unhandled: a connection reset during it (a restart) is an unhandled rejection, which
   * ends a Node process (it hit the fault tests' harness in Q-P1).
   */
  typesKnown(): void {
    keepFetchedTypes(this.#current);
  }

  /**
   * Runs `statement` (autocommit) on the connection released last (see `KeptConnections`),
   * or on one reserved for it, which is then kept: statements that follow one another (a
   * worker's claim pass, a step's commit, a start's insert) stay on one hot backend, where
   * postgres.js would pick the one idle longest. Through the pool, a `cairn worker`'s claim
   * pass went round all ten connections, each backend woken cold: a one-step run started
   * over HTTP took 12.6 ms with ten connections open against 10.4 with four. A statement that
   * lost its connection leaves it.
   */
  async hot<T>(statement: (sql: Sql) => Promise<T>): Promise<T> {
    const connection = await this.#reserve();
    learnDriver(connection);
    let release = true;
    try {
      return await statement(connection);
    } catch (error) {
      release = !isConnectionError(error);
      throw error;
    } finally {
      if (release) connection.release();
    }
  }

  /** Ends the current pool and any being retired. */
  async end(options: { timeout?: number } = {}): Promise<void> {
    this.#ended = true;
    clearTimeout(this.#retry);
    this.#kept.drain();
    this.#retire(this.#current);
    await this.#replacing?.catch(() => {}); // a fresh pool being probed becomes current or is ended
    await Promise.all([this.#current.end(options), ...this.#retiring]);
  }

  async #reserve(): Promise<ReservedSql> {
    if (this.#leaky) await this.#replace();
    const kept = this.#kept.take();
    if (kept) return kept;
    for (;;) {
      if (this.#ended) {
        throw new CairnError("STORE_UNAVAILABLE", "The PostgreSQL store is closed.");
      }
      const pool = this.#current;
      try {
        const reserved = await reserveConnection(pool, this.#retirement(pool));
        if (reserved) {
          this.#kept.adopt(reserved);
          return reserved;
        }
        // The pool was replaced while the reservation waited in it: ask the current one.
      } catch (error) {
        if (isConnectionError(error)) this.#markLeaky();
        throw error;
      }
    }
  }

  /** Fires once `pool` is retired or ended. */
  #retirement(pool: Sql): AbortSignal {
    let retirement = this.#retirements.get(pool);
    if (!retirement) {
      retirement = new AbortController();
      // Every reservation waiting in the pool listens (then stops): no leak to warn about.
      setMaxListeners(0, retirement.signal);
      this.#retirements.set(pool, retirement);
    }
    return retirement.signal;
  }

  #retire(pool: Sql): void {
    this.#retirements.get(pool)?.abort();
    this.#retirements.delete(pool);
  }

  /**
   * Replaces the pool as soon as the database answers, without waiting for the next
   * reservation: every caller may be waiting inside the old pool (behind the requests that
   * swallow its connections), and ending it is what releases them, with an error.
   */
  #markLeaky(): void {
    if (this.#leaky) return;
    this.#leaky = true;
    const attempt = () => {
      if (!this.#leaky || this.#ended) return;
      this.#replace().catch(() => {
        this.#retry = setTimeout(attempt, retryMs);
        this.#retry.unref();
      });
    };
    attempt();
  }

  /**
   * Opens every connection of the pool, before its first reservation (the store calls this
   * once it has opened; a replacement is warmed before it becomes current). Throws if the
   * database answered none of them.
   *
   * With `fetch_types: false` (see `typesKnown`), postgres.js 3.4.9 strands a connection it
   * opens for a reservation: once started up, the connection is neither handed over nor put
   * in the pool's open queue, and idles for good (porsager/postgres#1195, #1219). On a cold
   * pool every reservation of a burst opens one that way: a fresh store, or a pool after a
   * restart, then ran every transaction on one connection (9 of 10 stranded, seen in
   * `pg_stat_activity`), or stranded them all and a plain statement waited until the next
   * restart closed them (Q-P1: the harness's start hung, and the workers had nothing to
   * do). Plain statements open connections that join the pool; reservations then find them
   * open.
   */
  warm(): Promise<void> {
    return openEveryConnection(this.#current);
  }

  /**
   * A pool whose connections, once one closes while it is current (a restart, a killed
   * backend), have it replaced by a warm one: its closed connections would be opened again
   * by the next reservations, and stranded (see `warm`).
   */
  #openWatched(): Sql {
    const pool: Sql = this.#open(() => {
      if (pool === this.#current && !this.#ended) this.#markLeaky();
    });
    return pool;
  }

  #replace(): Promise<void> {
    this.#replacing ??= (async () => {
      const fresh = this.#openWatched();
      reuseTypes(this.#current, fresh);
      try {
        await openEveryConnection(fresh);
      } catch (error) {
        await fresh.end({ timeout: 0 }).catch(() => {});
        throw error;
      }
      if (this.#ended) {
        await fresh.end({ timeout: 0 }).catch(() => {});
        return;
      }
      const old = this.#current;
      this.#current = fresh;
      this.#kept.drain();
      this.#kept = new KeptConnections();
      this.#leaky = false;
      this.#retire(old);
      const retired = old
        .end({ timeout: retireTimeoutS })
        .catch(() => {})
        .finally(() => this.#retiring.delete(retired));
      this.#retiring.add(retired);
    })().finally(() => {
      this.#replacing = undefined;
    });
    return this.#replacing;
  }
}

/** Runs `SELECT 1` on each of `pool`'s connections at once; throws if none answered. */
async function openEveryConnection(pool: Sql): Promise<void> {
  const opened = await Promise.allSettled(
    Array.from({ length: pool.options.max }, () => pool`SELECT 1`),
  );
  const failure = opened.find((o) => o.status === "rejected");
  if (failure && opened.every((o) => o.status === "rejected")) throw failure.reason;
}

/**
 * Makes `sql`'s new connections reuse the array types it has fetched instead of fetching
 * them again: postgres.js leaves that fetch's promise unhandled (see `typesKnown`).
 */
export function keepFetchedTypes(sql: Sql): void {
  (sql.options as unknown as { fetch_types: boolean }).fetch_types = false;
}

/** Gives `to` the array types `from` fetched (see `typesKnown`), if it has them. */
function reuseTypes(from: Sql, to: Sql): void {
  type TypeOptions = {
    parsers: Record<number, unknown>;
    serializers: Record<number, unknown>;
    shared: { typeArrayMap: Record<number, number> };
  };
  const source = from.options as unknown as TypeOptions;
  const target = to.options as unknown as TypeOptions;
  if (Object.keys(source.shared.typeArrayMap).length === 0) return;
  Object.assign(target.parsers, source.parsers);
  Object.assign(target.serializers, source.serializers);
  Object.assign(target.shared.typeArrayMap, source.shared.typeArrayMap);
  keepFetchedTypes(to);
}
