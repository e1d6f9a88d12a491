import { ensureError } from "../core/errors.ts";
import type { JournalOp, JournalOpResult, Store } from "../store/store.ts";

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
 */
export class JournalWriter {
  readonly #store: Store;
  #queue: Pending[] = [];
  #scheduled = false;
  #flushing: Promise<void> | undefined;
  /** Batches and ops flushed so far, for the benchmark's write-amplification figures. */
  readonly stats = { flushes: 0, ops: 0 };
  /** Hear each commit's outcome (readiness): `undefined` on success, else the error. */
  readonly #listeners = new Set<(error: Error | undefined) => void>();
  #flushStartedAt: number | null = null;

  constructor(store: Store) {
    this.#store = store;
  }

  write(op: JournalOp): Promise<JournalOpResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      this.#schedule();
    });
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
  async idle(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing || this.#scheduled) {
      if (this.#flushing) await this.#flushing;
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    // setImmediate lets every run whose step finished in this turn join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
        if (this.#queue.length > 0) this.#schedule();
      });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
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
      for (const pending of batch) pending.reject(error);
    }
  }
}
