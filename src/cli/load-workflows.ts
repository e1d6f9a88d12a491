import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, resolve } from "node:path";
import { type AnyWorkflow, isWorkflow } from "../core/workflow.ts";
import { versionOf } from "../core/workflow-version.ts";
import { CommandFailedError, UsageError } from "./errors.ts";
import { describeLoadError } from "./load-error.ts";
import { importUserModule } from "./load-module.ts";

/** What `loadWorkflows` found. */
export interface LoadedWorkflows {
  workflows: AnyWorkflow[];
  /** Each workflow's name and the file (relative to the working directory) that exported it. */
  origins: { name: string; file: string }[];
  /** Files of a folder that were not imported, and why. */
  skipped: { file: string; reason: string }[];
}

const moduleExtensions = new Set([".ts", ".mts", ".js", ".mjs"]);

/**
 * Loads the workflows of an entry: every exported value made by `defineWorkflow` in a
 * file, or in each module file directly inside a folder. In a folder, test files
 * (`*.test.*`, `*.spec.*`), declaration files, names starting with `_` or `.`, and files
 * whose text never mentions `defineWorkflow` (scripts such as `main.ts`, which would run
 * when imported) are skipped and reported. A file named explicitly is always imported.
 * `generation` > 0 loads fresh instances of every module (see `importUserModule`).
 * @throws UsageError when the entry does not exist or two different workflows share a name.
 */
export async function loadWorkflows(entry: string, generation = 0): Promise<LoadedWorkflows> {
  const path = resolve(entry);
  if (!existsSync(path)) throw new UsageError(`Entry "${entry}" does not exist.`);
  const skipped: LoadedWorkflows["skipped"] = [];
  let files: string[];
  if (statSync(path).isDirectory()) {
    files = [];
    for (const name of readdirSync(path).sort()) {
      const file = join(path, name);
      const reason = skipReason(name, file);
      if (reason === null) files.push(file);
      else if (reason) skipped.push({ file: display(file), reason });
    }
  } else {
    files = [path];
  }

  // Keyed by name and version: versions of one workflow are kept side by side.
  const byName = new Map<string, { workflow: AnyWorkflow; file: string }>();
  for (const file of files) {
    let module: Record<string, unknown>;
    try {
      module = await importUserModule(file, generation);
    } catch (error) {
      throw new CommandFailedError(describeLoadError(file, error), { cause: error });
    }
    for (const value of Object.values(module)) {
      if (!isWorkflow(value)) continue;
      const key = `${value.name}@${versionOf(value)}`;
      const existing = byName.get(key);
      if (existing && existing.workflow !== value) {
        const which =
          value.options.version === undefined ? "" : ` with version ${versionOf(value)}`;
        throw new UsageError(
          `Two different workflows are named "${value.name}"${which}: in ${existing.file} and ${display(file)}.`,
        );
      }
      if (!existing) byName.set(key, { workflow: value as AnyWorkflow, file: display(file) });
    }
  }
  return {
    workflows: [...byName.values()].map((w) => w.workflow),
    origins: [...byName.values()].map((w) => ({ name: w.workflow.name, file: w.file })),
    skipped,
  };
}

/** Why a folder entry is not imported: a reason to report, `""` to skip silently, null to load. */
function skipReason(name: string, file: string): string | null {
  if (!moduleExtensions.has(extname(name)) || name.endsWith(".d.ts")) return "";
  if (!statSync(file).isFile()) return "";
  if (name.startsWith("_") || name.startsWith(".")) return "";
  if (/\.(test|spec)\.[cm]?[jt]s$/.test(name)) return "";
  if (!readFileSync(file, "utf8").includes("defineWorkflow")) {
    return "does not mention defineWorkflow (a script is not imported from a folder)";
  }
  return null;
}

function display(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}

/**
 * The workflow named `name` (at `version`, when given) in an entry, for `cairn replay`.
 * @throws UsageError naming the workflows the entry does export.
 */
export async function loadWorkflow(
  entry: string,
  name: string,
  version?: number,
): Promise<AnyWorkflow> {
  const { workflows } = await loadWorkflows(entry);
  const found = workflows.find(
    (w) => w.name === name && (version === undefined || versionOf(w) === version),
  );
  if (found) return found;
  if (workflows.some((w) => w.name === name)) {
    throw new UsageError(`${entry} exports no version ${version} of workflow "${name}".`);
  }
  const known = workflows.map((w) => `"${w.name}"`).join(", ") || "none";
  throw new UsageError(`${entry} exports no workflow named "${name}" (found: ${known}).`);
}
