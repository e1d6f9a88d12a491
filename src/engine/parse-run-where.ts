import { CairnError } from "../core/errors.ts";
import { maxNameLength, textProblem } from "../core/names.ts";
import type { RunWhere } from "../store/store.ts";

/** Conditions one search may combine, and segments one path may have. */
const maxConditions = 8;
const maxSegments = 16;
const keyPattern = /^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$/;
const indexPattern = /^(0|[1-9][0-9]{0,5})$/;

/**
 * Parses `input.customer.id:c-17` (or `output.…`): a path into the run's input or output,
 * then `:` and the value. Segments are object keys (letters, digits, `_`, `$`, `-`; not
 * starting with a digit) or array indexes (digits).
 * @throws CairnError `INVALID_ARGUMENT` naming what is wrong in which condition.
 */
export function parseRunWhere(text: string): RunWhere {
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  const fail = (why: string): never => {
    throw new CairnError(
      "INVALID_ARGUMENT",
      `where ${shown}: ${why}. Write a path into the run's input or output, then ':' and the value, e.g. input.customer.id:c-17.`,
    );
  };
  if (typeof text !== "string") fail("must be text");
  const at = text.indexOf(":");
  if (at < 0) fail("has no ':' between the path and the value");
  const [source, ...path] = text.slice(0, at).split(".");
  const value = text.slice(at + 1);
  if (source !== "input" && source !== "output") {
    fail(`the path must start with "input" or "output", not ${JSON.stringify(source)}`);
  }
  if (path.length > maxSegments) fail(`the path has over ${maxSegments} segments`);
  const segments = path.map((segment) => {
    if (indexPattern.test(segment)) return Number(segment);
    if (!keyPattern.test(segment)) {
      fail(
        segment === ""
          ? "the path has an empty segment"
          : `path segment ${JSON.stringify(segment)} is neither a key (letters, digits, _, $, -) nor an array index`,
      );
    }
    return segment;
  });
  if (value.length > maxNameLength) fail(`the value is over ${maxNameLength} characters long`);
  const problem = textProblem(value);
  if (problem) fail(`the value ${problem}`);
  return { source: source as RunWhere["source"], path: segments, value };
}

/** Parses every condition of a search. @throws CairnError `INVALID_ARGUMENT` */
export function parseRunWheres(texts: readonly string[]): RunWhere[] {
  if (texts.length > maxConditions) {
    throw new CairnError(
      "INVALID_ARGUMENT",
      `A search takes at most ${maxConditions} where conditions, got ${texts.length}.`,
    );
  }
  return texts.map(parseRunWhere);
}
