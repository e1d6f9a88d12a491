import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import Database from "better-sqlite3";
import type { WakeReason } from "../store/journal-store.ts";
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
 * How long a change found by a probe or a timed check in another connection's commit waits
 * for a ring to say what it was, once rings have been heard: a worker woken for everything
 * by the probe that found a server's start made a full pass, though the ring on its way said
 * the run only needed admitting. A change no ring explains wakes the subscriber this much
 * later.
 */
const ringGraceMsDefault = 2;
/** How long after a write to the WAL the last probe for its commit runs (see `othersProbe`). */
const probeForMsDefault = 64;
/** For this long after a write to the WAL, probes are a millisecond apart (an fsync's time). */
const steadyForMs = 8;

export interface DataVersionWatchOptions {
  everyMs?: number;
  idleMs?: number;
  /**
   * `PRAGMA data_version` of the store's own connection: it changes only when another
   * connection commits. With it, writes to the WAL that the file system reports wake the
   * subscriber at once, but only for other connections' commits (this process's own commits
   * happen many times a second under load, and each wake-up costs a claim pass).
   */
  othersVersion?: () => unknown;
  /** How long probes look for a commit after a write to the WAL. */
  probeForMs?: number;
  /**
   * Subscribes to other processes' rings after their commits (commit-doorbell.ts); returns
   * the function that unsubscribes. A ring checks at once, ahead of the probes.
   */
  rings?: (onRing: (reason?: WakeReason) => void) => () => void;
  /** How long a change found otherwise waits for a ring, once rings have come (see `check`). */
  ringGraceMs?: number;
}

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
 *
 * Timed checks alone made a run started by another process wait half a check interval on
 * average (≈ 5 ms, most of a cross-process start's latency). Where the file system reports
 * changes (inotify on Linux), a write to the WAL also starts probes of `othersVersion`, which
 * wake the subscriber within a millisecond or two of another connection's commit, until the
 * first ring (`rings`) says the other processes ring for what is news. The timed checks stay,
 * for file systems that report nothing (network mounts), a watcher that fails, a lost ring.
 */
export function watchDataVersion(
  path: string,
  isOpen: () => boolean,
  onChange: (reason?: WakeReason) => void,
  options: DataVersionWatchOptions = {},
): () => void {
  if (path === ":memory:" || path === "") return () => {};
  const everyMs = options.everyMs ?? dataVersionCheckMs;
  const idleMs = options.idleMs ?? dataVersionIdleCheckMs;
  const binding = installedNativeBinding();
  const db = new Database(path, {
    readonly: true,
    fileMustExist: true,
    ...(binding ? { nativeBinding: binding } : {}),
  });
  const version = db.prepare("PRAGMA data_version").pluck();
  let last = version.get();
  let pauseMs = everyMs;
  let timer: NodeJS.Timeout | undefined;
  const { othersVersion } = options;
  const readOthers = () => {
    try {
      return othersVersion?.();
    } catch {
      return undefined; // the store is closing or busy: the timed checks catch up
    }
  };
  // Others' version at the last check: a probe that finds it moved calls the check, which
  // takes it again, so a commit the timed checks saw first wakes nobody twice.
  let othersAtCheck = readOthers();
  const probes = othersVersion
    ? othersProbe(
        () => {
          const now = readOthers();
          return now !== undefined && now !== othersAtCheck;
        },
        options.probeForMs ?? probeForMsDefault,
        () => check(),
      )
    : null;
  const walName = `${basename(path)}-wal`;
  const watcher = probes
    ? watchDirectory(dirname(path), (file) => {
        if (file === walName) probes.soon();
      })
    : undefined;
  const ringGraceMs = options.ringGraceMs ?? ringGraceMsDefault;
  /** Rings have come: a change found otherwise waits `ringGraceMs` for one (see `check`). */
  let ringsHeard = false;
  let unexplained: NodeJS.Timeout | undefined;
  const stopRings = options.rings?.((reason) => {
    if (!ringsHeard) {
      ringsHeard = true;
      // Other processes ring after every commit that is news to this one, so the probes
      // after each write to the WAL now find only commits that are news to nobody (a run's
      // steps in another worker, say). On a busy file they kept every process waking every
      // millisecond, at the file system's notice of each write, and woke the subscriber
      // for nothing once the grace had passed. The timed checks stay, for a commit whose
      // ring is lost or a process that does not ring.
      probes?.stop();
      watcher?.close();
    }
    check(reason ?? "ring");
  });
  const stop = () => {
    clearTimeout(timer);
    clearTimeout(unexplained);
    stopRings?.();
    probes?.stop();
    watcher?.close();
    if (db.open) db.close();
  };
  /**
   * `source`: a ring, which says what its commit was. A change found by a ring for runs
   * awaiting admission wakes the subscriber for admissions only. A change found by a probe
   * or a timed check wakes it for everything: at once when only this process committed
   * (what its commits made claimable, a parent its run's end woke, say, is found so), else
   * after a short wait for the ring that may be on its way and say more (the change is then
   * the ring's). The other rings wake it even when the change was already found: an
   * admission ring's check may have taken, as its own, a change that held their commit too.
   * (A commit of this process's own found in the same wait as an admission ring is left to
   * the next full pass: a timer, a poll, or any other wake-up.)
   */
  const check = (source?: WakeReason | "ring") => {
    if (!isOpen()) return stop();
    const othersBefore = othersAtCheck;
    othersAtCheck = readOthers();
    let changed = false;
    try {
      const now = version.get();
      changed = now !== last;
      last = now;
    } catch {
      // busy or closing: the next check or the poll catches up
    }
    pauseMs = changed ? everyMs : Math.min(pauseMs * 2, idleMs);
    clearTimeout(timer);
    timer = setTimeout(check, pauseMs);
    // A watch must never keep a process alive that has nothing else to do.
    timer.unref();
    if (source === undefined) {
      if (!changed) return;
      if (!ringsHeard || othersAtCheck === othersBefore) return onChange();
      unexplained ??= setTimeout(() => {
        unexplained = undefined;
        onChange();
      }, ringGraceMs);
      return;
    }
    const waiting = unexplained !== undefined;
    clearTimeout(unexplained);
    unexplained = undefined;
    if (source === "admission") {
      if (changed || waiting) onChange("admission");
    } else onChange();
  };
  timer = setTimeout(check, pauseMs);
  timer.unref();
  return stop;
}

/**
 * Probes for other connections' commits (`committed`) after a write to the WAL. SQLite writes the WAL
 * before it syncs the commit and publishes it in the shared-memory index, which the file
 * system does not report, so one probe right after the write would miss it: probes follow
 * every millisecond for `steadyForMs`, then at doubling gaps until one sees a change or
 * `probeForMs` has passed. A busy WAL is written many times a second; writes while probes are
 * pending at a millisecond's pace add none, and start new ones only after a probe saw a
 * commit.
 */
function othersProbe(committed: () => boolean, probeForMs: number, onCommit: () => void) {
  let pending: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let startedAt = 0;
  let gapMs = 0;
  let writtenSince = false;
  const probe = () => {
    pending = undefined;
    if (committed()) {
      onCommit();
      // The WAL was written again while probing: that commit may not be published yet.
      if (writtenSince) start();
      return;
    }
    const elapsed = performance.now() - startedAt;
    gapMs = elapsed < steadyForMs ? 1 : gapMs * 2;
    if (elapsed + gapMs > probeForMs) return;
    pending = setTimeout(probe, gapMs);
    pending.unref();
  };
  const start = () => {
    startedAt = performance.now();
    gapMs = 0;
    writtenSince = false;
    // setTimeout waits at least a millisecond; the event loop's next turn is sooner.
    // Not unref'd: an unref'd immediate does not keep the event loop from blocking in its
    // poll for I/O, so in an otherwise idle process it ran only at the next timer or socket
    // event (up to the 10 ms timed check), not at the next turn. It holds the process one
    // turn at most.
    pending = setImmediate(probe);
  };
  return {
    soon() {
      if (!pending) return start();
      writtenSince = true;
      // A chain past its steady phase probes at doubling gaps (its commit was taken by a
      // timed check, say): a new write restarts it at a millisecond's pace, or this commit
      // would wait for the chain's next probe, up to tens of milliseconds away.
      if (gapMs > 1) {
        clearTimeout(pending as NodeJS.Timeout);
        start();
      }
    },
    stop() {
      clearTimeout(pending as NodeJS.Timeout);
      clearImmediate(pending as NodeJS.Immediate);
      pending = undefined;
    },
  };
}

/** Reports the names of files in `directory` that change, or returns undefined where it cannot. */
function watchDirectory(
  directory: string,
  onChange: (file: string) => void,
): FSWatcher | undefined {
  try {
    const watcher = watch(directory, { persistent: false }, (_event, file) => {
      if (file) onChange(file.toString());
    });
    // A watcher that fails (the directory removed, inotify limits) leaves the timed checks.
    watcher.on("error", () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
}
