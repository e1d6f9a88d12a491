import { CairnError } from "./errors.ts";

/**
 * Names and ids become keys in SQL text columns, URLs and logs. Both stores must accept
 * every one we let through: PostgreSQL text cannot hold NUL, and an unpaired surrogate has
 * no UTF-8 form (SQLite would silently store U+FFFD instead). Checking once, here, keeps
 * SQLite and PostgreSQL giving the same answer to the same name.
 */
export const maxNameLength = 256;

/** A name or id that is not a 1–256 character string without control characters. */
export class InvalidNameError extends CairnError {
  override name = "InvalidNameError";
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
  }
}

/**
 * What is wrong with `value` as a name (`contains a control character (U+0000) at index 1`),
 * or undefined when nothing is. Control characters are U+0000–U+001F and U+007F.
 */
export function nameProblem(value: unknown, maxLength = maxNameLength): string | undefined {
  if (typeof value !== "string") return `must be a string, got ${describeType(value)}`;
  if (value.length === 0) return "must not be empty";
  if (value.length > maxLength) {
    return `is ${value.length} characters long, over the limit of ${maxLength}`;
  }
  return textProblem(value);
}

/** A control character or unpaired surrogate in `text`, named with its index; else undefined. */
export function textProblem(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit <= 0x1f || unit === 0x7f) {
      return `contains a control character (${codePoint(unit)}) at index ${i}`;
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `contains an unpaired surrogate (${codePoint(unit)}) at index ${i}`;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      return `contains an unpaired surrogate (${codePoint(unit)}) at index ${i}`;
    }
  }
  return undefined;
}

/**
 * Returns `value` if it is a valid name, else throws an {@link InvalidNameError} that says
 * which name (`what`, e.g. `step name`) and what is wrong with it.
 * @example checkName("step name", "a\u0000b") // throws: step name "a\u0000b" contains a control character (U+0000) at index 1
 */
export function checkName(what: string, value: unknown, maxLength = maxNameLength): string {
  const problem = nameProblem(value, maxLength);
  if (problem === undefined) return value as string;
  throw new InvalidNameError(`${describeName(what, value)} ${problem}.`);
}

/**
 * An id looked up rather than created: of any length (ids Cairn derives, like a child
 * run's `parent/step`, can pass 256 characters) but nothing a store cannot hold.
 */
export function checkLookupId(what: string, value: unknown): string {
  return checkName(what, value, Number.POSITIVE_INFINITY);
}

/** `step name "a\u0000b"`: the name quoted with JSON escapes, so invisible characters show. */
function describeName(what: string, value: unknown): string {
  if (typeof value !== "string") return what;
  const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value;
  // JSON escapes U+0000–U+001F and lone surrogates, but leaves DEL as it is.
  return `${what} ${JSON.stringify(shown).replaceAll("\u007f", "\\u007f")}`;
}

function codePoint(unit: number): string {
  return `U+${unit.toString(16).toUpperCase().padStart(4, "0")}`;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

const nulOrLoneSurrogate =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
  /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Log text as both stores keep it the same: a NUL becomes the six characters `\u0000`
 * (PostgreSQL text cannot hold it) and an unpaired surrogate becomes U+FFFD (what UTF-8
 * makes of it anyway). Other characters, newlines and escapes included, stay as they are.
 */
export function storableText(text: string): string {
  return text.replace(nulOrLoneSurrogate, (found) => (found === "\u0000" ? "\\u0000" : "\ufffd"));
}
