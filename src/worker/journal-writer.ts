import { ensureError } from "../core/errors.ts";
import type { JournalOp, JournalOpResult, JournalStore } from "../store/journal-store.ts";
import { BatchQueue } from "./batch-queue.ts";

/** Runs whose failed write is remembered (see `JournalWriter`). */
const maxFailedRuns = 10_000;

interface Pending {
  op: JournalOp;
  resolve: (result: JournalOpResult) => void;
  reject: (error: unknown) => void;
}

/**
 * The one writer of a process's journal. Ops from every run queue here and are flushed in
 * a single transaction as soon as the previous flush returns (natural group commit, no
 * timers): one fsync serves every run that finished a step meanwhile, while a lone run
 * still pays exactly one. Order is kept: ops commit in the order they were written.
 *
 * Order also holds across a failed commit: once a commit of a run's op fails, that run's
 * later ops under the same lease (token) are refused unsent. A step's entry is not awaited
 * before the run goes on (the next step or the run's end joins its batch), so without
 * this a run whose last entry was lost with a restart could commit its completion in the
 * next batch and end with that step missing from its journal.
 */
export class JournalWriter {
  readonly #store: Pick<JournalStore, "commit">;
  readonly #queue: BatchQueue<Pending>;
  /** Runs with outcomes waiting to be handed to their workflows (see `delivering`). */
  #delivering = 0;
  /** Steps waiting for their run's earlier writes to commit before they start. */
  #stepsWaiting = 0;
  /** Batches and ops flushed so far, for the benchmark's write-amplification figures. */
  readonly stats = { flushes: 0, ops: 0 };
  /** Hear each commit's outcome (readiness): `undefined` on success, else the error. */
  readonly #listeners = new Set<(error: Error | undefined) => void>();
  #flushStartedAt: number | null = null;
  /** Per run: the token under which a write failed, and why; its later ops are refused. */
  readonly #failed = new Map<JournalOp["runId"], { token: number; error: unknown }>();

  /** `maxHoldMs`: the longest a commit waits for steps to join it (see `delivering`). */
  constructor(store: Pick<JournalStore, "commit">, { maxHoldMs = 1 }: { maxHoldMs?: number } = {}) {
    this.#store = store;
    this.#queue = new BatchQueue<Pending>((batch) => this.#flush(batch), {
      // One turn to see whether the outcomes handed out start steps; then only while they do.
      holdWhile: (turnsHeld) => this.#delivering > 0 && (turnsHeld === 0 || this.#stepsWaiting > 0),
      maxHoldMs,
    });
  }

  write(op: JournalOp): Promise<JournalOpResult> {
    return new Promise((resolve, reject) => this.#queue.push({ op, resolve, reject }));
  }

  /**
   * A run has outcomes waiting to be handed to its workflow, one per event-loop turn
   * (DeliveryOrder). Each may start a step, which waits for the run's earlier writes to
   * commit (`stepWaiting`): while that happens the commit waits for the handing to end, a
   * millisecond at most, so those steps start, finish and commit together. Without it a
   * fan-out of 50 branches commits once per step, not once per 50. Returns the function
   * that says no outcome waits any more.
   */
  delivering(): () => void {
    this.#delivering++;
    return once(() => this.#delivering--);
  }

  /** A step waits for its run's earlier writes to commit. Returns the function that says it no longer does. */
  stepWaiting(): () => void {
    this.#stepsWaiting++;
    return once(() => this.#stepsWaiting--);
  }

  /** Calls `listener` after each commit. Returns the function that stops it. */
  onCommit(listener: (error: Error | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Since when (`performance.now()`) the commit in progress has waited; null when none is. */
  get committingSince(): number | null {
    return this.#flushStartedAt;
  }

  /** Resolves once everything written so far is committed (or failed). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #flush(all: Pending[]): Promise<void> {
    const batch: Pending[] = [];
    for (const pending of all) {
      const failed = this.#failed.get(pending.op.runId);
      if (failed?.token === pending.op.token) pending.reject(failed.error);
      else batch.push(pending);
    }
    if (batch.length === 0) return;
    this.#flushStartedAt = performance.now();
    try {
      const results = await this.#store.commit(batch.map((p) => p.op));
      this.#flushStartedAt = null;
      this.stats.flushes++;
      this.stats.ops += batch.length;
      for (const listener of this.#listeners) listener(undefined);
      for (const [i, pending] of batch.entries()) pending.resolve(results[i] as JournalOpResult);
    } catch (error) {
      this.#flushStartedAt = null;
      for (const listener of this.#listeners) listener(ensureError(error));
      for (const pending of batch) {
        this.#failed.delete(pending.op.runId); // re-inserted last: the oldest go first
        this.#failed.set(pending.op.runId, { token: pending.op.token, error });
        pending.reject(error);
      }
      // A run's next lease has another token; remembering the last few thousand runs is plenty.
      for (const runId of this.#failed.keys()) {
        if (this.#failed.size <= maxFailedRuns) break;
        this.#failed.delete(runId);
      }
    }
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
