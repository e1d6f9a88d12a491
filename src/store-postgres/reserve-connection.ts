import type { ReservedSql, Sql } from "postgres";

/** How often a reservation still waiting nudges its pool again, in ms. */
const nudgeEveryMs = 250;

/**
 * `pool.reserve()`, made to arrive, or `undefined` once `abandon` resolves first.
 *
 * postgres.js 3.4.9 hands a waiting reservation a connection only when some connection of
 * the pool finishes a statement. When no connection is open, `reserve()` also opens one for
 * itself, but with `fetch_types: false` (which the store sets, see
 * `RecyclingPool.typesKnown`) that connection finishes its startup and then sits idle,
 * never handed over (porsager/postgres#751, #1219): with no other statement in flight the
 * reservation waits for good. Seen after PostgreSQL restarts: a worker's journal batch
 * waited for a connection while its pool had two idle ones, and the worker froze with its
 * runs. So a reservation that is not served at once nudges the pool with `SELECT 1`, and
 * again while it waits: the connection that answers it goes to the reservation next.
 *
 * `abandon` resolving means nobody will use this pool any more (it was replaced): a
 * reservation still queued in it would wait there for good, so the caller asks the current
 * pool instead, and a connection that arrives here later is released at once.
 */
export function reserveConnection(
  pool: Sql,
  abandon: Promise<void>,
): Promise<ReservedSql | undefined> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let nudging = false;
    let timer: NodeJS.Timeout | undefined;
    let first: NodeJS.Immediate | undefined;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      clearImmediate(first);
    };
    const nudge = () => {
      if (settled) return;
      timer = setTimeout(nudge, nudgeEveryMs);
      timer.unref();
      if (nudging) return;
      nudging = true;
      // Its failure (the database still away) is the reservation's to report, not the nudge's.
      pool`SELECT 1`.then(
        () => {
          nudging = false;
        },
        () => {
          nudging = false;
        },
      );
    };
    pool.reserve().then(
      (reserved) => {
        if (settled) return reserved.release();
        settle();
        resolve(reserved);
      },
      (error: unknown) => {
        if (settled) return;
        settle();
        reject(error);
      },
    );
    void abandon.then(() => {
      if (settled) return;
      settle();
      resolve(undefined);
    });
    // A reservation served by an open connection is in hand before this runs.
    first = setImmediate(nudge);
  });
}
