import { CairnError } from "./errors.ts";
import { checkName, InvalidNameError, maxNameLength, textProblem } from "./names.ts";

/**
 * A run's tags as given to `start`: keys are names (see core/names.ts) without ':' (the
 * filter's separator); values are strings of at most 256 characters, possibly empty, with
 * no control characters or unpaired surrogates.
 */
export function checkTags(tags: Record<string, string>): Record<string, string> {
  if (tags === null || typeof tags !== "object" || Array.isArray(tags)) {
    throw new CairnError("INVALID_ARGUMENT", "Tags must be an object of string values.");
  }
  for (const [key, value] of Object.entries(tags)) {
    checkName("tag key", key);
    if (key.includes(":")) {
      throw new InvalidNameError(
        `tag key ${JSON.stringify(key)} contains ':' (the filter's separator).`,
      );
    }
    if (typeof value !== "string") {
      throw new InvalidNameError(`tag "${key}" must have a string value, got ${typeof value}.`);
    }
    if (value.length > maxNameLength) {
      throw new InvalidNameError(
        `tag value of "${key}" is ${value.length} characters long, over the limit of ${maxNameLength}.`,
      );
    }
    const problem = textProblem(value);
    if (problem)
      throw new InvalidNameError(`tag value ${JSON.stringify(value)} of "${key}" ${problem}.`);
  }
  return tags;
}
