import type { ReservedSql } from "postgres";
import { driverOf } from "./guarded-reservation.ts";

/** How long a kept connection waits for the next transaction before it goes back, in ms. */
const keepIdleMs = 100;
/**
 * How many are kept at most: enough for a worker's statements that overlap (a commit beside a
 * claim pass), few enough that a burst of transactions does not hold the pool's connections
 * idle, out of reach of plain statements, for `keepIdleMs`.
 */
const maxKept = 2;

interface Kept {
  reserved: ReservedSql;
  /** postgres.js's own release: back to its pool. */
  release: () => void;
  /** Its socket closed: postgres.js has taken it back (see `keep`). */
  closed: boolean;
  /** Gives it back once it waited `keepIdleMs` unused; re-armed each time it is kept. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * Reserved connections kept after their transaction, or their statement sent through
 * `RecyclingPool.hot`, for the next one: the most recently used first, two at most.
 *
 * postgres.js hands out the connection idle longest (its open queue is first in, first out):
 * with all ten of a pool's connections open, one run's transactions went round ten backends,
 * each woken cold, and W1, W2 and W4 on PostgreSQL were 20-40 % slower than on one or two.
 * Reusing the last connection released (as PgBouncer does by default) keeps one or two
 * backends hot; one that waits `keepIdleMs` unused goes back to postgres.js, where plain
 * statements use it.
 */
export class KeptConnections {
  readonly #stack: Kept[] = [];
  #draining = false;

  /** The connection kept last, or undefined. */
  take(): ReservedSql | undefined {
    // Its timer stays armed: when it fires, the connection is in use and stays out.
    return this.#stack.pop()?.reserved;
  }

  /** Makes `reserved.release()` keep it here instead of giving it back to postgres.js. */
  adopt(reserved: ReservedSql): void {
    const kept: Kept = { reserved, release: reserved.release, closed: false, timer: undefined };
    reserved.release = () => this.#keep(kept);
  }

  /** Gives every kept connection back to postgres.js, and any released from now on. */
  drain(): void {
    this.#draining = true;
    for (const kept of this.#stack.splice(0)) this.#giveBack(kept);
  }

  /** Once per step on the journal's path: no allocation after the first time. */
  #keep(kept: Kept): void {
    // Closed while in use: postgres.js moved it to its closed queue; releasing it now would
    // put a dead connection in its open queue.
    if (kept.closed) return;
    const driver = driverOf(kept.reserved);
    if (!driver || this.#draining) {
      this.#giveBack(kept);
      return;
    }
    if (kept.timer) kept.timer.refresh();
    else {
      // postgres.js calls a connection's `onclose` once when its socket closes: a kept
      // connection closed by a restart must not be handed out.
      driver.onclose = () => {
        kept.closed = true;
        clearTimeout(kept.timer);
        this.#remove(kept);
      };
      kept.timer = setTimeout(() => {
        if (this.#remove(kept)) this.#giveBack(kept);
      }, keepIdleMs);
      kept.timer.unref();
    }
    this.#stack.push(kept);
    // The least recently used goes back first: the hot ones stay.
    if (this.#stack.length > maxKept) {
      const oldest = this.#stack.shift();
      if (oldest) this.#giveBack(oldest);
    }
  }

  /** Takes `kept` off the stack; false when it was not there (in use, or given back). */
  #remove(kept: Kept): boolean {
    const at = this.#stack.indexOf(kept);
    if (at < 0) return false;
    this.#stack.splice(at, 1);
    return true;
  }

  #giveBack(kept: Kept): void {
    clearTimeout(kept.timer);
    const driver = driverOf(kept.reserved);
    if (driver) driver.onclose = null;
    kept.release();
  }
}
