import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { CairnError } from "../core/errors.ts";
import { migrate } from "./migrate.ts";
import { retryWhileBusy } from "./retry-while-busy.ts";
import { isStorageFault, storageError } from "./storage-error.ts";

export interface SqliteStoreOptions {
  /**
   * `FULL` fsyncs the WAL on every commit: a committed step survives power loss.
   * `NORMAL` survives process crashes but may lose the last commits on power loss.
   * (Default: "FULL")
   */
  synchronous?: "FULL" | "NORMAL";
  /** How long a writer waits for another process's transaction, in ms. (Default: 10_000) */
  busyTimeoutMs?: number;
  /**
   * A wait for another process's write lock longer than this is reported (logged at warn
   * with the holder's pid, and `/readyz` turns 503 until it ends), in ms. (Default: 5_000)
   */
  lockWarnMs?: number;
}

export const defaultBusyTimeoutMs = 10_000;

let nativeBinding: string | null | undefined;

/**
 * Where an npm install puts better-sqlite3's native module, or null. Without it the driver
 * asks the `bindings` package, which probes a dozen paths: up to 15 ms of every CLI command.
 */
export function installedNativeBinding(): string | null {
  if (nativeBinding === undefined) {
    try {
      nativeBinding = createRequire(import.meta.url).resolve(
        "better-sqlite3/build/Release/better_sqlite3.node",
      );
    } catch {
      nativeBinding = null; // built elsewhere: the driver's own search finds it
    }
  }
  return nativeBinding;
}

/**
 * A freshly migrated in-memory database, serialized: later in-memory databases of the
 * process start from a copy instead of running every migration again (most of the cost of
 * opening one; `simulate` opens one per seed).
 */
let migratedImage: Buffer | undefined;

/** Opens (creating if need be) and migrates a SQLite database; errors name the file. */
export function openDatabase(path: string, options: SqliteStoreOptions): Database.Database {
  if (path === ":memory:" && migratedImage) {
    // The image holds every migration this process has: it read them when it made it.
    const db = new Database(migratedImage, nativeOptions());
    db.pragma("foreign_keys = ON");
    return db;
  }
  if (path !== ":memory:") createFolder(path);
  let db: Database.Database;
  try {
    db = new Database(path, nativeOptions());
  } catch (error) {
    throw namedOpenError(path, error);
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? defaultBusyTimeoutMs;
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Switching to WAL needs a moment of exclusive access, for which SQLite does not call the
    // busy handler: another process opening or recovering the file makes it fail at once.
    retryWhileBusy(() => {
      if (db.pragma("journal_mode", { simple: true }) !== "wal") db.pragma("journal_mode = WAL");
    }, busyTimeoutMs);
    db.pragma(`synchronous = ${options.synchronous ?? "FULL"}`);
    db.pragma("foreign_keys = ON");
    migrate(db);
    if (path === ":memory:") migratedImage = db.serialize();
    return db;
  } catch (error) {
    db.close();
    throw namedOpenError(path, error);
  }
}

function nativeOptions(): Database.Options {
  const binding = installedNativeBinding();
  return binding ? { nativeBinding: binding } : {};
}

/**
 * SQLite's own messages ("file is not a database") name no file: an operator with several
 * databases needs to know which one is damaged.
 */
function namedOpenError(path: string, error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new CairnError(
      "STORE_UNAVAILABLE",
      `Database ${path} is not a SQLite database or is corrupt (${(error as Error).message}); restore it from a backup or point --db at the right file.`,
      { cause: error },
    );
  }
  if (isStorageFault(error)) return storageError(path, error);
  return error;
}

/** The database's folder, created if need be; a failure names the folder and why. */
function createFolder(path: string): void {
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    // mkdir -p on a read-only file system says ENOENT: the nearest existing folder tells.
    const code = nearestFolderCode(folder) ?? (error as { code?: string }).code;
    const why =
      code === "EROFS"
        ? "the file system is read-only"
        : code === "ENOTDIR"
          ? "a part of that path is a file, not a folder"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied"
            : code === "ENOSPC"
              ? "the disk is full"
              : (error as Error).message;
    throw new CairnError(
      "STORE_UNAVAILABLE",
      `Database ${path}: its folder ${folder} does not exist and cannot be created (${why}).`,
      { cause: error },
    );
  }
}

/** The error code of writing into the nearest existing ancestor of `folder`, if any. */
function nearestFolderCode(folder: string): string | undefined {
  for (let dir = dirname(folder); ; dir = dirname(dir)) {
    if (existsSync(dir)) {
      try {
        accessSync(dir, constants.W_OK);
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    }
    if (dir === dirname(dir)) return undefined;
  }
}
