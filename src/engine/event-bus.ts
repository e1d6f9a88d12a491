import { EventEmitter } from "node:events";
import type { Clock } from "../core/clock.ts";
import type { EngineEvent, EngineEventListener } from "../core/engine-event.ts";
import { ensureError } from "../core/errors.ts";
import type { RunId, RunStatus } from "../core/types.ts";

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

  /** Tells `result()` waiters in this process that the run may have ended. */
  finished(runId: RunId): void {
    this.#finished.emit(runId);
  }

  /** Resolves at the run's next finish notice or after `ms` (runs ending elsewhere). */
  nextFinish(runId: RunId, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#finished.off(runId, done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#finished.on(runId, done);
    });
  }
}
