import type { RunStore } from "../store/run-store.ts";
import type { ClaimedRun, JournalEntry } from "../store/store.ts";

/**
 * The journals of a claimed batch from one read, not one per run: on PostgreSQL 200 claimed
 * runs each waited for a pooled connection to load theirs. One promise per claimed run, in
 * order; `undefined` for a batch of one, whose run loads its own journal.
 */
export function claimedJournals(
  store: Pick<RunStore, "getJournals">,
  claimed: readonly ClaimedRun[],
): (Promise<JournalEntry[]> | undefined)[] {
  if (claimed.length < 2) return claimed.map(() => undefined);
  const all = store.getJournals(claimed.map((c) => c.run.id));
  return claimed.map((c) => {
    const journal = all.then((journals) => journals.get(c.run.id) ?? []);
    journal.catch(() => {}); // reported where awaited; a run skipped never awaits it
    return journal;
  });
}
