import { type StepKind, stepKinds } from "../../../src/core/flow/flow-schema.ts";

/**
 * The flow document as the editor sees it. The server's schema is the authority; these
 * types only name the keys the editor reads and writes, and let everything else pass through.
 */

// The kinds and languages come from the engine's own flow schema (already in the editor's
// bundle through the validator), so a kind added there shows in the palette at once.
export {
  type ScriptLanguage as ScriptLang,
  type StepKind,
  scriptLanguages as scriptLangs,
  stepKinds,
} from "../../../src/core/flow/flow-schema.ts";

export interface BranchCase {
  if?: string;
  else?: boolean;
  steps: FlowStep[];
  [key: string]: unknown;
}

export interface FlowStep {
  id: string;
  needs?: string[];
  if?: string;
  with?: Record<string, unknown>;
  script?: { lang: string; source?: string; file?: string; [key: string]: unknown };
  forEach?: { items: string; parallelism?: number; steps: FlowStep[]; [key: string]: unknown };
  branch?: BranchCase[];
  [key: string]: unknown;
}

export interface FlowDocument {
  name: string;
  steps: FlowStep[];
  [key: string]: unknown;
}

/** The kind keys present on a step, in kind order (a valid step has exactly one). */
export function stepKindsOf(step: Record<string, unknown>): StepKind[] {
  return stepKinds.filter((kind) => step[kind] !== undefined);
}

/** The step's kind, or `undefined` when it has none; the first one when it has several. */
export function stepKindOf(step: Record<string, unknown>): StepKind | undefined {
  return stepKindsOf(step)[0];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A starting body for a new step of each kind: a working example to change (groups are
 * valid once a step is dropped into them).
 */
export function newStepBody(kind: StepKind): Record<string, unknown> {
  switch (kind) {
    case "script":
      return { script: { lang: "python", source: "def main():\n    return {}\n" } };
    case "action":
      return { action: "my-action" };
    case "http":
      return { http: { method: "GET", url: "https://example.com/" } };
    case "workflow":
      return { workflow: "child-workflow" };
    case "sleep":
      return { sleep: "1s" };
    case "approval":
      return { approval: { event: "approved", timeout: "1d" } };
    case "waitForEvent":
      return { waitForEvent: { event: "something.happened", timeout: "1h" } };
    case "branch":
      return {
        branch: [
          { if: "=true", steps: [] },
          { else: true, steps: [] },
        ],
      };
    case "forEach":
      return { forEach: { items: "=[1, 2, 3]", steps: [] } };
  }
}
