import { type ChildProcess, fork } from "node:child_process";

/** The exit code of a worker that drained after an uncaught error it could not attribute. */
export const restartExitCode = 70;

/** Set in the supervised child, so it runs the worker instead of supervising again. */
export const supervisedVariable = "CAIRN_SUPERVISED";

const firstDelayMs = 1_000;
const maxDelayMs = 30_000;
/** A child that lived this long resets the backoff: its crash is not part of a loop. */
const healthyAfterMs = 60_000;

/**
 * Runs this same command as a child process and starts it again whenever it exits with
 * {@link restartExitCode}, waiting 1 s, 2 s, 4 s… (at most 30 s) between starts. Any other
 * exit ends supervision with that code. The child has its own process group, so a terminal's
 * Ctrl-C reaches it once, forwarded from here; if this process dies, the child sees its IPC
 * channel close and drains.
 */
export async function supervise(note: (message: string) => void): Promise<number> {
  let child: ChildProcess | undefined;
  let stopping: NodeJS.Signals | undefined;
  let wakeUp: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stopping = signal;
    child?.kill(signal);
    wakeUp?.();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  let delayMs = firstDelayMs;
  try {
    while (true) {
      const startedAt = Date.now();
      child = fork(process.argv[1] ?? "", process.argv.slice(2), {
        env: { ...process.env, [supervisedVariable]: "1" },
        execArgv: process.execArgv,
        stdio: "inherit",
        detached: true,
      });
      const running = child;
      const code = await new Promise<number>((done) =>
        running.once("exit", (exitCode, signal) => done(exitCode ?? (signal ? 128 + 15 : 1))),
      );
      child = undefined;
      if (stopping || code !== restartExitCode) return code;
      if (Date.now() - startedAt > healthyAfterMs) delayMs = firstDelayMs;
      note(`worker exited after an uncaught error; restarting it in ${delayMs} ms`);
      await new Promise<void>((resume) => {
        wakeUp = resume;
        setTimeout(resume, delayMs);
      });
      wakeUp = undefined;
      if (stopping) return 0;
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
