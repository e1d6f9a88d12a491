import { type Duration, toMs } from "./duration.ts";

/** How often and how fast a failed step is tried again. */
export interface RetryPolicy {
  /** Attempts in all, the first included. (Default: 3) */
  maxAttempts?: number;
  /** `"exponential"` doubles the delay each attempt; `"fixed"` keeps it. (Default: "exponential") */
  backoff?: "exponential" | "fixed";
  /** Delay before the second attempt. (Default: "1s") */
  initialInterval?: Duration;
  /** Upper bound of any delay. (Default: "1m") */
  maxInterval?: Duration;
}

export interface ResolvedRetryPolicy {
  maxAttempts: number;
  backoff: "exponential" | "fixed";
  initialMs: number;
  maxMs: number;
}

export function resolveRetryPolicy(...layers: (RetryPolicy | undefined)[]): ResolvedRetryPolicy {
  const merged: RetryPolicy = Object.assign({}, ...layers.filter(Boolean));
  const maxAttempts = merged.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new TypeError(`Invalid retry.maxAttempts ${maxAttempts}: expected an integer ≥ 1.`);
  }
  return {
    maxAttempts,
    backoff: merged.backoff ?? "exponential",
    initialMs: toMs(merged.initialInterval ?? "1s", "retry.initialInterval"),
    maxMs: toMs(merged.maxInterval ?? "1m", "retry.maxInterval"),
  };
}

/**
 * Delay before attempt `nextAttempt` (2 for the first retry). Full jitter over the upper
 * half of the interval keeps retries of many runs from arriving in lockstep.
 */
export function backoffDelay(
  policy: ResolvedRetryPolicy,
  nextAttempt: number,
  random = Math.random,
): number {
  const exponent = policy.backoff === "exponential" ? nextAttempt - 2 : 0;
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.round(base / 2 + (random() * base) / 2);
}
