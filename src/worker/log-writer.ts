import { ensureError } from "../core/errors.ts";
import type { LogRecord, NewLogEntry, UiStore } from "../store/ui-store.ts";
import { BatchQueue } from "./batch-queue.ts";

/**
 * Batches log lines of every run in the process into one store write per turn of the event
 * loop (as soon as the previous write returns), off the journal's path: a step that logs
 * never waits for its lines. Each stored line is then reported (with its `seq`) to `onWritten`.
 */
export class LogWriter {
  readonly #queue: BatchQueue<NewLogEntry>;

  constructor(
    store: Pick<UiStore, "logs">,
    onWritten: (record: LogRecord) => void,
    onError: (error: Error) => void,
  ) {
    this.#queue = new BatchQueue(async (batch) => {
      let seqs: (number | null)[];
      try {
        seqs = await store.logs.append(batch);
      } catch (error) {
        // Logs are best effort: a failed batch is reported and dropped, the runs go on.
        onError(ensureError(error));
        return;
      }
      for (const [i, entry] of batch.entries()) {
        const seq = seqs[i];
        if (seq !== null && seq !== undefined) onWritten({ ...entry, seq });
      }
    });
  }

  write(entry: NewLogEntry): void {
    this.#queue.push(entry);
  }

  /** Resolves once every line written so far is stored (or its batch failed). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }
}
