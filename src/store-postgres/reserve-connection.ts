import type { ReservedSql, Sql } from "postgres";

/** How often a reservation still waiting nudges its pool again, in ms. */
const nudgeEveryMs = 250;

/**
 * `pool.reserve()`, made to arrive, or `undefined` once `abandon` fires first.
 *
 * With `fetch_types: false` (which the store sets, see `RecyclingPool.typesKnown`),
 * postgres.js 3.4.9 can leave a reservation waiting for good (porsager/postgres#751,
 * #1219). A reservation that finds no open connection has a closed one opened for it, but
 * once that connection has started up nothing hands it over: the request waits in the
 * pool's queue until some other statement finishes. Worse, a connection that closes takes
 * the first queued request with it to reconnect, and a reservation taken that way is
 * dropped once the connection is up: no longer queued, it never arrives. Both were seen
 * after PostgreSQL restarts, freezing a worker's journal writer (and with it the worker's
 * runs) while its pool had idle connections.
 *
 * So a reservation not served at once nudges the pool with `SELECT 1` and again every
 * 250 ms while it waits: the connection that answers a nudge goes to the first request in
 * the queue. A nudge answered while the reservation still waits means its request is
 * lost, or behind others: another request is queued, and whichever arrives first is used;
 * any that arrives later is released at once.
 *
 * `abandon` firing means nobody will use this pool any more (it was replaced): requests
 * still queued in it would wait there for good, so the caller asks the current pool. It is
 * a signal whose listener is removed once the reservation settles: a `.then` on the pool's
 * long-lived retirement promise stayed attached for as long as the pool lived, holding each
 * reservation's closures (about 3 KB per transaction, for good: the server's heap grew with
 * every PostgreSQL transaction it ever ran, bad requests included).
 */
export function reserveConnection(
  pool: Sql,
  abandon: AbortSignal,
): Promise<ReservedSql | undefined> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let latest = 0;
    let nudging = false;
    let timer: NodeJS.Timeout | undefined;
    let first: NodeJS.Immediate | undefined;
    const onAbandon = () => {
      if (settled) return;
      settle();
      resolve(undefined);
    };
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      clearImmediate(first);
      abandon.removeEventListener("abort", onAbandon);
    };
    const request = () => {
      const id = ++latest;
      pool.reserve().then(
        (reserved) => {
          if (settled) return reserved.release();
          settle();
          resolve(reserved);
        },
        (error: unknown) => {
          // A request given up on may fail later (its connection could not open): only the
          // latest one speaks for the reservation.
          if (settled || id !== latest) return;
          settle();
          reject(error);
        },
      );
    };
    const nudge = () => {
      if (settled) return;
      timer = setTimeout(nudge, nudgeEveryMs);
      timer.unref();
      if (nudging) return;
      nudging = true;
      pool`SELECT 1`.then(
        () => {
          nudging = false;
          // The answering connection has served the queue's head by now.
          setImmediate(() => {
            if (!settled) request();
          });
        },
        () => {
          // The database is still away: the reservation's own request reports it.
          nudging = false;
        },
      );
    };
    if (abandon.aborted) return onAbandon();
    abandon.addEventListener("abort", onAbandon);
    request();
    // A reservation served by an open connection is in hand before this runs.
    first = setImmediate(nudge);
  });
}
