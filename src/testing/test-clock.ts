import type { Clock } from "../core/clock.ts";
import { type Duration, toMs } from "../core/duration.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. `advance("30d")` fires, in time order, every timer
 * that falls due, so a month-long sleep or a day-long event timeout is tested in
 * milliseconds.
 * @example
 * const clock = new TestClock();
 * clock.advance("10m");
 */
export class TestClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(start: Date | number = Date.UTC(2030, 0, 1)) {
    this.#now = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimer(at: number, fn: () => void): () => void {
    const timer = { at, seq: this.#seq++, fn };
    if (at <= this.#now) {
      // Due already: fire on the next turn, never inside the caller's stack.
      const handle = setImmediate(fn);
      return () => clearImmediate(handle);
    }
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward and fires every timer that is due by then. */
  advance(duration: Duration): void {
    this.set(this.#now + toMs(duration, "advance"));
  }

  /** Moves time to `at` (never backwards) and fires due timers. */
  set(at: Date | number): void {
    const target = typeof at === "number" ? at : at.getTime();
    if (target < this.#now) throw new RangeError("TestClock cannot move backwards.");
    this.#now = target;
    const due = this.#timers
      .filter((t) => t.at <= target)
      .sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.#timers = this.#timers.filter((t) => t.at > target);
    for (const timer of due) timer.fn();
  }

  /** Timers waiting to fire: handy to assert that a sleep holds no worker but one timer. */
  get pendingTimers(): number {
    return this.#timers.length;
  }
}
