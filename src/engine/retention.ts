import type { Clock } from "../core/clock.ts";
import { type Duration, toMs } from "../core/duration.ts";
import type { EngineEvent } from "../core/engine-event.ts";
import { ensureError } from "../core/errors.ts";
import type { RunStore } from "../store/run-store.ts";
import { purgeFinishedRuns } from "./purge-runs.ts";

/** Background retention: finished runs older than `olderThan` are purged, pass by pass. */
export interface RetentionOptions {
  /** Finished (completed, failed, cancelled) runs older than this are deleted with their journals. */
  olderThan: Duration;
  /** Time between two passes. (Default: "1h") */
  every?: Duration;
  /**
   * Runs deleted per chunk, each chunk one short transaction. (Default: adapted so that a
   * chunk takes about 100 ms)
   */
  chunkRuns?: number;
  /**
   * Runs deleted per pass at most; a pass that reaches it is followed by the next one after
   * a minute instead of `every`. (Default: 100_000)
   */
  maxRunsPerPass?: number;
}

/** What the sweeper needs from its engine. */
export interface RetentionHost {
  readonly store: Pick<RunStore, "deleteFinishedRuns">;
  readonly clock: Clock;
  emit(event: EngineEvent): void;
  reportError(error: Error, context: string): void;
}

/** `retention` as given to `Cairn.open`, checked: a duration, or the options object. */
export function resolveRetention(retention: Duration | RetentionOptions): {
  olderMs: number;
  everyMs: number;
  chunkRuns: number | undefined;
  maxRunsPerPass: number;
} {
  const options = typeof retention === "object" ? retention : { olderThan: retention };
  if (options === null || options.olderThan === undefined) {
    throw new TypeError(
      'Cairn.open: `retention` needs a duration such as "30d" (or { olderThan }).',
    );
  }
  const olderMs = toMs(options.olderThan, "retention");
  const everyMs = toMs(options.every ?? "1h", "retention.every");
  if (everyMs <= 0) throw new TypeError("Cairn.open: retention.every must be longer than 0.");
  const positive = <F extends number | undefined>(
    value: number | undefined,
    field: string,
    fallback: F,
  ): number | F => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < 1) {
      throw new TypeError(
        `Cairn.open: retention.${field} must be a positive integer, got ${value}.`,
      );
    }
    return value;
  };
  return {
    olderMs,
    everyMs,
    chunkRuns: positive(options.chunkRuns, "chunkRuns", undefined),
    maxRunsPerPass: positive(options.maxRunsPerPass, "maxRunsPerPass", 100_000),
  };
}

/** After a pass that stopped at its bound, the next comes this soon. */
const backlogPassMs = 60_000;

/**
 * Runs retention passes on the engine's clock: the first when started, then every `every`
 * (after a minute while a backlog remains). The next pass is armed before a pass begins, so
 * a pass's end is always followed by a timer; a pass that falls due while one runs follows
 * it (never two at once, several due meanwhile make one). Each pass purges in bounded chunks (see purgeFinishedRuns); a failed pass
 * is reported and the next one tries again. Any number of processes may run it on one
 * database: chunks skip rows another one holds.
 */
export class RetentionSweeper {
  readonly #host: RetentionHost;
  readonly #options: ReturnType<typeof resolveRetention>;
  readonly #abort = new AbortController();
  #cancelTimer: (() => void) | undefined;
  #pass: Promise<void> | undefined;
  #again = false;

  constructor(host: RetentionHost, options: ReturnType<typeof resolveRetention>) {
    this.#host = host;
    this.#options = options;
  }

  start(): void {
    this.#arm(this.#host.clock.now());
  }

  /** Stops: no new pass, the current one ends after its chunk. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#cancelTimer?.();
    await this.#pass;
  }

  #arm(at: number): void {
    this.#cancelTimer?.();
    if (this.#abort.signal.aborted) return;
    this.#cancelTimer = this.#host.clock.setTimer(at, () => this.#due());
  }

  #due(): void {
    this.#arm(this.#host.clock.now() + this.#options.everyMs);
    if (this.#pass) {
      this.#again = true;
      return;
    }
    this.#pass = this.#passes();
  }

  /** Runs a pass, and one more if another fell due meanwhile (never two at once). */
  async #passes(): Promise<void> {
    do {
      this.#again = false;
      await this.#runPass();
    } while (this.#again && !this.#abort.signal.aborted);
    this.#pass = undefined;
  }

  async #runPass(): Promise<void> {
    const { clock } = this.#host;
    const before = clock.now() - this.#options.olderMs;
    try {
      await purgeFinishedRuns(
        this.#host.store,
        before,
        {
          maxRuns: this.#options.maxRunsPerPass,
          ...(this.#options.chunkRuns === undefined ? {} : { chunkRuns: this.#options.chunkRuns }),
        },
        (runs, done, more) => {
          // Armed before the pass reports its end: whoever hears it finds the next pass set.
          if (done && more) this.#arm(clock.now() + Math.min(backlogPassMs, this.#options.everyMs));
          this.#host.emit({ type: "purge", runs, before, done, more, at: clock.now() });
        },
        this.#abort.signal,
      );
    } catch (error) {
      this.#host.reportError(ensureError(error), "purging finished runs (retention)");
    }
  }
}
