import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { sqliteFileProblem } from "../engine/sqlite-file-problem.ts";
import { UsageError } from "./errors.ts";

/** The file a SQLite database URL names (as `openStore` reads it), or undefined for others. */
export function sqliteFileOf(url: string): string | undefined {
  let path: string | undefined;
  if (url.startsWith("sqlite:")) path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
  else if (!/^[a-z]+:\/\//.test(url) && /\.(db|sqlite3?)$/.test(url)) path = url;
  return path === undefined || path === "" || path === ":memory:" ? undefined : path;
}

/**
 * Checks a SQLite database's path before anything opens it, so a mistake names the path:
 * a file where a folder should be, a folder that cannot be written, a folder given as the
 * file, a path that is no regular file (a FIFO, a device, a /proc file), or (with
 * `mustExist`, for commands that only read) no database at all or an empty file, which such
 * commands must not take for a new database.
 * @throws UsageError saying what is wrong with which path.
 */
export function checkDatabasePath(url: string, options: { mustExist?: boolean } = {}): void {
  const file = sqliteFileOf(url);
  if (file === undefined) return;
  const shown = display(file);
  if (existsSync(file)) {
    const problem = sqliteFileProblem(file);
    if (problem === "is a folder") {
      throw new UsageError(
        `Database ${url}: ${shown} is a folder; name a file, e.g. ${url.replace(/\/?$/, "/cairn.db")}.`,
      );
    }
    if (problem)
      throw new UsageError(`Database ${url}: ${shown} ${problem}; name a database file.`);
    // SQLite takes an empty file for a new database: a command that only reads would then
    // report "No runs" from a file that was truncated or never written.
    if (options.mustExist && statSync(file).size === 0) {
      throw new UsageError(
        `Database ${url}: ${shown} is empty (0 bytes), not a Cairn database — run cairn migrate --db ${url} to set it up, or point --db at the right file.`,
      );
    }
    return;
  }
  if (options.mustExist) {
    throw new UsageError(
      `no Cairn database at ${shown} — run cairn dev or cairn migrate first (or point --db at an existing one).`,
    );
  }
  let folder = dirname(resolve(file));
  while (!existsSync(folder)) folder = dirname(folder);
  if (!statSync(folder).isDirectory()) {
    throw new UsageError(`Database ${url}: ${display(folder)} is a file, not a folder.`);
  }
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new UsageError(
      `Database ${url}: cannot create ${shown}: ${display(folder)} is not writable.`,
    );
  }
}

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}
