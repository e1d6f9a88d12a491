/**
 * Natural group commit: items queue up and are handed to `flush` in one batch as soon as the
 * previous flush returns (no timers). `setImmediate` lets everything written in the same
 * event-loop turn join the batch. Order is kept. `flush` must not throw.
 *
 * `holdWhile(turnsHeld)` lets a flush wait, turn by turn and for at most `maxHoldMs`, while
 * more items are known to be on their way (see JournalWriter).
 */
export class BatchQueue<T> {
  readonly #flush: (batch: T[]) => Promise<void>;
  readonly #holdWhile: (turnsHeld: number) => boolean;
  readonly #maxHoldMs: number;
  #queue: T[] = [];
  #scheduled = false;
  #flushing: Promise<void> | undefined;

  constructor(
    flush: (batch: T[]) => Promise<void>,
    hold: { holdWhile: (turnsHeld: number) => boolean; maxHoldMs: number } = {
      holdWhile: () => false,
      maxHoldMs: 0,
    },
  ) {
    this.#flush = flush;
    this.#holdWhile = hold.holdWhile;
    this.#maxHoldMs = hold.maxHoldMs;
  }

  push(item: T): void {
    this.#queue.push(item);
    this.#schedule();
  }

  /** Resolves once everything pushed so far has been flushed. */
  async idle(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing || this.#scheduled) {
      if (this.#flushing) await this.#flushing;
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    const since = performance.now();
    let turnsHeld = 0;
    const tick = () => {
      if (this.#holdWhile(turnsHeld) && performance.now() - since < this.#maxHoldMs) {
        turnsHeld++;
        setImmediate(tick);
        return;
      }
      this.#scheduled = false;
      const batch = this.#queue;
      this.#queue = [];
      this.#flushing = (batch.length > 0 ? this.#flush(batch) : Promise.resolve()).finally(() => {
        this.#flushing = undefined;
        if (this.#queue.length > 0) this.#schedule();
      });
    };
    setImmediate(tick);
  }
}
