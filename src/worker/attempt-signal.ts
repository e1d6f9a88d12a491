/** The run's side of an attempt's signal. */
export interface RunAbort {
  readonly signal: AbortSignal;
  /** Calls `listener` when `signal` aborts; returns the function that stops it. */
  onAbort(listener: () => void): () => void;
}

/**
 * `RunAbort.onAbort` for `signal`: one listener on the signal calls a set of them, as
 * Node's EventTarget is slow enough to show in every step's cost when each attempt adds its own.
 */
export function abortListeners(signal: AbortSignal): RunAbort["onAbort"] {
  const listeners = new Set<() => void>();
  signal.addEventListener(
    "abort",
    () => {
      for (const listener of listeners) listener();
    },
    { once: true },
  );
  return (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
}

/**
 * A step attempt's abort signal, made when the step first reads it: most steps never do,
 * and on Node 20 an AbortController with its signal costs microseconds on every step.
 * Until `detach()` (the attempt has ended) it follows the run's signal.
 */
export class AttemptSignal {
  readonly #run: RunAbort;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #detached = false;
  #stopFollowing: (() => void) | undefined;

  constructor(run: RunAbort) {
    this.#run = run;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      if (this.#aborted) controller.abort(this.#reason);
      else if (!this.#detached) {
        const run = this.#run.signal;
        if (run.aborted) controller.abort(run.reason);
        else this.#stopFollowing = this.#run.onAbort(() => controller.abort(run.reason));
      }
    }
    return this.#controller.signal;
  }

  /** Aborts the attempt's signal (now, or when it is made) with `reason`. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  /** The attempt has ended: the run's abort no longer reaches this signal. */
  detach(): void {
    this.#detached = true;
    this.#stopFollowing?.();
  }
}
