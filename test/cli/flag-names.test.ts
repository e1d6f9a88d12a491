import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./cli.ts";

/** Every non-test TypeScript file under src/. */
function sources(dir = join(root, "src")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The long flags commander knows: `.option("--x …")`, config keys' `flag: "--x …"`, built-ins. */
function definedFlags(files: readonly string[]): Set<string> {
  const defined = new Set(["--help", "--version"]);
  const definition = /(?:\.(?:option|requiredOption)\(\s*|flag:\s*)"(?:-\w, )?(--[a-z][a-z0-9-]*)/g;
  for (const file of files) {
    for (const match of readFileSync(file, "utf8").matchAll(definition))
      defined.add(match[1] as string);
  }
  return defined;
}

/**
 * `--flags` named in sentences (string literals with a space: messages, help texts), not
 * argument lists handed to other programs (`["--import", "tsx"]`).
 */
function mentionedFlags(files: readonly string[]): { flag: string; where: string }[] {
  const literal = /"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g;
  const found: { flag: string; where: string }[] = [];
  for (const file of files) {
    for (const match of readFileSync(file, "utf8").matchAll(literal)) {
      const text = match[1] ?? match[2] ?? "";
      if (!text.includes(" ")) continue;
      for (const flag of text.matchAll(/(?<![\w-])--[a-z][a-zA-Z0-9-]*/g)) {
        // camelCase belongs to other programs (`tsc --noEmit`); ours are kebab-case.
        if (/[A-Z]/.test(flag[0])) continue;
        found.push({ flag: flag[0], where: relative(root, file) });
      }
    }
  }
  return found;
}

describe("CLI messages", () => {
  it("name only flags that exist", () => {
    const files = sources();
    const defined = definedFlags(files);
    const mentioned = mentionedFlags(files);
    expect(mentioned.length).toBeGreaterThan(20);
    const unknown = mentioned.filter(({ flag }) => !defined.has(flag));
    expect(unknown).toEqual([]);
  });
});
