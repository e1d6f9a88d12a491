import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { ScriptLanguage } from "../../core/flow/flow-schema.ts";

/** Interpreter executables by language; unset ones are looked up on PATH. */
export type InterpreterPaths = Partial<Record<"python" | "bash" | "node", string>>;

const resolved = new Map<string, string | null>();

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/**
 * The executable that runs a language, or null when none is found. Python is asked for its
 * real `sys.executable`: shims (pyenv, asdf) need environment variables a clean script
 * environment does not carry.
 */
export function interpreterFor(lang: ScriptLanguage, paths: InterpreterPaths = {}): string | null {
  const which = lang === "python" ? "python" : lang === "bash" ? "bash" : "node";
  const configured = paths[which] ?? process.env[`CAIRN_${which.toUpperCase()}`];
  const key = `${which}:${configured ?? ""}`;
  if (resolved.has(key)) return resolved.get(key) ?? null;
  let found: string | null;
  if (which === "node") found = configured ?? process.execPath;
  else if (which === "bash") found = configured ?? onPath("bash");
  else {
    const candidate = configured ?? onPath("python3") ?? onPath("python");
    found = null;
    if (candidate) {
      try {
        found = execFileSync(candidate, ["-c", "import sys; print(sys.executable)"], {
          encoding: "utf8",
          timeout: 10_000,
        }).trim();
      } catch {
        found = null;
      }
    }
  }
  resolved.set(key, found);
  return found;
}
