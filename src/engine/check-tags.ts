import { CairnError } from "../core/errors.ts";

/** A run's tags as given to `start`: non-empty keys without ':' (the filter's separator), string values. */
export function checkTags(tags: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(tags)) {
    if (key === "" || key.includes(":") || typeof value !== "string") {
      throw new CairnError(
        "INVALID_ARGUMENT",
        `Tag "${key}" must have a non-empty key without ':' and a string value.`,
      );
    }
  }
  return tags;
}
