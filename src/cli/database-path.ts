import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
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
 * file, or (with `mustExist`, for commands that only read) no database at all, which such
 * commands must not create.
 * @throws UsageError saying what is wrong with which path.
 */
export function checkDatabasePath(url: string, options: { mustExist?: boolean } = {}): void {
  const file = sqliteFileOf(url);
  if (file === undefined) return;
  const shown = display(file);
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) {
      throw new UsageError(
        `Database ${url}: ${shown} is a folder; name a file, e.g. ${url.replace(/\/?$/, "/cairn.db")}.`,
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
