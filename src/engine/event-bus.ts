import { EventEmitter } from "node:events";
import type { Clock } from "../core/clock.ts";
import type { EngineEvent, EngineEventListener } from "../core/engine-event.ts";
import { ensureError } from "../core/errors.ts";
import type { RunId, RunStatus } from "../core/types.ts";
import type { RunOutcome } from "../store/store.ts";

/**
 * How a run ended, as this process committed it or the store announced it (serialized, as
 * the store holds it): a `result()` waiting here needs no read of the store to return it.
 */
export type FinishNotice = RunOutcome;

/**
 * What the engine reports in this process: engine events for listeners (logs, metrics,
 * streams, tests) and per-run finish notices that wake `result()` waiters.
 */
export class EventBus {
  readonly #listeners = new Set<EngineEventListener>();
  readonly #finished = new EventEmitter();
  readonly #clock: Clock;
  readonly #onError: (error: Error, context: string) => void;

  constructor(clock: Clock, onError: (error: Error, context: string) => void) {
    this.#clock = clock;
    this.#onError = onError;
    this.#finished.setMaxListeners(0);
  }

  subscribe(listener: EngineEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Whether any listener is subscribed: events need not be built otherwise. */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  emit(event: EngineEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onError(ensureError(error), "notifying an engine event listener");
      }
    }
  }

  emitRun(
    runId: RunId,
    workflow: string,
    status: RunStatus,
    error?: Error,
    reason?: "created" | "retry" | "released",
  ): void {
    if (this.#listeners.size === 0) return;
    this.emit({
      type: "run",
      runId,
      workflow,
      status,
      at: this.#clock.now(),
      ...(error ? { error: { name: error.name, message: error.message } } : {}),
      ...(reason ? { reason } : {}),
    });
  }

  /**
   * Tells `result()` waiters in this process that the run may have ended; `notice`, once
   * the end is committed, says how (else they read the store).
   */
  finished(runId: RunId, notice?: FinishNotice): void {
    this.#finished.emit(runId, notice);
  }

  /** The runs a `result()` in this process waits for. */
  awaitedRuns(): RunId[] {
    return this.#finished.eventNames() as RunId[];
  }

  /**
   * Listens for the run's next finish notice from now on: `notice` resolves with how the run
   * ended (when the notice says) or, after `ms` (runs ending elsewhere), with undefined.
   * `cancel` stops listening (the waiter found the run ended by reading it).
   */
  nextFinish(
    runId: RunId,
    ms: number,
  ): { notice: Promise<FinishNotice | undefined>; cancel: () => void } {
    let done: (notice?: FinishNotice) => void = () => {};
    const notice = new Promise<FinishNotice | undefined>((resolve) => {
      done = (notice?: FinishNotice) => {
        clearTimeout(timer);
        this.#finished.off(runId, done);
        resolve(notice);
      };
    });
    const timer = setTimeout(done, ms);
    this.#finished.on(runId, done);
    return { notice, cancel: () => done() };
  }
}
