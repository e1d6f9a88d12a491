import type Database from "better-sqlite3";
import type { RunId } from "../core/types.ts";

/** A read of the awaited runs slower than this spaces the next ones out (see below). */
const defaultSlowReadMs = 1;

/**
 * Finds which awaited runs have ended, for `watchEnds`: SQLite announces nothing, so after
 * each commit of another connection one read looks at the awaited runs. For a few waiters
 * the read takes microseconds; for thousands it scans them all on every commit, so once a
 * read takes over a millisecond the next waits ten times as long, the commits in between
 * folded into that one read. Returns what to call at each commit, and how to stop.
 */
export function endedRunsReader(
  db: Database.Database,
  onEnded: (runIds: readonly RunId[]) => void,
  awaited: () => readonly RunId[],
  { slowReadMs = defaultSlowReadMs, now = () => performance.now() } = {},
): { onCommit: () => void; stop: () => void } {
  const ended = db
    .prepare(`SELECT id FROM runs WHERE id IN (SELECT value FROM json_each(?))
      AND status IN ('completed', 'failed', 'cancelled')`)
    .pluck();
  let nextAt = 0;
  let deferred: NodeJS.Timeout | undefined;
  const read = () => {
    deferred = undefined;
    const ids = awaited();
    if (ids.length === 0 || !db.open) return;
    const startedAt = now();
    let found: RunId[];
    try {
      found = ended.all(JSON.stringify(ids)) as RunId[];
    } catch {
      return; // busy or closing: the waiters' own polls catch up
    }
    const tookMs = now() - startedAt;
    nextAt = tookMs > slowReadMs ? startedAt + tookMs * 10 : 0;
    if (found.length > 0) onEnded(found);
  };
  return {
    onCommit() {
      if (deferred) return;
      const waitMs = nextAt - now();
      if (waitMs <= 0) return read();
      deferred = setTimeout(read, waitMs);
    },
    stop: () => clearTimeout(deferred),
  };
}
