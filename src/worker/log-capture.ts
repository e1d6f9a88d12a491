import { format } from "node:util";
import type { LogLevel } from "../store/ui-store.ts";
import { currentStepScope, outsideStepScope } from "./step-scope.ts";

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
      const sink = currentStepScope()?.log;
      // The sink runs outside the scope: anything it prints cannot loop back into it.
      if (sink) outsideStepScope(() => sink(level, format(...args)));
      original(...args);
    };
  }
}
