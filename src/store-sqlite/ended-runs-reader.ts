import type Database from "better-sqlite3";
import type { RunId } from "../core/types.ts";
import type { RunOutcome } from "../store/store.ts";

interface EndedRow {
  id: RunId;
  status: "completed" | "failed" | "cancelled";
  output: string | null;
  error: string | null;
  continued_to: string | null;
}

/**
 * What a waiter returns without a read: a completion's output, a failure's error. Not a
 * cancel, nor a run that continued as new (its result is its successor's).
 */
function outcomesOf(rows: readonly EndedRow[]): Map<RunId, RunOutcome> {
  const outcomes = new Map<RunId, RunOutcome>();
  for (const { id, status, output, error, continued_to } of rows) {
    if (status === "completed" && output !== null && continued_to === null) {
      outcomes.set(id, { status, output });
    } else if (status === "failed" && error !== null) {
      outcomes.set(id, { status, error });
    }
  }
  return outcomes;
}

/**
 * The awaited runs that have ended, found by id. The `+` keeps SQLite off the index of
 * `status`: it walked every ended run to find the awaited ones, 1.1 ms of CPU for one id
 * beside 4,400 runs, and a read over a millisecond spaces the next ones out (below), so a
 * waiter in another process heard of its run's end ten milliseconds late.
 */
export const endedRunsText = `SELECT id, status, output, error, continued_to FROM runs
    WHERE id IN (SELECT value FROM json_each(?)) AND +status IN ('completed', 'failed', 'cancelled')`;

/** A read of the awaited runs slower than this spaces the next ones out (see below). */
const defaultSlowReadMs = 1;

/**
 * Finds which awaited runs have ended, and how, for `watchEnds`: SQLite announces nothing,
 * so after each commit of another connection one read looks at the awaited runs. For a few waiters
 * the read takes microseconds; for thousands it scans them all on every commit, so once a
 * read takes over a millisecond the next waits ten times as long, the commits in between
 * folded into that one read. Returns what to call at each commit, and how to stop.
 */
export function endedRunsReader(
  db: Database.Database,
  onEnded: (runIds: readonly RunId[], outcomes: ReadonlyMap<RunId, RunOutcome>) => void,
  awaited: () => readonly RunId[],
  { slowReadMs = defaultSlowReadMs, now = () => performance.now() } = {},
): { onCommit: () => void; stop: () => void } {
  const ended = db.prepare(endedRunsText);
  let nextAt = 0;
  let deferred: NodeJS.Timeout | undefined;
  const read = () => {
    deferred = undefined;
    const ids = awaited();
    if (ids.length === 0 || !db.open) return;
    const startedAt = now();
    let found: EndedRow[];
    try {
      found = ended.all(JSON.stringify(ids)) as EndedRow[];
    } catch {
      return; // busy or closing: the waiters' own polls catch up
    }
    const tookMs = now() - startedAt;
    nextAt = tookMs > slowReadMs ? startedAt + tookMs * 10 : 0;
    if (found.length > 0)
      onEnded(
        found.map((row) => row.id),
        outcomesOf(found),
      );
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
