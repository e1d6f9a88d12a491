import { randomUUID } from "node:crypto";

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Run and
 * event ids are the primary keys of the runs, their steps and their waits; with random
 * (version 4) ids each run's rows land on a page of their own, so a commit of 200 runs'
 * steps wrote about 200 pages. Ids made in the same millisecond share a key range, and the
 * rows of runs started together share pages. The ids stay unique at 74 random bits per
 * millisecond.
 *
 * The random bits are a version 4 UUID's from the same place on: its variant already is
 * the RFC's, and Node draws them from a pool it refills in bulk. A 16-byte
 * `getRandomValues` per id was a system call, 5–25 µs on a virtual machine, on every start.
 */
export function timeOrderedId(now: number = Date.now()): string {
  const ms = now.toString(16).padStart(12, "0");
  // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: from the character after the version digit on.
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
