import type { DatabaseTarget } from "./database.ts";
import { type CommitFloor, measureCommitFloor } from "./machine.ts";
import { round, summarize } from "./stats.ts";

/**
 * The durable commit floor of the store being benchmarked, measured in the same run: a
 * latency-bound workload cannot beat the commits it must wait for, and their cost varies with
 * the machine and the hour, so W1 and W4 are judged as multiples of it. SQLite: one
 * `synchronous=FULL` single-row insert in WAL, in the workloads' directory. PostgreSQL: one
 * autocommit single-row INSERT into a logged table, over the bench's own URL.
 */
export function measureFloor(target: DatabaseTarget, samples: number): Promise<CommitFloor> {
  if (target.dialect === "sqlite") {
    if (target.directory === undefined) throw new Error("a SQLite target needs its directory");
    return Promise.resolve(measureCommitFloor(target.directory, samples));
  }
  return measurePostgresFloor(target.fresh("commit_floor"), samples);
}

/**
 * One autocommit INSERT per sample, prepared, on one connection: what every durable commit of
 * the store costs at least (a WAL flush with `synchronous_commit=on`, plus the round trip).
 * The server's durability settings are recorded beside it: a floor taken with `fsync=off`
 * would make every ratio look good and mean nothing.
 */
async function measurePostgresFloor(url: string, samples: number): Promise<CommitFloor> {
  const { default: postgres } = await import("postgres");
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema") ?? "cairn_bench_commit_floor";
  parsed.searchParams.delete("schema");
  const sql = postgres(parsed.toString(), { max: 1, onnotice: () => {} });
  try {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`;
    await sql`CREATE TABLE ${sql(schema)}.t (id bigserial PRIMARY KEY, v text NOT NULL)`;
    const [settings] = await sql`SELECT current_setting('synchronous_commit') AS sync,
      current_setting('fsync') AS fsync`;
    const times: number[] = [];
    // The first ones warm the connection, the prepared statement and the table's pages.
    for (let i = 0; i < samples + 10; i++) {
      const t0 = performance.now();
      await sql`INSERT INTO ${sql(schema)}.t (v) VALUES (${`{"i":${i},"ok":true}`})`;
      if (i >= 10) times.push(performance.now() - t0);
    }
    const s = summarize(times);
    return {
      commitMs: round(s.median, 4),
      commitP90Ms: round(s.p90, 4),
      samples,
      probe: `one autocommit PostgreSQL INSERT (synchronous_commit=${settings?.sync}, fsync=${settings?.fsync})`,
    };
  } finally {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`.catch(() => {});
    await sql.end({ timeout: 5 });
  }
}
