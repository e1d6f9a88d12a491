import { readFileSync } from "node:fs";

/** Linux's USER_HZ: the unit of the CPU times in /proc/<pid>/stat on every mainstream arch. */
const ticksPerSecond = 100;

/**
 * CPU time (user + system, ms) another process has used so far, read from /proc; null where
 * there is no /proc (macOS) or the process is gone. 10 ms resolution.
 */
export function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

/** This process's CPU time so far, ms. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * CPU time (ms) all of the machine's CPUs have been busy since boot, from /proc/stat: user,
 * nice, system, irq and softirq, not idle, I/O wait or the time the hypervisor stole. Null
 * without /proc. 10 ms resolution per CPU. Counts the database server's processes too, which
 * no process's own figure does.
 */
export function machineBusyMs(): number | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
    const ticks = [user, nice, system, irq, softirq].reduce<number>(
      (sum, x) => sum + (x ?? NaN),
      0,
    );
    return Number.isFinite(ticks) ? (ticks * 1000) / ticksPerSecond : null;
  } catch {
    return null;
  }
}
