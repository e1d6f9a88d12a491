/**
 * Seeded randomness for the crash tests: every random choice (kill moments, step delays,
 * order contents) derives from one seed, printed by each test and replayed with `SEED=…`.
 */

/** 32-bit FNV-1a hash of the parts, joined: a stable pseudo-random number per name. */
export function hash32(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  const text = parts.join("\u0000");
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32) so that near names give far numbers.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An integer in [min, max] picked by the hash of `parts`. */
export function pick(min: number, max: number, ...parts: (string | number)[]): number {
  return min + (hash32(...parts) % (max - min + 1));
}

/** A seeded generator (mulberry32): the simulation's own, so both draw the same way. */
export { SimRandom as Rng } from "../../src/testing/sim-random.ts";

/** `SEED` from the environment, else a fresh one; either way the caller prints it. */
export function seedFromEnv(): number {
  const raw = process.env.SEED;
  if (raw !== undefined && raw !== "") {
    const seed = Number(raw);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`SEED must be an integer in [0, 2^32), got "${raw}".`);
    }
    return seed;
  }
  return (Date.now() ^ (process.pid << 16) ^ Math.floor(Math.random() * 0x7fffffff)) >>> 0;
}
