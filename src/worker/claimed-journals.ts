import type { RunStore } from "../store/run-store.ts";
import type { ClaimedRun, JournalEntry } from "../store/store.ts";

/**
 * The journals of a claimed batch from one read, not one per run: on PostgreSQL 200 claimed
 * runs each waited for a pooled connection to load theirs. Runs the claim found without a
 * journal (`journalEmpty`) read nothing. One entry per claimed run, in order: the journal,
 * the promise of it, or `undefined` for the only run to read, which loads its own.
 */
export function claimedJournals(
  store: Pick<RunStore, "getJournals">,
  claimed: readonly ClaimedRun[],
): (readonly JournalEntry[] | Promise<JournalEntry[]> | undefined)[] {
  const toRead = claimed.filter((c) => !c.journalEmpty);
  const all = toRead.length < 2 ? undefined : store.getJournals(toRead.map((c) => c.run.id));
  return claimed.map((c) => {
    if (c.journalEmpty) return [];
    if (!all) return undefined;
    const journal = all.then((journals) => journals.get(c.run.id) ?? []);
    journal.catch(() => {}); // reported where awaited; a run skipped never awaits it
    return journal;
  });
}
