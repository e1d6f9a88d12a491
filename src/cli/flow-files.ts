import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { parseFlowText } from "../core/flow/validate-flow.ts";
import { UsageError } from "./errors.ts";

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
