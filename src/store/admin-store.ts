export interface StoreCapabilities {
  /** Claims skip rows locked by other transactions (`FOR UPDATE SKIP LOCKED`). */
  skipLocked: boolean;
  /** Other processes can be woken with a notification (`LISTEN/NOTIFY`). */
  notify: boolean;
  /** Several processes may write at once without serializing on one lock. */
  concurrentWriters: boolean;
}

/**
 * A long wait for another process's write lock: `waiting` once it passed the warning
 * threshold, then `acquired` when the lock came, or `gave-up` when the waiting writes all
 * failed at the busy timeout.
 */
export interface WriteLockWait {
  state: "waiting" | "acquired" | "gave-up";
  /** The database file. */
  path: string;
  /** How long this process has been waiting, in ms. */
  waitedMs: number;
  /** Who holds the lock, where the kernel says (Linux `/proc/locks`). */
  holder?: { pid: number; name?: string };
}

/**
 * The database itself rather than its rows: what it can do, whether it takes writes now,
 * its migrations, its clock, its lock waits, and closing it. Part of {@link Store}.
 */
export interface AdminStore {
  readonly capabilities: StoreCapabilities;
  /**
   * The database's clock in ms since the epoch, where the database keeps the time for all
   * workers (PostgreSQL `clock_timestamp()`). Absent for embedded stores.
   */
  serverTime?(): Promise<number>;
  /**
   * Hears waits for another process's write lock longer than the store's warning threshold
   * (SQLite, whose writers share one lock). Returns the function that stops it.
   */
  onWriteLockWait?(listener: (wait: WriteLockWait) => void): () => void;
  /**
   * Writes one row of `write_probes`: proves the database takes writes now (readiness).
   * Fails at once, or within the store's own limits, when it cannot.
   */
  probeWrite(at: number): Promise<void>;
  /** The migrations applied to this database, in order. */
  migrations(): Promise<{ id: number; name: string; appliedAt: number }[]>;
  close(): Promise<void>;
}
