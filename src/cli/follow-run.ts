import type { RemoteUpdate } from "../client/wire-operations.ts";
import type { RunInfo } from "../core/run-info.ts";
import { isTerminal, type RunStatus } from "../core/types.ts";
import type { ProgressView, StepUpdate } from "./run-view.ts";

/** A run as `cairn run --wait` sees it: `getRun`, of the engine or of the API. */
export interface RunSnapshot {
  id: string;
  workflow: string;
  status: RunStatus;
  output?: unknown;
  error?: { name: string; message: string } | null;
  createdAt?: string | Date | null;
  finishedAt?: string | Date | null;
  steps?: StepUpdate[];
}

/** How long a run took from creation to its end, if it ended. */
export function elapsedMs(run: RunSnapshot): number | null {
  if (!run.finishedAt || !run.createdAt) return null;
  return new Date(run.finishedAt).getTime() - new Date(run.createdAt).getTime();
}

export function snapshotOf(info: RunInfo): RunSnapshot {
  return {
    ...info,
    error: info.error ? { name: info.error.name, message: info.error.message } : null,
  };
}

/**
 * Follows one run to its end, feeding a {@link ProgressView}. Live engine events (from the
 * API's event stream) show each step as it starts; polled snapshots are the authority on
 * the run's status and catch whatever the stream cannot see (a worker in another process).
 */
export class RunFollower {
  readonly #view: ProgressView;
  readonly #snapshot: () => Promise<RunSnapshot>;
  readonly #pollMs: number;
  #runId: string | undefined;
  readonly #early: RemoteUpdate[] = [];
  #poke: (() => void) | undefined;
  /** The stream said the run ended: fetch the final snapshot without waiting. */
  #endSeen = false;
  /**
   * Set when an event stream feeds this follower: status changes then come from the stream,
   * snapshots (which may be older than the last event) only tell when the run has ended,
   * and polling slows to once a second.
   */
  live = false;

  constructor(view: ProgressView, snapshot: () => Promise<RunSnapshot>, pollMs: number) {
    this.#view = view;
    this.#snapshot = snapshot;
    this.#pollMs = pollMs;
  }

  /** An update of any run; updates that arrive before the run id is known are kept. */
  event(event: RemoteUpdate): void {
    if (event.type !== "run" && event.type !== "step") return;
    if (this.#runId === undefined) {
      this.#early.push(event);
      return;
    }
    if (event.runId !== this.#runId) return;
    if (event.type === "run") {
      // The end is shown from the final snapshot, after the steps it records.
      if (isTerminal(event.status)) {
        this.#endSeen = true;
        this.#poke?.();
      } else this.#view.run(event.status);
    } else {
      this.#view.step({
        key: event.key,
        kind: event.kind,
        status: event.status,
        attempt: event.attempt,
        durationMs: event.durationMs ?? null,
        error: event.error ?? null,
      });
    }
  }

  /** Follows `runId` until it ends; resolves to its final snapshot. */
  async follow(runId: string): Promise<RunSnapshot> {
    this.#runId = runId;
    for (const event of this.#early.splice(0)) this.event(event);
    for (;;) {
      const run = await this.#snapshot();
      for (const step of run.steps ?? []) this.#view.step(step);
      if (isTerminal(run.status)) {
        this.#view.run(run.status);
        this.#view.end();
        return run;
      }
      if (!this.live) this.#view.run(run.status);
      if (this.#endSeen) {
        this.#endSeen = false; // once: a run retried meanwhile must not make this loop spin
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.live ? 1_000 : this.#pollMs);
        this.#poke = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#poke = undefined;
    }
  }
}
