import { getRandomValues } from "node:crypto";

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Run and
 * event ids are the primary keys of the runs, their steps and their waits; with random
 * (version 4) ids each run's rows land on a page of their own, so a commit of 200 runs'
 * steps wrote about 200 pages. Ids made in the same millisecond share a key range, and the
 * rows of runs started together share pages. The ids stay unique at 74 random bits per
 * millisecond.
 */
export function timeOrderedId(now: number = Date.now()): string {
  const bytes = getRandomValues(new Uint8Array(16));
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x70; // version 7
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80; // the RFC's variant
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
