/**
 * The one source of time for timers, leases, retries and waits. Tests inject a
 * controllable clock (see `cairnjs/testing`) so a 30-day sleep passes in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once `now() >= at`. Returns a function that cancels the timer. */
  setTimer(at: number, fn: () => void): () => void;
}

/** Wall-clock time with Node timers; `offsetMs` shifts it (used to test clock skew). */
export function systemClock(offsetMs = 0): Clock {
  return {
    now: () => Date.now() + offsetMs,
    setTimer(at, fn) {
      // Node caps timers at ~24.8 days; longer waits re-arm on the way.
      const maxDelay = 2 ** 31 - 1;
      let handle: NodeJS.Timeout;
      const arm = () => {
        const delay = at - (Date.now() + offsetMs);
        if (delay > maxDelay) handle = setTimeout(arm, maxDelay);
        else handle = setTimeout(fn, Math.max(0, delay));
      };
      arm();
      return () => clearTimeout(handle);
    },
  };
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts. */
export function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.setTimer(clock.now() + ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
