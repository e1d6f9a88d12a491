/**
 * The simulation's one source of randomness: mulberry32, seeded. Every choice a simulated
 * world makes (which fault, which worker, how far the clock moves) is drawn from it, so a
 * seed names one world and replays it.
 */
export class SimRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A generator of its own, so one part's draws do not shift another's. */
  fork(salt: number): SimRandom {
    return new SimRandom((this.next() * 4294967296) ^ Math.imul(salt + 1, 0x9e3779b9));
  }
}
