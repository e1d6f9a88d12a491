import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseFlowText } from "../core/flow/validate-flow.ts";
import { UsageError } from "./errors.ts";

const flowFile = /\.flow\.(ya?ml|json)$/;

/** Every `*.flow.yaml|yml|json` under a folder (recursively; node_modules and dot folders skipped). */
export function findFlowFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (flowFile.test(name)) out.push(path);
    }
  };
  if (statSync(folder).isDirectory()) walk(folder);
  return out;
}

/** A flow file read for deploying over HTTP: its text and the script files it names. */
export function readFlowFile(file: string): { source: string; files: Record<string, string> } {
  let source: string;
  try {
    source = readFileSync(resolve(file), "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  const files: Record<string, string> = {};
  const parsed = parseFlowText(source);
  if (parsed.ok) {
    const visit = (value: unknown) => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === "object") {
        const script = (value as { script?: { file?: unknown } }).script;
        if (typeof script?.file === "string") {
          try {
            files[script.file] = readFileSync(resolve(dirname(file), script.file), "utf8");
          } catch {
            // Reported by validation as a missing file.
          }
        }
        Object.values(value).forEach(visit);
      }
    };
    visit(parsed.value);
  }
  return { source, files };
}

export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}
