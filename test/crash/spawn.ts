/**
 * Child worker processes for the crash tests: spawned with `node --import tsx` (the pid
 * we SIGKILL is the worker itself), talking JSON lines on stdout.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, "..", "..");
export const workerScript = join(here, "fixtures", "worker.ts");

export interface ChildMessage {
  type: string;
  t: number;
  life: number;
  pid: number;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CrashChild {
  readonly pid: number;
  readonly life: number;
  /** When `spawn` was called (wall ms). */
  readonly spawnedAt: number;
  readonly messages: ChildMessage[];
  /** Everything the child wrote to stderr. */
  stderr(): string;
  /** Resolves with the first message of this type (also one already received). */
  waitFor(type: string, timeoutMs: number): Promise<ChildMessage>;
  readonly exited: Promise<Exit>;
  /** True once the process has exited. */
  readonly dead: boolean;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<Exit>;
}

const living = new Set<CrashChild>();

/**
 * Starts the crash worker with `CRASH_*` variables (life, scenario, db, ledger, …), or
 * another child script that speaks the same JSON lines (the fault tests' worker).
 */
export function spawnWorker(
  env: Record<string, string | number>,
  script: string = workerScript,
): CrashChild {
  const spawnedAt = Date.now();
  const proc: ChildProcess = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (proc.pid === undefined) throw new Error("crash worker: spawn failed");
  const messages: ChildMessage[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  let buffer = "";
  let dead = false;
  proc.stdout?.setEncoding("utf8");
  proc.stdout?.on("data", (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
      if (line.startsWith("{")) messages.push(JSON.parse(line) as ChildMessage);
      else if (line.trim() !== "") stderr += `[stdout] ${line}\n`;
      for (const waiter of waiters) waiter();
    }
  });
  proc.stderr?.setEncoding("utf8");
  proc.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    proc.once("exit", (code, signal) => {
      dead = true;
      living.delete(child);
      for (const waiter of waiters) waiter();
      resolve({ code, signal });
    });
  });
  const life = Number(env.CRASH_LIFE);
  const child: CrashChild = {
    pid: proc.pid,
    life,
    spawnedAt,
    messages,
    stderr: () => stderr,
    exited,
    get dead() {
      return dead;
    },
    waitFor(type, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find((m) => m.type === type);
          if (found) return finish(() => resolve(found));
          if (dead) {
            return finish(() =>
              reject(
                new Error(
                  `crash worker life ${life} (pid ${proc.pid}) exited before "${type}"; stderr:\n${stderr}`,
                ),
              ),
            );
          }
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(
                  `crash worker life ${life} (pid ${proc.pid}): no "${type}" within ${timeoutMs} ms; stderr:\n${stderr}`,
                ),
              ),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      if (!dead) proc.kill("SIGKILL");
      return exited;
    },
  };
  living.add(child);
  return child;
}

/** SIGKILLs every child still alive (test cleanup); only processes this module started. */
export async function killAll(): Promise<void> {
  await Promise.all([...living].map((child) => child.kill()));
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
