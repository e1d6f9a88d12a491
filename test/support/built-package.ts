/**
 * The package as users get it, for the tests that install it into a fresh project: built
 * once per test file, installed from its path with `npm install --offline` (no registry).
 */
import { type ExecFileSyncOptions, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const root = resolve(import.meta.dirname, "../..");
export const tsc = join(root, "node_modules/typescript/bin/tsc");
export const tsxCli = join(root, "node_modules/tsx/dist/cli.mjs");
export const cairnBin = join(root, "dist/cli/main.js");

/** Generous but bounded: a busy 2-core machine builds in 20–60 s. */
export const buildTimeoutMs = 180_000;
/** One npm install from the cache, or one run of a generated project's tests. */
export const stepTimeoutMs = 120_000;

const quiet: ExecFileSyncOptions = { stdio: "pipe", timeout: stepTimeoutMs };

export function buildPackage(): void {
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "pipe", timeout: buildTimeoutMs });
}

/** A temporary folder, removed by `remove`. */
export function scratch(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Installs the local package (and the project's own dependencies) without the network. */
export function installLocalPackage(project: string): void {
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", root], {
    ...quiet,
    cwd: project,
  });
}

/**
 * Installs the local package into a generated project and gives it its dev tools (vitest,
 * typescript, @types/node) as links to this repository's copies: `--offline` installs exact
 * tarballs from the cache but cannot resolve a version range without the registry. Returns
 * the dev dependency ranges the project asked for.
 */
export function installGeneratedProject(project: string): Record<string, string> {
  const manifestPath = join(project, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    devDependencies?: Record<string, string>;
  };
  const wanted = manifest.devDependencies ?? {};
  delete manifest.devDependencies;
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  installLocalPackage(project);
  // After the install: npm removes packages its manifest does not list.
  for (const name of Object.keys(wanted)) {
    const link = join(project, "node_modules", name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(root, "node_modules", name), link, "dir");
  }
  return wanted;
}

/** Runs `node args…` in `cwd` and returns stdout; a failure throws with stderr in the message. */
export function node(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(process.execPath, args, {
      ...quiet,
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
      encoding: "utf8",
    }) as string;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`node ${args.join(" ")} failed: ${e.message}\n${e.stdout}\n${e.stderr}`);
  }
}

/** Runs `node args…` to its end without throwing: exit code and both outputs. */
export function nodeResult(
  args: readonly string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), stepTimeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
