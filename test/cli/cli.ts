/**
 * Spawns the real `cairn` CLI (`node --import tsx src/cli/main.ts …`) for the tests in this
 * folder, with a clean environment: no CAIRN_* variable of the developer's shell leaks in.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const root = resolve(import.meta.dirname, "../..");
export const fixtures = join(root, "test/cli/fixtures");
const main = join(root, "src/cli/main.ts");
const tsx = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("CAIRN_")) env[k] = v;
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Starts the CLI; the caller reads its output and waits for its exit. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, ["--import", tsx, main, ...args], {
    cwd: options.cwd ?? root,
    env: cleanEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs the CLI to its end. */
export function cli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  const timeoutMs = options.timeoutMs ?? 45_000;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `cairn ${args.join(" ")} did not exit within ${timeoutMs} ms.\n${stdout}\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A long-running CLI process (`dev`, `worker`) and its output so far. */
export interface Service {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout line that is JSON (the `--json` startup summary). */
  ready: Promise<Record<string, unknown>>;
  /** Resolves once stderr contains `text`. */
  waitForStderr(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startService(args: readonly string[], options: CliOptions = {}): Service {
  const child = spawnCli(args, options);
  let out = "";
  let err = "";
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const ready = new Promise<Record<string, unknown>>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready in time:\n${out}\n${err}`)),
      options.timeoutMs ?? 45_000,
    );
    child.stdout?.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        clearTimeout(timer);
        resolvePromise(JSON.parse(line) as Record<string, unknown>);
      }
    });
    void exited.then((code) =>
      reject(new Error(`exited with ${code} before ready:\n${out}\n${err}`)),
    );
  });
  ready.catch(() => {});
  child.stderr?.on("data", (d) => (err += d));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    ready,
    exited,
    // Checked on each chunk the child writes (and once it exits), not on a timer.
    waitForStderr(text, timeoutMs = 30_000) {
      return new Promise<void>((resolvePromise, reject) => {
        const done = (error?: Error) => {
          clearTimeout(timer);
          child.stderr?.off("data", check);
          if (error) reject(error);
          else resolvePromise();
        };
        const check = () => {
          if (err.includes(text)) done();
        };
        const timer = setTimeout(
          () => done(new Error(`stderr never showed "${text}":\n${err}`)),
          timeoutMs,
        );
        // Registered after the accumulating listener, so `err` already holds the chunk.
        child.stderr?.on("data", check);
        void exited.then(() =>
          err.includes(text)
            ? done()
            : done(new Error(`exited before stderr showed "${text}":\n${err}`)),
        );
        check();
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A temporary folder, removed by the returned function. */
export function tempDir(): { path: string; db: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), "cairn-cli-"));
  return {
    path,
    db: `sqlite:${join(path, "cairn.db")}`,
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** Runs `tasks` with at most `limit` at once (CLI processes are CPU-bound at start-up). */
export async function inBatches<T>(
  tasks: readonly (() => Promise<T>)[],
  limit: number,
): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}
