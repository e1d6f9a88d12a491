/**
 * Scripts die with their worker, even a SIGKILLed one. Node cannot set PR_SET_PDEATHSIG, so
 * each script starts through `/bin/sh`: it forks a watchdog that blocks reading the lifeline
 * (a pipe whose other end only the worker holds), then `exec`s the interpreter, so the script
 * keeps the launcher's pid, exit code and signal. The kernel closes the worker's end when the
 * worker dies however it dies; the watchdog's read then returns, removes the script's
 * temporary directory (the dead worker cannot) and SIGKILLs its process group: the script and
 * everything the script started.
 */

/** The file descriptor the lifeline arrives on in the script's process group. */
export const lifelineFd = 4;

/** Where the launcher's shell lives (POSIX; dash or bash). */
export const launcherShell = "/bin/sh";

/*
 * The watchdog ignores SIGTERM/SIGINT/SIGHUP so a group SIGTERM (timeout, cancel) leaves it
 * guarding the grace period; the worker's final group SIGKILL ends it. It lets go of stdio and
 * the result pipe so they close when the script does.
 */
const launcher = [
  "leftover=$1; shift",
  `( trap '' INT TERM HUP; read _ <&${lifelineFd}; [ -n "$leftover" ] && rm -rf -- "$leftover"; kill -KILL 0 ) </dev/null >/dev/null 2>&1 3>&- &`,
  `exec "$@" ${lifelineFd}<&-`,
].join("\n");

/**
 * The command and arguments that run `exe args…` under the launcher; `leftover`, a directory
 * of the worker's own making, is removed if the worker dies first.
 */
export function launchCommand(
  exe: string,
  args: string[],
  leftover = "",
): { command: string; args: string[] } {
  return {
    command: launcherShell,
    args: ["-c", launcher, "cairn-script", leftover, exe, ...args],
  };
}
