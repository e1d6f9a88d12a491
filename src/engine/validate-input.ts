import { CairnError } from "../core/errors.ts";
import type { Workflow } from "../core/workflow.ts";

/**
 * Checks `input` against the workflow's Standard Schema (zod, valibot, arktype…) and
 * returns the parsed value. Errors name each failing path: `at items.0.qty: Expected number`.
 */
export async function validateInput(
  workflow: Workflow<unknown, unknown>,
  input: unknown,
): Promise<unknown> {
  const schema = workflow.options.input;
  if (!schema) return input;
  const result = await schema["~standard"].validate(input);
  if (!result.issues) return result.value;
  const problems = result.issues.map((issue) => {
    const path = (issue.path ?? [])
      .map((segment) => (typeof segment === "object" ? String(segment.key) : String(segment)))
      .join(".");
    return path ? `at ${path}: ${issue.message}` : issue.message;
  });
  throw new CairnError(
    "INVALID_INPUT",
    `Invalid input for workflow "${workflow.name}": ${problems.join("; ")}`,
  );
}
