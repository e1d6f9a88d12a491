import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { CairnError, NonRetryableError, StepTimeoutError } from "../../core/errors.ts";
import type { ScriptLanguage } from "../../core/flow/flow-schema.ts";
import { type InterpreterPaths, interpreterFor } from "./interpreters.ts";
import { launchCommand, lifelineFd } from "./lifeline.ts";
import {
  installsRequirements,
  type PythonRequirementsOptions,
  pythonWithRequirements,
} from "./python-env.ts";
import { javascriptWrapper, pythonWrapper } from "./script-wrappers.ts";
import { TailBuffer } from "./tail-buffer.ts";
import { compileTypeScript } from "./typescript-compile.ts";

/** Where a script's stdout and stderr go, chunk by chunk (the step's logs). */
export type OutputSink = (stream: "stdout" | "stderr", chunk: string) => void;

export interface ScriptRequest {
  lang: ScriptLanguage;
  /** The script's text; or `file`, an absolute path. */
  source?: string;
  file?: string;
  /** The `with` values: named parameters (Python), the argument object (JS/TS), env + stdin (Bash). */
  input?: Record<string, unknown>;
  /** Extra environment: the script sees only these, secrets and PATH. */
  env?: Record<string, string>;
  /** Kills the process group past this; the attempt fails with `StepTimeoutError`. */
  timeoutMs?: number;
  /** Aborting kills the process group (cancel, lease lost). */
  signal?: AbortSignal;
  /** Receives the captured output, at most `maxLogBytes` of it. */
  onOutput?: OutputSink;
  interpreters?: InterpreterPaths;
  /** Python packages (pip requirement lines) the script needs. */
  requirements?: string[];
  /** Whether and where `requirements` are installed. (Default: not installed) */
  pythonRequirements?: PythonRequirementsOptions;
  /** Bytes of stdout+stderr handed to `onOutput`; the rest is counted, not kept. (Default: 1 MiB) */
  maxLogBytes?: number;
  /** Largest output value in bytes. (Default: 16 MiB) */
  maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL of the group. (Default: 2_000) */
  killGraceMs?: number;
  /** Working directory. (Default: a fresh temporary directory) */
  cwd?: string;
  /** A name for messages, e.g. the step key. */
  name?: string;
}

export interface ScriptResult {
  output: unknown;
  exitCode: number;
  /** Bytes the script wrote to stdout and stderr, kept or not. */
  logBytes: number;
}

/** A script that exited non-zero or threw; its message ends with the tail of stderr. */
export class ScriptError extends CairnError {
  override name = "ScriptError";
  readonly exitCode: number | null;
  constructor(message: string, exitCode: number | null) {
    super("RETRYABLE", message);
    this.exitCode = exitCode;
  }
}

const errorTailBytes = 4_096;

/**
 * Runs one script as a child process in its own process group with a clean environment.
 * The whole group is killed on timeout, abort and also after a normal exit (no background
 * process outlives its step). Resolves only once the script's process has exited.
 */
export async function runScript(request: ScriptRequest): Promise<ScriptResult> {
  const { lang } = request;
  let exe = interpreterFor(lang, request.interpreters);
  if (!exe) {
    throw new NonRetryableError(
      `No ${lang} interpreter found: install it or set its path (CAIRN_${lang === "python" ? "PYTHON" : lang === "bash" ? "BASH" : "NODE"}).`,
    );
  }
  if ((request.source === undefined) === (request.file === undefined)) {
    throw new NonRetryableError("A script needs either `source` or `file`.");
  }
  request.signal?.throwIfAborted();
  if (
    lang === "python" &&
    request.requirements?.length &&
    installsRequirements(request.pythonRequirements)
  ) {
    exe = await pythonWithRequirements(
      exe,
      request.requirements,
      request.pythonRequirements,
      request.signal,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "cairn-script-"));
  try {
    const ext = { python: "py", bash: "sh", typescript: "mts", javascript: "mjs" }[lang];
    const scriptPath = request.file ?? join(dir, `script.${ext}`);
    if (request.source !== undefined) await writeFile(scriptPath, request.source);
    const args = await interpreterArgs(request, dir, scriptPath);
    try {
      await access(exe, constants.X_OK);
    } catch (error) {
      throw new NonRetryableError(
        `${request.name ? `Script "${request.name}"` : "The script"} could not start ${exe}: ${(error as Error).message}`,
      );
    }
    return await execute(exe, args, request, request.cwd ?? dir, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The interpreter's arguments: the wrapper that calls the script, and the script. */
async function interpreterArgs(
  request: ScriptRequest,
  dir: string,
  scriptPath: string,
): Promise<string[]> {
  if (request.lang === "bash") return [scriptPath];
  if (request.lang === "python") {
    await writeFile(join(dir, "cairn_wrapper.py"), pythonWrapper);
    return ["-u", join(dir, "cairn_wrapper.py"), scriptPath];
  }
  const wrapper = join(dir, "cairn-wrapper.mjs");
  await writeFile(wrapper, javascriptWrapper);
  if (request.lang === "javascript") return [wrapper, scriptPath];
  const text = request.source ?? (await readFile(scriptPath, "utf8").catch(() => null));
  const compiled = text === null ? null : await compileTypeScript(text, request.file);
  if (compiled === null) return ["--import", import.meta.resolve("tsx/esm"), wrapper, scriptPath];
  const entry = join(dir, "script.mjs");
  await writeFile(entry, compiled);
  // The compiled code carries an inline source map: errors point into the TypeScript.
  return ["--enable-source-maps", wrapper, entry];
}

function cleanEnv(request: ScriptRequest): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  if (request.lang === "bash") {
    const input = request.input ?? {};
    env.CAIRN_INPUT = JSON.stringify(input);
    for (const [key, value] of Object.entries(input)) {
      const name = `CAIRN_ARG_${key.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`;
      env[name] = typeof value === "string" ? value : JSON.stringify(value ?? null);
    }
  }
  return { ...env, ...request.env };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function execute(
  exe: string,
  args: string[],
  request: ScriptRequest,
  cwd: string,
  scratchDir: string,
): Promise<ScriptResult> {
  const maxLog = request.maxLogBytes ?? 1024 * 1024;
  const maxOutput = request.maxOutputBytes ?? 16 * 1024 * 1024;
  const grace = request.killGraceMs ?? 2_000;
  const label = request.name ? `Script "${request.name}"` : "The script";
  return new Promise<ScriptResult>((resolve, reject) => {
    const launch = launchCommand(exe, args, scratchDir);
    const child = spawn(launch.command, launch.args, {
      cwd,
      env: cleanEnv(request),
      detached: true, // its own process group: kill(-pid) reaches every descendant
      // 3: the result (not for Bash); lifelineFd: held open by this process only.
      stdio: ["pipe", "pipe", "pipe", request.lang === "bash" ? "ignore" : "pipe", "pipe"],
    });
    const lifeline = child.stdio[lifelineFd] as Readable | undefined;
    lifeline?.on("error", () => {});
    lifeline?.resume(); // read to its end, so the child's "close" can come
    let logged = 0;
    let total = 0;
    let truncatedNotice = false;
    const stderrTail = new TailBuffer(errorTailBytes);
    const stdoutTail = new TailBuffer(errorTailBytes);
    const sink = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      total += chunk.length;
      (stream === "stderr" ? stderrTail : stdoutTail).push(chunk);
      if (!request.onOutput) return;
      if (logged < maxLog) {
        const room = maxLog - logged;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        logged += part.length;
        request.onOutput(stream, part.toString("utf8"));
      } else if (!truncatedNotice) {
        truncatedNotice = true;
        request.onOutput("stderr", `\n[cairn: output beyond ${maxLog} bytes not kept]\n`);
      }
    };
    child.stdout?.on("data", sink("stdout"));
    child.stderr?.on("data", sink("stderr"));
    const resultChunks: Buffer[] = [];
    let resultBytes = 0;
    let resultTooLarge = false;
    const resultPipe = child.stdio[3] as NodeJS.ReadableStream | undefined;
    resultPipe?.on("data", (chunk: Buffer) => {
      resultBytes += chunk.length;
      if (resultBytes > maxOutput) resultTooLarge = true;
      else resultChunks.push(chunk);
    });
    resultPipe?.on("error", () => {});
    child.stdin?.on("error", () => {}); // a script that never reads its input
    child.stdin?.end(JSON.stringify(request.input ?? {}));

    let stopReason: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: Error) => {
      if (stopReason) return;
      stopReason = reason;
      killGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), grace);
      killTimer.unref?.();
    };
    const timer =
      request.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => stop(new StepTimeoutError(request.name ?? "script", request.timeoutMs ?? 0)),
            request.timeoutMs,
          );
    const onAbort = () => stop(request.signal?.reason ?? new Error("aborted"));
    request.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("error", (error) => {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
      reject(new NonRetryableError(`${label} could not start ${exe}: ${error.message}`));
    });
    child.on("exit", () => {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
      // Background processes the script left behind die with it (and release its pipes).
      killGroup(child.pid, "SIGKILL");
      if (killTimer) clearTimeout(killTimer);
      // Not waiting for the watchdog's death: "close" only needs the output pipes.
      lifeline?.destroy();
    });
    // "close" comes after the exit and after the pipes delivered everything written to them.
    child.on("close", (code, signal) => {
      if (stopReason) return reject(stopReason);
      if (code !== 0) {
        const tail = stderrTail.text().trim() || stdoutTail.text().trim();
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        return reject(new ScriptError(`${label} ${how}${tail ? `:\n${tail}` : ""}`, code));
      }
      if (resultTooLarge) {
        return reject(
          new NonRetryableError(`${label} returned more than ${maxOutput} bytes of output.`),
        );
      }
      try {
        const output =
          request.lang === "bash"
            ? lastLineValue(stdoutTail.text())
            : JSON.parse(Buffer.concat(resultChunks).toString("utf8") || "null");
        resolve({ output, exitCode: 0, logBytes: total });
      } catch (error) {
        reject(new NonRetryableError(`${label} returned no JSON: ${(error as Error).message}`));
      }
    });
  });
}

/** Bash output: the last non-empty stdout line, parsed as JSON, else that line as a string. */
export function lastLineValue(stdout: string): unknown {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  const last = lines.at(-1);
  if (last === undefined) return null;
  try {
    return JSON.parse(last);
  } catch {
    return last;
  }
}
