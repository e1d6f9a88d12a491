import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import type { LogLevel } from "../store/ui-store.ts";

/** Where the console output of the code running in a step goes (besides the console). */
export type LogSink = (level: LogLevel, message: string) => void;

const scope = new AsyncLocalStorage<LogSink>();
let patched = false;

const consoleLevels = {
  debug: "debug",
  trace: "debug",
  log: "info",
  info: "info",
  warn: "warn",
  error: "error",
} as const satisfies Record<string, LogLevel>;

/**
 * Patches `console` once per process so that what a step prints is also recorded as that
 * step's log. Outside a step (no scope) nothing changes; inside, the line still reaches
 * the original console.
 */
export function captureConsole(): void {
  if (patched) return;
  patched = true;
  for (const [method, level] of Object.entries(consoleLevels)) {
    const name = method as keyof typeof consoleLevels;
    const original = console[name].bind(console) as (...args: unknown[]) => void;
    console[name] = (...args: unknown[]) => {
      const sink = scope.getStore();
      // The sink runs outside the scope: anything it prints cannot loop back into it.
      if (sink) scope.exit(() => sink(level, format(...args)));
      original(...args);
    };
  }
}

/** Runs `fn` (a step attempt) with its console output going to `sink`. */
export function withLogSink<T>(sink: LogSink, fn: () => T): T {
  return scope.run(sink, fn);
}
