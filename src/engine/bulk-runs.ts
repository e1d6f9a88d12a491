import { CairnError } from "../core/errors.ts";
import type { RunId, RunStatus } from "../core/types.ts";
import type { RunFilter, RunRecord } from "../store/store.ts";

export type BulkAction = "cancel" | "retry";

export interface BulkRequest {
  action: BulkAction;
  /** The runs to act on: those matching `filter` (no cursor or limit), or exactly `ids`. */
  filter?: Omit<RunFilter, "before" | "limit" | "updatedAfter">;
  ids?: readonly string[];
  /** Count and list what would be affected; change nothing. */
  dryRun?: boolean;
}

export interface BulkResult {
  /** Runs the filter or ids matched. */
  matched: number;
  /** Runs the action changed (0 on a dry run). */
  affected: number;
  /** The runs affected (on a dry run: that would be), at most `maxListed`. */
  ids: string[];
}

/** The most ids a bulk result lists, and the most runs one bulk action matches. */
export const maxListed = 1000;
export const maxMatched = 100_000;

/** Which statuses each action applies to; other matched runs are left alone. */
const eligible: Record<BulkAction, readonly RunStatus[]> = {
  cancel: ["queued", "running", "waiting"],
  retry: ["failed", "cancelled"],
};

/**
 * Cancels or retries many runs: the ones a filter matches (paged through the run list) or
 * a list of ids. Runs the action does not apply to (a finished run to cancel, a completed
 * one to retry) count as matched, not affected. One failing run does not stop the others.
 * @throws CairnError `INVALID_ARGUMENT` without exactly one of `filter` and `ids`, or when
 *   more than `maxMatched` runs match.
 */
export async function bulkRuns(
  engine: {
    listRuns(filter: RunFilter): Promise<RunRecord[]>;
    getRun(id: RunId): Promise<RunRecord | undefined>;
    cancel(id: string): Promise<void>;
    retry(id: string): Promise<unknown>;
  },
  request: BulkRequest,
): Promise<BulkResult> {
  if ((request.filter === undefined) === (request.ids === undefined)) {
    throw new CairnError(
      "INVALID_ARGUMENT",
      "A bulk action takes exactly one of `filter` and `ids`.",
    );
  }
  const matched: RunRecord[] = [];
  if (request.ids) {
    for (const id of new Set(request.ids)) {
      const run = await engine.getRun(id as RunId);
      if (run) matched.push(run);
    }
  } else {
    let before: RunFilter["before"];
    for (;;) {
      const page = await engine.listRuns({
        ...request.filter,
        limit: 1000,
        ...(before ? { before } : {}),
      });
      matched.push(...page);
      if (matched.length > maxMatched) {
        throw new CairnError(
          "INVALID_ARGUMENT",
          `The filter matches more than ${maxMatched} runs; narrow it (workflow, status, from/to).`,
        );
      }
      const last = page.at(-1);
      if (page.length < 1000 || !last) break;
      before = { createdAt: last.createdAt, id: last.id };
    }
  }
  const targets = matched.filter((run) => eligible[request.action].includes(run.status));
  if (request.dryRun) {
    return {
      matched: matched.length,
      affected: 0,
      ids: targets.slice(0, maxListed).map((r) => r.id),
    };
  }
  const affected: string[] = [];
  for (const run of targets) {
    try {
      if (request.action === "cancel") await engine.cancel(run.id);
      else await engine.retry(run.id);
      affected.push(run.id);
    } catch (error) {
      // Changed meanwhile (finished, retried by someone else): not affected by this action.
      if (!CairnError.is(error)) throw error;
    }
  }
  return { matched: matched.length, affected: affected.length, ids: affected.slice(0, maxListed) };
}
