/**
 * How long an answer is reused at most, in ms: how late a token created or revoked by
 * another process (`cairn tokens create`, another server) takes effect. The server's open
 * streams re-read their tokens as often.
 */
export const tokenCacheMaxAgeMs = 250;

/** Secret hashes remembered at most: callers choose them, so the map must not grow unbounded. */
const maxHashes = 1_000;

interface Cached<T> {
  value: T;
  /** When its read was sent (`performance.now()`): an answer is as old as its read. */
  at: number;
}

/**
 * Remembers, for {@link tokenCacheMaxAgeMs}, the answers of the two reads an HTTP server makes
 * on every request (is any token active; which token has this secret's hash): on PostgreSQL
 * each was a round trip to a pooled connection before the request's own work could start.
 * Writes through the same store forget every answer at once, so a process sees its own
 * creations and revocations on its next request.
 *
 * A read that a write overtook (sent before the write, answered after it) is returned to its
 * caller but not remembered: its answer may predate the write.
 */
export class TokenReadCache {
  readonly #now: () => number;
  #generation = 0;
  #anyActive: Cached<boolean> | undefined;
  readonly #byHash = new Map<string, Cached<unknown>>();

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Forgets every answer, and the answers of reads in flight. */
  invalidate(): void {
    this.#generation++;
    this.#anyActive = undefined;
    this.#byHash.clear();
  }

  async anyActive(read: () => Promise<boolean>): Promise<boolean> {
    const cached = this.#fresh(this.#anyActive);
    if (cached) return cached.value;
    return this.#read(read, (entry) => {
      this.#anyActive = entry;
    });
  }

  async byHash<T>(hash: string, read: () => Promise<T>): Promise<T> {
    const cached = this.#fresh(this.#byHash.get(hash));
    if (cached) return cached.value as T;
    return this.#read(read, (entry) => {
      this.#byHash.delete(hash); // re-inserted last: the oldest answer goes first
      if (this.#byHash.size >= maxHashes) {
        const oldest = this.#byHash.keys().next().value;
        if (oldest !== undefined) this.#byHash.delete(oldest);
      }
      this.#byHash.set(hash, entry);
    });
  }

  #fresh<T>(entry: Cached<T> | undefined): Cached<T> | undefined {
    return entry && this.#now() - entry.at < tokenCacheMaxAgeMs ? entry : undefined;
  }

  async #read<T>(read: () => Promise<T>, remember: (entry: Cached<T>) => void): Promise<T> {
    const generation = this.#generation;
    const at = this.#now();
    const value = await read();
    if (generation === this.#generation) remember({ value, at });
    return value;
  }
}
