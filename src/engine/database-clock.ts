import type { Clock } from "../core/clock.ts";
import type { AdminStore } from "../store/admin-store.ts";

/** A clock that follows the database's, with its offset refreshed in the background. */
export interface DatabaseClock extends Clock {
  /** Measured database time minus local time, in ms. */
  readonly offsetMs: number;
  stop(): void;
}

/**
 * Where every worker compares due times and leases against one database, they must agree
 * on "now": a host whose clock is ten minutes fast would otherwise fire timers early and
 * steal live leases. This clock is the local one shifted by the offset to the database's
 * `clock_timestamp()`, measured at the midpoint of a round trip and refreshed periodically.
 */
export async function createDatabaseClock(
  store: Required<Pick<AdminStore, "serverTime">>,
  local: Clock,
  refreshMs = 30_000,
): Promise<DatabaseClock> {
  let offsetMs = await measureOffset(store, local);
  const refresh = setInterval(() => {
    measureOffset(store, local).then(
      (offset) => {
        offsetMs = offset;
      },
      () => {}, // keep the last offset while the database is unreachable
    );
  }, refreshMs);
  refresh.unref();
  return {
    get offsetMs() {
      return offsetMs;
    },
    now: () => local.now() + offsetMs,
    setTimer: (at, fn) => local.setTimer(at - offsetMs, fn),
    stop: () => clearInterval(refresh),
  };
}

async function measureOffset(
  store: { serverTime(): Promise<number> },
  local: Clock,
): Promise<number> {
  const before = local.now();
  const server = await store.serverTime();
  const after = local.now();
  return Math.round(server - (before + after) / 2);
}
