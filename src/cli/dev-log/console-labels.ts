import { format } from "node:util";
import { type CodeOwner, currentCodeOwner } from "../../sdk/code-owner.ts";

/** The run (and step) whose code printed a line. */
export type ConsoleScope = CodeOwner;

const methods = ["log", "info", "warn", "error", "debug"] as const;
export type ConsoleMethod = (typeof methods)[number];

/**
 * Sends `console.*` calls made inside a run to `write` with their scope; calls outside any
 * run keep their usual behaviour. Returns a function that restores the console. The engine
 * knows which run and step code belongs to: it runs each workflow function and step body in
 * an async context of its own, so workflows need no wrapping here.
 */
export function labelConsole(
  write: (line: { method: ConsoleMethod; scope: ConsoleScope; text: string }) => void,
): () => void {
  const originals = methods.map((method) => [method, console[method]] as const);
  for (const [method, original] of originals) {
    console[method] = (...args: unknown[]) => {
      const current = currentCodeOwner();
      if (current) write({ method, scope: current, text: format(...args) });
      else original.apply(console, args);
    };
  }
  return () => {
    for (const [method, original] of originals) console[method] = original;
  };
}
