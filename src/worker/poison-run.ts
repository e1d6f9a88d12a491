import { PoisonRunError } from "../core/errors.ts";
import type { ClaimedRun, JournalEntry } from "../store/store.ts";

/** Workers that may die in a row running a run without progress before it is quarantined. */
export const defaultMaxCrashes = 3;

/**
 * The quarantine verdict for a claim: a PoisonRunError when `maxCrashes` workers in a row
 * died running it without its journal moving on, else undefined.
 *
 * A step's attempt is journaled only when it ends, so the step in flight is named only
 * when an earlier attempt of it failed (its `retrying` entry); otherwise the error says
 * after which recorded step the workers died.
 */
export function poisonVerdict(
  claimed: ClaimedRun,
  journal: readonly JournalEntry[],
  maxCrashes: number,
): PoisonRunError | undefined {
  const crashes = claimed.crashes ?? 0;
  if (!claimed.takeover || crashes < maxCrashes) return undefined;
  const byPosition = [...journal].sort((a, b) => a.position - b.position);
  const inFlight = byPosition.find(
    (entry) =>
      entry.status === "retrying" && (entry.kind === "step" || entry.kind === "transaction"),
  );
  if (inFlight) return new PoisonRunError(crashes, { inFlight: inFlight.key });
  const last = byPosition.filter((e) => e.status === "completed" || e.status === "failed").at(-1);
  return new PoisonRunError(crashes, last ? { after: last.key } : {});
}
