import type { Clock } from "../core/clock.ts";
import type { NoticedRun, WakeReason } from "../store/store.ts";

/**
 * What a pass of the claim loop does. A full one: the worker's duties (admissions, due
 * schedules), a claim, then a read of the next due moment. Otherwise the admissions alone,
 * when the only news since the last pass was runs a `cairn server` started: they are
 * claimable by nobody until admitted (the admission claims them for the free slots), so on
 * PostgreSQL the other three statements were round trips that found nothing, on the path
 * of every such run.
 */
export interface ClaimPass {
  full: boolean;
  /** An admissions pass's runs, where the wake-ups carried every one (at most a batch): no read. */
  noticed?: readonly NoticedRun[];
}

/**
 * Runs admitted per transaction at most. More runs than this noticed before a pass: the pass
 * reads a batch of them instead of holding every one's input (a burst of starts).
 */
export const admissionBatch = 100;

/**
 * The claim loop's wake-ups: whether one came, which pass it asks for, and the idle wait
 * until the next one. An admissions-only pass keeps the deadline of the last full one, so a
 * stream of admission wake-ups cannot put off the timers, polls and schedules it serves.
 */
export class LoopWake {
  #woken = false;
  #full = true; // the first pass is full
  #wake: (() => void) | undefined;
  #deadline = Number.NEGATIVE_INFINITY;
  #noticed: NoticedRun[] = [];
  /** An admission wake-up came without its run since the pass began: the pass reads them. */
  #unnoticed = false;

  /** Something may be claimable now (or, for `"admission"`, `run` or others need admitting). */
  notify(reason?: WakeReason, run?: NoticedRun): void {
    this.#woken = true;
    if (reason !== "admission") this.#full = true;
    else if (run && !this.#unnoticed && this.#noticed.length < admissionBatch) {
      this.#noticed.push(run);
    } else {
      this.#unnoticed = true;
      this.#noticed = [];
    }
    this.#wake?.();
  }

  /** True when a wake-up came since the current pass began. */
  get woken(): boolean {
    return this.#woken;
  }

  /** Begins a pass, which serves the wake-ups so far. */
  begin(): ClaimPass {
    // No wake-up since the last pass: the loop goes on of its own accord (its claim took
    // every free slot, and more may be due), which takes a full pass.
    const pass: ClaimPass =
      this.#full || !this.#woken
        ? { full: true }
        : { full: false, ...(this.#unnoticed ? {} : { noticed: this.#noticed }) };
    this.#woken = false;
    this.#full = false;
    this.#noticed = [];
    this.#unnoticed = false;
    return pass;
  }

  /**
   * Waits for a wake-up, or until `deadline` (when given; else the last one set), then asks
   * for a full pass: timers, polls and schedules are served by full passes only.
   */
  async idle(clock: Clock, deadline?: number): Promise<void> {
    if (deadline !== undefined) this.#deadline = deadline;
    if (this.#woken) return;
    const at = Math.max(this.#deadline, clock.now());
    await new Promise<void>((resolve) => {
      const cancel = clock.setTimer(at, () => {
        this.#full = true;
        this.#wake?.();
      });
      this.#wake = () => {
        this.#wake = undefined;
        cancel();
        resolve();
      };
    });
  }
}
