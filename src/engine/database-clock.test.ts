import { describe, expect, it } from "vitest";
import type { Clock } from "../core/clock.ts";
import { createDatabaseClock } from "./database-clock.ts";

/**
 * A database whose clock runs `offsetMs` ahead of the local one, read when it answers; its
 * next answers can be held (a frozen database) while the test moves local time on.
 */
function database(offsetMs: number) {
  let local = 1_000_000;
  const clock: Clock = { now: () => local, setTimer: () => () => {} };
  let hold: Promise<void> | undefined;
  const answered: (() => void)[] = [];
  const asked: (() => void)[] = [];
  const server = {
    offsetMs,
    async serverTime() {
      asked.shift()?.();
      if (hold) await hold;
      const time = local + server.offsetMs;
      local += 1; // a fast round trip
      answered.shift()?.();
      return time;
    },
  };
  return {
    clock,
    server,
    advance: (ms: number) => {
      local += ms;
    },
    hold(): () => void {
      let release = () => {};
      hold = new Promise((resolve) => {
        release = () => {
          hold = undefined;
          resolve();
        };
      });
      return release;
    },
    /** Resolves once the next serverTime call was made. */
    nextAsk: () => new Promise<void>((resolve) => asked.push(resolve)),
    /** Resolves once the next serverTime call has answered. */
    nextAnswer: () => new Promise<void>((resolve) => answered.push(resolve)),
  };
}

describe("the database clock", () => {
  it("follows the database's clock, and a refresh takes a drift", async () => {
    const db = database(5_000);
    const clock = await createDatabaseClock(db.server, db.clock, 5);
    try {
      expect(Math.abs(clock.offsetMs - 5_000)).toBeLessThanOrEqual(1);
      db.server.offsetMs = 5_040;
      await db.nextAnswer();
      await new Promise((resolve) => setImmediate(resolve));
      expect(Math.abs(clock.offsetMs - 5_040)).toBeLessThanOrEqual(1);
    } finally {
      clock.stop();
    }
  });

  it("drops a refresh whose round trip spanned a pause: its midpoint is seconds off", async () => {
    const db = database(5_000);
    const clock = await createDatabaseClock(db.server, db.clock, 5);
    try {
      const release = db.hold();
      const answered = db.nextAnswer();
      await db.nextAsk(); // a refresh is on its way
      db.advance(6_000); // the database stays frozen for 6 s
      release();
      await answered;
      await new Promise((resolve) => setImmediate(resolve));
      // Taken, the sample would have said 5,000 + 3,000 (the midpoint of 6 s).
      expect(Math.abs(clock.offsetMs - 5_000)).toBeLessThanOrEqual(1);
    } finally {
      clock.stop();
    }
  });
});
