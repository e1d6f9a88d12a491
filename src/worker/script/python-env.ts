import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { access, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { CairnError } from "../../core/errors.ts";
import { launchCommand, lifelineFd } from "./lifeline.ts";
import { TailBuffer } from "./tail-buffer.ts";

/** Whether and where a worker installs the `requirements` of Python scripts. */
export interface PythonRequirementsOptions {
  /** Install them (off by default: workers are often offline). (Default: `CAIRN_INSTALL_REQUIREMENTS=1`) */
  install?: boolean;
  /** Where the virtualenvs live, one per requirement set. (Default: `CAIRN_PYTHON_ENVS`, else ~/.cache/cairn/python-envs) */
  cacheDir?: string;
  /** Extra arguments for `pip install`, such as a private index to install from. */
  pipArgs?: string[];
}

/** Installing a script's requirements failed; the message names the requirement pip could not get. */
export class RequirementsError extends CairnError {
  override name = "RequirementsError";
  constructor(message: string) {
    super("RETRYABLE", message);
  }
}

export function installsRequirements(options: PythonRequirementsOptions | undefined): boolean {
  return options?.install ?? process.env.CAIRN_INSTALL_REQUIREMENTS === "1";
}

function cacheDirOf(options: PythonRequirementsOptions | undefined): string {
  return (
    options?.cacheDir ??
    process.env.CAIRN_PYTHON_ENVS ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cairn", "python-envs")
  );
}

/** The virtualenv's directory name: a hash of what makes two environments the same. */
export function environmentKey(python: string, requirements: string[], pipArgs: string[]): string {
  const normalized = [...new Set(requirements.map((r) => r.trim()).filter(Boolean))].sort();
  return createHash("sha256")
    .update(JSON.stringify({ python, requirements: normalized, pipArgs }))
    .digest("hex")
    .slice(0, 32);
}

const building = new Map<string, Promise<string>>();

/**
 * The Python executable of a virtualenv holding `requirements`, created on first use and
 * reused afterwards (by this process and others: a finished environment is renamed into
 * place, so a half-built one is never used). Aborting stops the wait, not an installation
 * other steps may be waiting for.
 */
export function pythonWithRequirements(
  python: string,
  requirements: string[],
  options: PythonRequirementsOptions | undefined,
  signal?: AbortSignal,
): Promise<string> {
  signal?.throwIfAborted();
  const pipArgs = options?.pipArgs ?? [];
  const dir = join(cacheDirOf(options), environmentKey(python, requirements, pipArgs));
  let pending = building.get(dir);
  if (!pending) {
    pending = ensureEnvironment(dir, python, requirements, pipArgs).finally(() =>
      building.delete(dir),
    );
    building.set(dir, pending);
  }
  if (!signal) return pending;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

const readyMarker = ".cairn-ready";

async function ensureEnvironment(
  dir: string,
  python: string,
  requirements: string[],
  pipArgs: string[],
): Promise<string> {
  const executable = join(dir, "bin", "python");
  try {
    await access(join(dir, readyMarker));
    return executable;
  } catch {}
  await mkdir(join(dir, ".."), { recursive: true });
  const staging = `${dir}.building-${randomUUID()}`;
  try {
    const venv = await runTool(python, ["-m", "venv", staging], staging);
    if (venv.code !== 0) {
      throw new RequirementsError(
        `Could not create a Python virtualenv with ${python} -m venv (is the venv module installed?):\n${venv.tail}`,
      );
    }
    // A venv's own python finds its packages relative to where it is run from, so the
    // staging directory can be renamed once complete.
    const list = join(staging, "requirements.txt");
    await writeFile(list, `${requirements.join("\n")}\n`);
    const pip = await runTool(
      join(staging, "bin", "python"),
      ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", ...pipArgs, "-r", list],
      staging,
    );
    if (pip.code !== 0) throw new RequirementsError(pipFailure(requirements, pip.tail));
    await writeFile(join(staging, readyMarker), "");
    try {
      await rename(staging, dir);
    } catch {
      // Another process finished the same environment first: use theirs.
      await access(join(dir, readyMarker));
    }
    return executable;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** pip's own error lines, led by the requirement it could not install. */
export function pipFailure(requirements: string[], output: string): string {
  const errors = output
    .split("\n")
    .filter((line) => line.startsWith("ERROR:"))
    .join("\n");
  const named =
    /No matching distribution found for (\S+)/.exec(output)?.[1] ??
    requirements.find((r) => output.includes(r.trim())) ??
    requirements.join(", ");
  return `Could not install the Python requirement ${named}:\n${errors || output.trim()}`;
}

/**
 * Runs an installer step with the worker's own environment (proxies, pip settings), under
 * the lifeline like a script: if the worker dies, so does the step, and `staging` goes.
 */
function runTool(
  command: string,
  args: string[],
  staging: string,
): Promise<{ code: number | null; tail: string }> {
  const tail = new TailBuffer(8_192);
  const launch = launchCommand(command, args, staging);
  return new Promise((resolve, reject) => {
    const child = spawn(launch.command, launch.args, {
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "ignore", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => tail.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => tail.push(chunk));
    const lifeline = child.stdio[lifelineFd] as NodeJS.ReadableStream | undefined;
    lifeline?.on("error", () => {});
    lifeline?.resume();
    child.on("error", reject);
    child.on("exit", () => {
      // The group's stragglers, and the launcher's watchdog.
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {}
    });
    child.on("close", (code) => resolve({ code, tail: tail.text() }));
  });
}
