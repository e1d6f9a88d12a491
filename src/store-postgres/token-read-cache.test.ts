import { describe, expect, it } from "vitest";
import { TokenReadCache, tokenCacheMaxAgeMs } from "./token-read-cache.ts";

/** A cache on a clock the test moves, and a read that counts how often it ran. */
function setUp() {
  let now = 0;
  const cache = new TokenReadCache(() => now);
  let reads = 0;
  let answer = false;
  const read = async () => {
    reads++;
    return answer;
  };
  return {
    cache,
    read,
    reads: () => reads,
    answer: (value: boolean) => {
      answer = value;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("TokenReadCache", () => {
  it("answers from memory until the answer is a quarter of a second old", async () => {
    const t = setUp();
    expect(await t.cache.anyActive(t.read)).toBe(false);
    t.answer(true);
    t.advance(tokenCacheMaxAgeMs - 1);
    expect(await t.cache.anyActive(t.read)).toBe(false);
    expect(t.reads()).toBe(1);
    t.advance(1);
    expect(await t.cache.anyActive(t.read)).toBe(true);
    expect(t.reads()).toBe(2);
  });

  it("reads again after invalidate", async () => {
    const t = setUp();
    await t.cache.anyActive(t.read);
    t.answer(true);
    t.cache.invalidate();
    expect(await t.cache.anyActive(t.read)).toBe(true);
    expect(t.reads()).toBe(2);
  });

  it("does not remember an answer that a write overtook", async () => {
    const t = setUp();
    let release = () => {};
    const slowRead = () =>
      new Promise<boolean>((resolve) => {
        release = () => resolve(false);
      });
    const inFlight = t.cache.anyActive(slowRead);
    t.cache.invalidate(); // a write committed while the read was on its way
    release();
    expect(await inFlight).toBe(false); // its caller still gets it
    t.answer(true);
    expect(await t.cache.anyActive(t.read)).toBe(true);
    expect(t.reads()).toBe(1);
  });

  it("keeps an answer per secret hash, the thousand most recent", async () => {
    const t = setUp();
    const reads: string[] = [];
    const lookup = (hash: string) =>
      t.cache.byHash(hash, async () => {
        reads.push(hash);
        return hash === "known" ? { id: "t1" } : undefined;
      });
    expect(await lookup("known")).toEqual({ id: "t1" });
    expect(await lookup("unknown")).toBeUndefined();
    expect(await lookup("known")).toEqual({ id: "t1" });
    expect(reads).toEqual(["known", "unknown"]);
    for (let i = 0; i < 1_000; i++) await lookup(`guess-${i}`);
    // "known" and "unknown" were the oldest: a flood of guesses pushed them out.
    await lookup("known");
    await lookup("guess-999");
    expect(reads.slice(-1)).toEqual(["known"]);
    expect(reads).toHaveLength(2 + 1_000 + 1);
  });
});
