import type { Clock } from "../core/clock.ts";

/** One moment on both clocks a lease is judged by. */
export interface LeaseMoment {
  /** `performance.now()`: elapsed real time, which no clock adjustment moves. */
  real: number;
  /** The engine clock's `now()`: the time the store's leases are written in. */
  engine: number;
}

/**
 * Whether a worker may still hold a run's lease: the store confirmed it within the last
 * lease, counted from the later of the last confirmed renewal (from when it was sent) and
 * the run's claim (from when it began).
 *
 * A lease counts as lapsed only once a whole lease has passed on both clocks. Real time
 * alone would fence a test's runs whose clock stands still while the machine is slow (the
 * store's leases, written in engine time, have not run out); engine time alone would fence
 * every run when a test clock jumps ahead, and miss a process frozen while the system clock
 * stood still.
 */
export class LeaseWatch<K extends object> {
  readonly #clock: Clock;
  readonly #leaseMs: number;
  #confirmed: LeaseMoment = { real: 0, engine: 0 };
  readonly #claimed = new WeakMap<K, LeaseMoment>();

  constructor(clock: Clock, leaseMs: number) {
    this.#clock = clock;
    this.#leaseMs = leaseMs;
  }

  now(): LeaseMoment {
    return { real: performance.now(), engine: this.#clock.now() };
  }

  /** The store confirmed the leases of a renewal sent at `sent` (or the worker started). */
  confirm(sent: LeaseMoment): void {
    this.#confirmed = sent;
  }

  /** `holder`'s claim began at `at`. */
  claimed(holder: K, at: LeaseMoment): void {
    this.#claimed.set(holder, at);
  }

  /** True once `holder`'s lease went unconfirmed for a whole lease: another worker may own it. */
  lapsed(holder: K, now?: LeaseMoment): boolean {
    // Checked before every step: no allocation, and the engine clock read only when needed.
    const claimed = this.#claimed.get(holder);
    const real = Math.max(this.#confirmed.real, claimed?.real ?? 0);
    if ((now?.real ?? performance.now()) - real < this.#leaseMs) return false;
    const engine = Math.max(this.#confirmed.engine, claimed?.engine ?? 0);
    return (now?.engine ?? this.#clock.now()) - engine >= this.#leaseMs;
  }
}
