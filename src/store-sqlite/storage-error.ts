import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { CairnError } from "../core/errors.ts";

/** The `code` of a driver or Node error (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`, `EROFS`, …). */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

/**
 * Errors after which SQLite may have rolled back the whole transaction on its own: code that
 * catches one inside a transaction must not carry on, or its later statements would commit
 * one by one outside any transaction.
 */
export function isStorageFault(error: unknown): boolean {
  const code = errorCode(error);
  return /^SQLITE_(FULL|IOERR|NOMEM|READONLY|CORRUPT|CANTOPEN|BUSY)/.test(code);
}

/**
 * Why this process cannot write `path` or create files beside it (SQLite needs its `-wal`
 * and `-shm` there), or undefined when nothing visible stops it. Names the path at fault and
 * the cause: a missing folder, a read-only file system, or permissions.
 */
export function whyNotWritable(path: string): string | undefined {
  const folder = dirname(path);
  if (!existsSync(folder)) return `its folder ${folder} does not exist`;
  if (!statSync(folder).isDirectory()) return `${folder} is not a folder`;
  for (const [target, what] of [
    [folder, `its folder ${folder}`],
    [path, `the file ${path}`],
  ] as const) {
    if (target === path && !existsSync(path)) continue;
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      const code = errorCode(error);
      if (code === "EROFS") return `${what} is on a read-only file system`;
      if (code === "EACCES" || code === "EPERM") {
        return `${what} is not writable by this process (uid ${process.getuid?.() ?? "?"})`;
      }
      return `${what} cannot be written (${(error as Error).message})`;
    }
  }
  return undefined;
}

/**
 * A SQLite error as the operator needs it: which database, what happened, what to do. A full
 * disk becomes `STORAGE_FULL` (the API's 503 "storage full"), a file that cannot be written
 * `STORE_UNAVAILABLE` naming the cause; anything else is returned as it is.
 */
export function storageError(path: string, error: unknown): unknown {
  const code = errorCode(error);
  if (code === "SQLITE_FULL" || (code.startsWith("SQLITE_IOERR") && /ENOSPC/.test(String(error)))) {
    return new CairnError(
      "STORAGE_FULL",
      `Database ${path}: the disk is full (${(error as Error).message}); nothing of this write was kept, and writes resume by themselves once space is freed.`,
      { cause: error },
    );
  }
  if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_CANTOPEN") {
    const why = whyNotWritable(path) ?? (error as Error).message;
    return new CairnError(
      "STORE_UNAVAILABLE",
      `Database ${path} cannot be written: ${why} (${code}).`,
      { cause: error },
    );
  }
  return error;
}
