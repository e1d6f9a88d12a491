import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The architecture as a test: which folder of src/ may import which, no import circle
 * between files, no file over 500 lines (docs/architecture.md explains each arrow).
 */
const src = resolve(import.meta.dirname, "../src");

/** Each folder and the folders it may import (besides itself). */
const allowed: Record<string, readonly string[]> = {
  core: [],
  store: ["core"],
  "store-sqlite": ["store", "core"],
  "store-postgres": ["store", "core"],
  worker: ["store", "core"],
  engine: ["worker", "store-sqlite", "store-postgres", "store", "core"],
  // The façade re-exports the remote client as `Cairn.connect`; the client needs only core.
  sdk: ["engine", "client", "worker", "store", "core"],
  client: ["core"],
  server: ["sdk", "engine", "store", "core"],
  testing: ["sdk", "engine", "store", "core"],
  cli: ["sdk", "server", "client", "engine", "store", "core"],
  ".": ["sdk", "core", "store", "worker", "engine"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Relative imports and re-exports of a file, static or dynamic, resolved to paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/g),
    ...text.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g),
  ].map((m) => m[1] as string);
  return specifiers.map((s) => resolve(dirname(file), s));
}

const folderOf = (file: string) => {
  const parts = relative(src, file).split("/");
  return parts.length === 1 ? "." : (parts[0] as string);
};

const files = sourceFiles(src);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe("layering", () => {
  it("every import points down the layers", () => {
    const wrong: string[] = [];
    for (const [file, imports] of graph) {
      const from = folderOf(file);
      for (const target of imports) {
        const to = folderOf(target);
        if (to !== from && !(allowed[from] ?? []).includes(to)) {
          wrong.push(`${relative(src, file)} → ${relative(src, target)} (${from} → ${to})`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("no import circle between files", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, "open");
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === "open") {
          const loop = stack.slice(stack.indexOf(next)).map((f) => relative(src, f));
          cycles.push([...loop, relative(src, next)].join(" → "));
        } else if (!state.has(next) && graph.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it("every folder of src/ is placed in the layers", () => {
    expect(files.map(folderOf).filter((f) => !(f in allowed))).toEqual([]);
  });

  it("no file in src/ is over 500 lines", () => {
    const long = files
      .map((f) => ({
        file: relative(src, f),
        lines: readFileSync(f, "utf8").split("\n").length - 1,
      }))
      .filter((f) => f.lines > 500);
    expect(long).toEqual([]);
  });
});
