import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { CairnError } from "../../core/errors.ts";
import type { FlowDocument, FlowStep, ScriptLanguage } from "../../core/flow/flow-schema.ts";
import { validateFlowText } from "../../core/flow/validate-flow.ts";
import { documentHash } from "./compiled-flow.ts";

/** A flow whose document failed validation; `errors` lists every problem with its path. */
export class FlowInvalidError extends CairnError {
  override name = "FlowInvalidError";
  readonly errors: string[];
  constructor(errors: string[]) {
    super("FLOW_INVALID", `Invalid flow:\n  ${errors.join("\n  ")}`);
    this.errors = errors;
  }
}

/**
 * Validates a flow's text and makes it self-contained: each `script.file` is read (relative
 * to `baseDir`) into `script.source`, so the stored version runs on any worker and a changed
 * script file is a new version.
 * @throws FlowInvalidError
 */
export async function prepareFlow(
  text: string,
  options: {
    baseDir?: string;
    /** Script files sent along (deploys over HTTP), by the path `script.file` gives. */
    files?: Record<string, string>;
    interpreterAvailable?: (lang: ScriptLanguage) => boolean;
  },
): Promise<{ document: FlowDocument; format: "yaml" | "json"; hash: string }> {
  const where = (file: string) =>
    isAbsolute(file) ? file : options.baseDir ? resolve(options.baseDir, file) : undefined;
  const result = validateFlowText(text, {
    fileExists: (file) => {
      if (options.files && Object.hasOwn(options.files, file)) return true;
      const path = where(file);
      return path !== undefined && existsSync(path);
    },
    interpreterAvailable: options.interpreterAvailable,
  });
  if (!result.ok) throw new FlowInvalidError(result.errors);
  const inline = async (steps: FlowStep[]): Promise<FlowStep[]> =>
    Promise.all(
      steps.map(async (step) => {
        const out: FlowStep = { ...step };
        if (step.script?.file !== undefined) {
          const { file, ...script } = step.script;
          const sent =
            options.files && Object.hasOwn(options.files, file) ? options.files[file] : undefined;
          out.script = {
            ...script,
            source: sent ?? (await readFile(where(file) as string, "utf8")),
          };
        }
        if (step.forEach)
          out.forEach = { ...step.forEach, steps: await inline(step.forEach.steps) };
        if (step.branch) {
          out.branch = await Promise.all(
            step.branch.map(async (b) => ({ ...b, steps: await inline(b.steps) })),
          );
        }
        return out;
      }),
    );
  const document = { ...result.document, steps: await inline(result.document.steps) };
  return { document, format: result.format, hash: documentHash(document) };
}
