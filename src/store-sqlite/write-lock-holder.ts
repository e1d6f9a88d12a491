import { readFileSync, statSync } from "node:fs";

/** The process that holds a SQLite file's write lock, as the kernel reports it. */
export interface WriteLockHolder {
  pid: number;
  /** Its executable's name (`/proc/<pid>/comm`), when this process may read it. */
  name?: string;
}

/**
 * SQLite's unix VFS takes the WAL write lock as a POSIX lock on byte 120 of the `-shm` file
 * (`UNIX_SHM_BASE` + `WAL_WRITE_LOCK`); a frozen or slow process keeps it. Linux lists every
 * POSIX lock with its owner's pid in `/proc/locks`, so the holder is known without any write
 * of our own (a holder table written inside the transaction would be invisible to others
 * until it commits). Undefined elsewhere (no `/proc/locks`) or when no process holds it.
 */
export function writeLockHolder(path: string): WriteLockHolder | undefined {
  let locks: string;
  let shm: ReturnType<typeof statSync>;
  try {
    shm = statSync(`${path}-shm`);
    locks = readFileSync("/proc/locks", "utf8");
  } catch {
    return undefined;
  }
  const file = `${deviceName(Number(shm.dev))}:${shm.ino}`;
  for (const line of locks.split("\n")) {
    // "1: POSIX  ADVISORY  WRITE 14184 fe:00:2147626 120 120"
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== "POSIX" || fields[3] !== "WRITE" || fields[5] !== file) continue;
    if (fields[6] !== "120" || fields[7] !== "120") continue;
    const pid = Number(fields[4]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    return { pid, ...nameOf(pid) };
  }
  return undefined;
}

/** `/proc/locks` names a device `major:minor` in two-digit hex, as glibc's makedev splits it. */
function deviceName(dev: number): string {
  const major = ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >> 12) & ~0xff & 0xfffff);
  return `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}`;
}

/** Only the name, never the command line: its arguments may carry a token or a password. */
function nameOf(pid: number): { name?: string } {
  try {
    const name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    return name ? { name } : {};
  } catch {
    return {};
  }
}
