import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { round, summarize } from "./stats.ts";

export interface Machine {
  cpuModel: string;
  cores: number;
  totalMemoryGB: number;
  node: string;
  platform: string;
  release: string;
  date: string;
}

export function describeMachine(now = new Date()): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    totalMemoryGB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    release: os.release(),
    date: now.toISOString(),
  };
}

/** Which engine code was measured: results without it cannot be compared later. */
export interface Source {
  /** `git rev-parse HEAD`, or null outside a git checkout. */
  commit: string | null;
  /** Uncommitted changes under src/: the figures belong to no commit exactly. */
  dirty: boolean | null;
}

export function describeSource(cwd: string): Source {
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  try {
    return {
      commit: git("rev-parse", "HEAD"),
      dirty: git("status", "--porcelain", "--", "src") !== "",
    };
  } catch {
    return { commit: null, dirty: null };
  }
}

/**
 * How busy the machine and its disk were. Other processes (a test suite, a build) skew
 * every figure the bench takes, so conditions are probed before each workload and
 * printed beside its figures.
 */
export interface Conditions {
  /** `os.loadavg()` 1-minute average (lags by tens of seconds). */
  loadAverage1m: number;
  /**
   * CPU time this process got while spinning for a moment, divided by the wall time:
   * about 1 on a quiet machine, about 0.5 when another process competes for its core.
   */
  cpuAvailability: number;
  /** The store's durable commit floor now (floor.ts); null when it could not be measured. */
  commitFloor: CommitFloor | null;
}

export async function measureConditions(
  floor: (samples: number) => Promise<CommitFloor>,
  floorSamples = 100,
): Promise<Conditions> {
  const cpu = measureCpu();
  try {
    return { ...cpu, commitFloor: await floor(floorSamples) };
  } catch (error) {
    console.error(`(could not measure the commit floor: ${(error as Error).message})`);
    return { ...cpu, commitFloor: null };
  }
}

export function measureCpu(spinMs = 250): Omit<Conditions, "commitFloor"> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < spinMs) {
    // Spin: the share of this wall time the scheduler gives us is what we measure.
  }
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - t0;
  return {
    loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
    cpuAvailability: round((used.user + used.system) / 1000 / wall, 2),
  };
}

/** True when other processes competed for the CPU: figures taken then understate the engine. */
export function isBusy(c: Conditions, cores: number): boolean {
  // Our own process counts 1 in the load average.
  return c.cpuAvailability < 0.85 || c.loadAverage1m > cores + 0.5;
}

/** What one durable commit costs on the disk the workloads use. */
export interface CommitFloor {
  /** Median time of one small write transaction, WAL + synchronous=FULL. */
  commitMs: number;
  commitP90Ms: number;
  samples: number;
  /** What one sample is, in words (store, statement, durability settings). */
  probe: string;
}

/**
 * Measures the physical floor the latency targets are defined against ("one
 * fsync'd write takes ≈0.8–1.3 ms on these machines"): bare better-sqlite3, same pragmas
 * as the store, same directory as the workloads, one row per transaction. Disks differ a
 * lot (a VM's virtual disk may acknowledge an fsync in 0.1 ms), so W1 and W4 are also
 * reported as multiples of this floor.
 */
export function measureCommitFloor(directory: string, samples = 300): CommitFloor {
  const path = join(directory, "commit-floor.db");
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    const commit = db.transaction((v: string) => insert.run(v));
    const times: number[] = [];
    for (let i = 0; i < samples + 10; i++) {
      const t0 = performance.now();
      commit.immediate(`{"i":${i},"ok":true}`);
      if (i >= 10) times.push(performance.now() - t0); // the first ones create the WAL
    }
    const s = summarize(times);
    return {
      commitMs: round(s.median, 4),
      commitP90Ms: round(s.p90, 4),
      samples,
      probe: "one synchronous=FULL single-row SQLite insert (WAL)",
    };
  } finally {
    db.close();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
  }
}
