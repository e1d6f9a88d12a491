import Database from "better-sqlite3";
import { installedNativeBinding } from "./open-database.ts";

/** How often a subscriber looks whether the file changed (a read of shared memory) while it does. */
export const dataVersionCheckMs = 10;

/**
 * The longest pause between checks: a quiet file is checked less and less often (each quiet
 * check doubles the pause), so an idle process wakes 5 times a second, not 100 (an idle
 * worker's CPU went from 1.5 to 16 ms per second with a fixed 10 ms check). A change resets
 * the pause, so a busy file is checked every 10 ms.
 */
export const dataVersionIdleCheckMs = 200;

/**
 * Calls `onChange` soon after any connection commits to the database file: SQLite has no
 * LISTEN/NOTIFY, and without this a worker learned of runs started by another process (a
 * `cairn server`, another worker) only at its next poll, a second later. `PRAGMA
 * data_version` changes when a connection other than the one asking committed, so the watch
 * asks on a read-only connection of its own and sees this process's writes too, as a
 * PostgreSQL listener hears its own notifications. It reads the WAL index in shared memory:
 * checking it every few ms costs microseconds. Wake-ups are hints (the worker still polls),
 * so a failed check is skipped. Returns the function that stops watching; `isOpen` false
 * (the store closed) stops it too. An in-memory database has no other connection to watch.
 */
export function watchDataVersion(
  path: string,
  isOpen: () => boolean,
  onChange: () => void,
  everyMs = dataVersionCheckMs,
  idleMs = dataVersionIdleCheckMs,
): () => void {
  if (path === ":memory:" || path === "") return () => {};
  const binding = installedNativeBinding();
  const db = new Database(path, {
    readonly: true,
    fileMustExist: true,
    ...(binding ? { nativeBinding: binding } : {}),
  });
  const version = db.prepare("PRAGMA data_version").pluck();
  let last = version.get();
  let pauseMs = everyMs;
  let timer: NodeJS.Timeout;
  const stop = () => {
    clearTimeout(timer);
    if (db.open) db.close();
  };
  const check = () => {
    if (!isOpen()) return stop();
    let changed = false;
    try {
      const now = version.get();
      changed = now !== last;
      last = now;
    } catch {
      // busy or closing: the next check or the poll catches up
    }
    pauseMs = changed ? everyMs : Math.min(pauseMs * 2, idleMs);
    schedule();
    if (changed) onChange();
  };
  const schedule = () => {
    timer = setTimeout(check, pauseMs);
    // A watch must never keep a process alive that has nothing else to do.
    timer.unref();
  };
  schedule();
  return stop;
}
