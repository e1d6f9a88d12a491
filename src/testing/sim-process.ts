import type { Clock } from "../core/clock.ts";
import type { Cairn } from "../sdk/cairn.ts";

/**
 * One simulated worker process: an engine with its worker on the shared database, and the
 * faults aimed at it. When it dies its timers stop, its store calls fail without reaching
 * the database and its step functions never start again — as after `kill -9`, nothing it
 * still holds in memory has any effect.
 */
export class SimProcess {
  readonly name: string;
  cairn: Cairn | undefined;
  dead = false;
  /** Stopped (like SIGSTOP): its store calls and timers wait in `held` until it resumes. */
  stalled = false;
  readonly held: (() => void)[] = [];
  /** Faults apply once the engine is open and its worker runs. */
  armed = false;
  /** Store calls left before the armed crash, and whether it strikes before or after the call. */
  #crashIn: number | undefined;
  #crashWhen: "before" | "after" = "before";
  readonly #timers = new Set<() => void>();

  constructor(name: string) {
    this.name = name;
  }

  /** Crashes the process at its `calls`-th store call from now (0: the next one). */
  armCrash(calls: number, when: "before" | "after"): void {
    this.#crashIn = calls;
    this.#crashWhen = when;
  }

  get crashArmed(): boolean {
    return this.#crashIn !== undefined;
  }

  /** Counts one store call down; says when the armed crash strikes at this one. */
  takeCrash(): "before" | "after" | undefined {
    if (this.#crashIn === undefined) return undefined;
    if (this.#crashIn-- > 0) return undefined;
    this.#crashIn = undefined;
    return this.#crashWhen;
  }

  /** This process's view of the world's clock: its timers die with it and wait while it is stalled. */
  clockOver(world: Clock): Clock {
    return {
      now: () => world.now(),
      setTimer: (at, fn) => {
        if (this.dead) return () => {};
        const cancel = world.setTimer(at, () => {
          this.#timers.delete(cancel);
          if (this.dead) return;
          if (this.stalled) this.held.push(() => !this.dead && fn());
          else fn();
        });
        this.#timers.add(cancel);
        return () => {
          this.#timers.delete(cancel);
          cancel();
        };
      },
    };
  }

  /** Lets a stalled process go on: what it held runs in order. */
  resume(): void {
    this.stalled = false;
    for (const next of this.held.splice(0)) next();
  }

  /** Kills the process: its timers are dropped and its held calls fail. */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.armed = false;
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    this.stalled = false;
    for (const next of this.held.splice(0)) next();
  }
}
