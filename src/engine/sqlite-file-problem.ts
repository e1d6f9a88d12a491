import { statfsSync, statSync } from "node:fs";

/** Kernel pseudo file systems whose files look regular but are no place for a database. */
const pseudoFileSystems = new Map([
  [0x9fa0, "/proc"], // PROC_SUPER_MAGIC
  [0x62656572, "/sys"], // SYSFS_MAGIC
  [0x1cd1, "devpts"], // DEVPTS_SUPER_MAGIC
  [0x64626720, "debugfs"], // DEBUGFS_MAGIC
  [0x73636673, "securityfs"], // SECURITYFS_MAGIC
  [0x27e0eb, "cgroup"], // CGROUP_SUPER_MAGIC
  [0x63677270, "cgroup2"], // CGROUP2_SUPER_MAGIC
]);

/**
 * What makes an existing path unusable as a SQLite database file, or undefined when it is a
 * regular file (or does not exist). SQLite on a FIFO blocks, and on a /proc file it spins
 * forever at 100% CPU, so these are refused before anything opens them.
 */
export function sqliteFileProblem(path: string): string | undefined {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    return undefined;
  }
  if (stats.isDirectory()) return "is a folder";
  if (stats.isFIFO()) return "is a named pipe (FIFO), not a regular file";
  if (stats.isSocket()) return "is a socket, not a regular file";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "is a device, not a regular file";
  if (!stats.isFile()) return "is not a regular file";
  const fs = pseudoFileSystems.get(Number(statfsSync(path).type));
  if (fs !== undefined)
    return `is a file of the kernel's ${fs} pseudo file system, not a regular file`;
  return undefined;
}
