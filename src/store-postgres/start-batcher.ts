import type { Row, Sql } from "postgres";
import { CairnError } from "../core/errors.ts";
import type { NewRun, RunRecord } from "../store/store.ts";
import type { Hot } from "./recycling-pool.ts";
import { toRun } from "./rows.ts";
import { insertRuns, type RunClaim } from "./run-statements.ts";
import { postgresStorageError } from "./storage-error.ts";

interface PendingStart {
  run: NewRun;
  claim: RunClaim | undefined;
  resolve: (result: { run: RunRecord; created: boolean }) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for starts: `createRun` calls made while an insert is in flight are
 * inserted together by the next one, as soon as it returns (no timer), so 200 runs started
 * at once cost a handful of commits instead of 200, while a lone start still pays one
 * round trip. `ON CONFLICT DO NOTHING` keeps each start idempotent by id (G5): a start
 * whose id exists, or was taken by an earlier start of the same batch, gets that run with
 * `created: false`. A batch that fails is retried one start at a time, so that a bad
 * start (an id PostgreSQL cannot store, say) fails alone.
 */
export class StartBatcher {
  readonly #sql: Sql;
  readonly #hot: Hot;
  #queue: PendingStart[] = [];
  #scheduled = false;
  #flushing = false;
  #commits = 0;

  /** `hot` runs the insert (see `RecyclingPool.hot`); reads go to `sql`. */
  constructor(sql: Sql, hot: Hot) {
    this.#sql = sql;
    this.#hot = hot;
  }

  /** Inserts run so far (a batch that fails is retried one start at a time). */
  get commits(): number {
    return this.#commits;
  }

  start(run: NewRun, claim: RunClaim | undefined): Promise<{ run: RunRecord; created: boolean }> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ run, claim, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    // setImmediate lets every start of this turn of the event loop join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flushing = true;
      const batch = this.#queue;
      this.#queue = [];
      void this.#flush(batch).finally(() => {
        this.#flushing = false;
        if (this.#queue.length > 0) this.#schedule();
      });
    });
  }

  async #flush(batch: PendingStart[]): Promise<void> {
    let inserted: Row[];
    this.#commits++;
    try {
      inserted = await this.#hot((sql) =>
        insertRuns(
          sql,
          batch.map((s) => s.run),
          batch.map((s) => s.claim),
        ),
      );
    } catch (error) {
      // Nothing was inserted (one statement): try the starts one by one.
      if (batch.length === 1) batch[0]?.reject(postgresStorageError(error));
      else for (const start of batch) await this.#flush([start]);
      return;
    }
    try {
      await this.#settle(batch, inserted);
    } catch (error) {
      for (const start of batch) start.reject(error); // no-op for those already settled
    }
  }

  async #settle(batch: PendingStart[], inserted: Row[]): Promise<void> {
    const created = new Map(inserted.map((row) => [row.id as string, toRun(row)]));
    const missing = batch.map((s) => s.run.id).filter((id) => !created.has(id));
    const existing = new Map<string, RunRecord>();
    if (missing.length > 0) {
      const rows = await this.#sql`SELECT * FROM runs WHERE id = ANY(${missing}::text[])`;
      for (const row of rows) existing.set(row.id as string, toRun(row));
    }
    const handedOut = new Set<string>();
    for (const start of batch) {
      const id = start.run.id;
      const fresh = created.get(id);
      if (fresh && !handedOut.has(id)) {
        handedOut.add(id);
        start.resolve({ run: fresh, created: true });
        continue;
      }
      const run = fresh ?? existing.get(id);
      if (run) start.resolve({ run, created: false });
      // Deleted between the insert and the read (retention): it did exist.
      else start.reject(new CairnError("RUN_NOT_FOUND", `Run "${id}" was deleted meanwhile.`));
    }
  }
}
