import { spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { CommandFailedError, UsageError } from "../errors.ts";
import { note, print } from "../output.ts";
import { projectFiles } from "./project-files.ts";

export interface InitOptions {
  /** Run `npm install` in the new project. (Default: true) */
  install: boolean;
  /** The cairnjs version the project depends on (`^version`). */
  cairnVersion: string;
}

/**
 * Scaffolds a project in `dir` (created if missing), installs its dependencies, and prints
 * the next commands.
 * @throws UsageError when `dir` is a file or already holds one of the files to write;
 *   nothing is written then.
 * @throws CommandFailedError when `npm install` fails (the files stay: rerun it by hand).
 */
export async function initProject(dir: string, options: InitOptions): Promise<void> {
  const root = resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new UsageError(`${dir} is a file: cairn init needs a folder (new or empty).`);
  }
  const name = packageName(basename(root));
  const files = projectFiles(name, options.cairnVersion);
  const clashes = Object.keys(files).filter((file) => existsSync(join(root, file)));
  if (clashes.length > 0) {
    throw new UsageError(
      `${dir} already has ${clashes.join(", ")}: cairn init only writes into a new or empty folder.`,
    );
  }
  for (const [file, content] of Object.entries(files)) {
    const path = join(root, file);
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content, { flag: "wx" });
    } catch (error) {
      throw new UsageError(`Cannot write ${path}: ${(error as Error).message}`);
    }
  }
  note(`Created ${Object.keys(files).length} files in ${display(root)}.`);
  if (options.install) await npmInstall(root);
  const cd = relative(process.cwd(), root);
  print("Next:");
  if (cd !== "") print(`  cd ${cd.includes(" ") ? JSON.stringify(cd) : cd}`);
  if (!options.install) print("  npm install");
  print("  npm run dev   # runs workflows/ with a worker and the API on http://127.0.0.1:7420");
  print("  npm test      # runs workflows/welcome.test.ts");
}

/** A valid npm package name from a folder name. */
function packageName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+|-+$/g, "");
  // npm refuses these names; any other cleaned folder name is fine.
  return name === "" || name === "node_modules" || name === "favicon.ico" ? "cairn-app" : name;
}

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" ? "." : rel.startsWith("..") ? path : rel;
}

async function npmInstall(root: string): Promise<void> {
  note("Running npm install…");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    const child = spawn(npm, ["install", "--no-audit", "--no-fund"], {
      cwd: root,
      // npm's output is progress, not data: it goes to stderr like every note of this command.
      stdio: ["ignore", 2, 2],
    });
    child.on("error", reject);
    child.on("close", resolvePromise);
  }).catch((error: Error) => {
    throw new CommandFailedError(`Cannot run npm install in ${root}: ${error.message}`);
  });
  if (code !== 0) {
    throw new CommandFailedError(
      `npm install failed in ${display(root)} (exit ${code}); the files are written: fix the cause and run npm install there.`,
    );
  }
}
