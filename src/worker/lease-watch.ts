import type { Clock } from "../core/clock.ts";

/** One moment on both clocks a lease is judged by. */
export interface LeaseMoment {
  /** `performance.now()`: elapsed real time, which no clock adjustment moves. */
  real: number;
  /** The engine clock's `now()`: the time the store's leases are written in. */
  engine: number;
}

/**
 * The moment now. A caller that writes a lease takes it before reading the clock for the
 * lease's end, so the worker never counts the lease as starting later than the store does.
 */
export function leaseMoment(clock: Clock): LeaseMoment {
  return { real: performance.now(), engine: clock.now() };
}

/**
 * Whether a worker may still hold a run's lease: the store confirmed it within the last
 * lease, counted from the run's claim (from when it began) or from the last renewal that
 * extended this very lease (from when it was sent). A renewal confirms only the leases it
 * carried and the store extended: a run claimed while it was on its way, or lost to another
 * worker meanwhile, is judged by its own last confirmation.
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
  /** When each holder's lease was last confirmed: its claim, or a renewal that carried it. */
  readonly #confirmed = new WeakMap<K, LeaseMoment>();

  constructor(clock: Clock, leaseMs: number) {
    this.#clock = clock;
    this.#leaseMs = leaseMs;
  }

  now(): LeaseMoment {
    return leaseMoment(this.#clock);
  }

  /** `holder`'s claim began at `at`. */
  claimed(holder: K, at: LeaseMoment): void {
    this.#confirmed.set(holder, at);
  }

  /** The store extended the leases of `holders` in a renewal sent at `sent`. */
  confirm(sent: LeaseMoment, holders: Iterable<K>): void {
    for (const holder of holders) {
      const last = this.#confirmed.get(holder);
      if (!last || sent.real > last.real) this.#confirmed.set(holder, sent);
    }
  }

  /** True once `holder`'s lease went unconfirmed for a whole lease: another worker may own it. */
  lapsed(holder: K, now?: LeaseMoment): boolean {
    // Checked before every step: no allocation, and the engine clock read only when needed.
    const since = this.#confirmed.get(holder);
    if (!since) return true; // never claimed here: nothing says it is ours
    if ((now?.real ?? performance.now()) - since.real < this.#leaseMs) return false;
    return (now?.engine ?? this.#clock.now()) - since.engine >= this.#leaseMs;
  }
}
