/**
 * The side-effect ledger: an append-only JSON-lines file that lives outside the engine.
 * Step bodies (and a few harness hooks) append one line per execution, fsynced before the
 * step goes on, so the file is the ground truth of what ran, whatever the engine recorded.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";

/** One execution of a step body: what an external API would have seen. */
export interface EffectRecord {
  type: "effect";
  /** The process lifetime: 0 for the first child, +1 per restart. */
  life: number;
  pid: number;
  run: string;
  step: string;
  attempt: number;
  key: string;
  /** Wall time (ms) at which the effect happened. */
  t: number;
  /**
   * The same moment on the executing engine's clock, where it differs from the wall clock
   * (on PostgreSQL it follows the database's: local time plus a measured offset). Due times
   * such as a sleep's `wake_at` are on that clock, so they are compared with this.
   */
  engineT?: number;
  /** For steps that log more than one moment (a long step's begin and end). */
  phase?: string;
}

/** A run claimed by a worker (written by the harness's store wrapper). */
export interface ClaimRecord {
  type: "claim";
  life: number;
  pid: number;
  run: string;
  token: number;
  /** The claimer's clock at the claim: the previous lease must have ended by then. */
  now: number;
  /** The new lease's end. */
  until: number;
  t: number;
}

/** A run created already leased by the worker of the process that started it. */
export interface AdoptRecord {
  type: "adopt";
  life: number;
  pid: number;
  run: string;
  token: number;
  until: number;
  t: number;
}

/** Leases a worker renewed (and still held): `[runId, token]` pairs, all until `until`. */
export interface RenewRecord {
  type: "renew";
  life: number;
  pid: number;
  leases: [string, number][];
  until: number;
  t: number;
}

/**
 * A run its owner let go of (suspended, released, completed or failed) under `token`:
 * `releasing` is written just before the commit, `release` once it succeeded. A process
 * killed in between leaves only the first, and the checker cannot know whether the commit
 * made it.
 */
export interface ReleaseRecord {
  type: "releasing" | "release";
  life: number;
  pid: number;
  run: string;
  token: number;
  op: string;
  t: number;
}

/** A child process about to start its worker. */
export interface UpRecord {
  type: "up";
  life: number;
  pid: number;
  t: number;
}

/**
 * The child's event loop was blocked (CPU starvation, a long synchronous call): a stall of
 * `ms` ending at `t`. A stall longer than the lease lets another worker take the runs over
 * while this process still finishes their in-flight steps (a zombie).
 */
export interface StallRecord {
  type: "stall";
  life: number;
  pid: number;
  t: number;
  ms: number;
}

export type LedgerRecord =
  | EffectRecord
  | ClaimRecord
  | AdoptRecord
  | RenewRecord
  | ReleaseRecord
  | UpRecord
  | StallRecord;

/** Distributes `Omit` over the union, so each record type keeps its own fields. */
export type LedgerInput = LedgerRecord extends infer R
  ? R extends LedgerRecord
    ? Omit<R, "life" | "pid">
    : never
  : never;

export interface LedgerWriter {
  append(record: LedgerInput): void;
  /** Several records with one write and one fsync. */
  appendMany(records: readonly LedgerInput[]): void;
  close(): void;
}

/** Opens the ledger for appending; every record is written with one `write` and fsynced. */
export function openLedger(path: string, life: number): LedgerWriter {
  const fd = openSync(path, "a");
  const line = (record: LedgerInput) =>
    `${JSON.stringify({ ...record, life, pid: process.pid })}\n`;
  return {
    append(record) {
      writeSync(fd, line(record));
      fsyncSync(fd);
    },
    appendMany(records) {
      if (records.length === 0) return;
      writeSync(fd, records.map(line).join(""));
      fsyncSync(fd);
    },
    close() {
      closeSync(fd);
    },
  };
}

/**
 * Reads every record. `partialTail` tolerates a last line without its newline (a reader
 * racing a live writer); otherwise a torn or malformed line is an error: a SIGKILL must
 * never leave half a record behind, since each record is one `write` call.
 */
export function readLedger(path: string, options: { partialTail?: boolean } = {}): LedgerRecord[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  const last = lines.pop();
  if (last !== undefined && last !== "" && !options.partialTail) {
    throw new Error(`Ledger ${path} ends with a torn record: ${JSON.stringify(last)}`);
  }
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as LedgerRecord;
    } catch {
      throw new Error(`Ledger ${path} line ${i + 1} is not JSON: ${JSON.stringify(line)}`);
    }
  });
}

export function effects(records: readonly LedgerRecord[]): EffectRecord[] {
  return records.filter((r): r is EffectRecord => r.type === "effect");
}
