import type { Store } from "../store/store.ts";
import type { LogRecord, NewLogEntry } from "../store/ui-store.ts";

/**
 * Batches log lines of every run in the process into one store write per turn of the event
 * loop (as soon as the previous write returns), off the journal's path: a step that logs
 * never waits for its lines. Each stored line is then reported (with its `seq`) to `onWritten`.
 */
export class LogWriter {
  readonly #store: Store;
  readonly #onWritten: (record: LogRecord) => void;
  readonly #onError: (error: Error) => void;
  #queue: NewLogEntry[] = [];
  #scheduled = false;
  #flushing: Promise<void> | undefined;

  constructor(
    store: Store,
    onWritten: (record: LogRecord) => void,
    onError: (error: Error) => void,
  ) {
    this.#store = store;
    this.#onWritten = onWritten;
    this.#onError = onError;
  }

  write(entry: NewLogEntry): void {
    this.#queue.push(entry);
    this.#schedule();
  }

  /** Resolves once every line written so far is stored (or its batch failed). */
  async idle(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing || this.#scheduled) {
      if (this.#flushing) await this.#flushing;
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
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
    let seqs: (number | null)[];
    try {
      seqs = await this.#store.logs.append(batch);
    } catch (error) {
      // Logs are best effort: a failed batch is reported and dropped, the runs go on.
      this.#onError(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const [i, entry] of batch.entries()) {
      const seq = seqs[i];
      if (seq !== null && seq !== undefined) this.#onWritten({ ...entry, seq });
    }
  }
}
