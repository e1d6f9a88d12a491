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
  // The best of three at the start: a first round trip slowed by a cold connection would
  // shift every lease and timer of this process until the next refresh.
  const samples = [];
  for (let i = 0; i < 3; i++) samples.push(await measureOffset(store, local));
  let best = samples.reduce((a, b) => (b.roundTripMs < a.roundTripMs ? b : a));
  let offsetMs = best.offsetMs;
  const refresh = setInterval(() => {
    measureOffset(store, local).then(
      (sample) => {
        // The midpoint of a round trip is off by up to half of it: one that spanned a pause
        // of the database (or of this process) would move the clock by seconds. Such a
        // sample is dropped; the last good offset stays.
        if (sample.roundTripMs > Math.max(maxRoundTripMs, 2 * best.roundTripMs)) return;
        offsetMs = sample.offsetMs;
        if (sample.roundTripMs < best.roundTripMs) best = sample;
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

/** Round trips longer than this (or than twice the best one seen) give no new offset. */
const maxRoundTripMs = 250;

async function measureOffset(
  store: { serverTime(): Promise<number> },
  local: Clock,
): Promise<{ offsetMs: number; roundTripMs: number }> {
  const before = local.now();
  const server = await store.serverTime();
  const after = local.now();
  return { offsetMs: Math.round(server - (before + after) / 2), roundTripMs: after - before };
}
