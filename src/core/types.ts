/** Identifies one run of a workflow. */
export type RunId = string & { __brand: "RunId" };

/**
 * A run's life:
 *   queued → running → completed | failed | cancelled
 *   running → waiting (sleep, event, signal, child) → queued → running …
 *   running → queued (released on shutdown, or its lease expired and nobody claimed it yet)
 * Any non-terminal state → cancelled.
 */
export type RunStatus = "queued" | "running" | "waiting" | "completed" | "failed" | "cancelled";

export const terminalStatuses: readonly RunStatus[] = ["completed", "failed", "cancelled"];

export function isTerminal(status: RunStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}

/** What a journal position holds. */
export type EntryKind =
  | "step"
  | "transaction"
  | "sleep"
  | "event"
  | "signal"
  | "invoke"
  | "any"
  | "now"
  | "random"
  | "uuid"
  /** A `ctx.patched(id)` marker: this run reached the patch under the new code. */
  | "patch";

/**
 * `completed` and `failed` are final; `retrying` is a step between attempts; `waiting` is a
 * sleep, event, signal or child that has not resolved yet.
 */
export type EntryStatus = "completed" | "failed" | "retrying" | "waiting";
