import type { RunStatus } from "../core/types.ts";
import type { JournalEntry } from "../store/store.ts";
import { stepHead, storedPayload } from "./wire-ui.ts";

/**
 * A stored output as the wire's `,"output":…` members, ready to splice into a step's JSON.
 * The stored text is superjson's `{"json":…}` plus `"meta"` only when the value needs it;
 * without meta its `json` member already is the wire value, so it is copied as text instead
 * of being parsed and stringified again. Anything else takes the parsing path.
 */
function outputMembers(text: string | null): string {
  if (text === null) return "";
  if (text.startsWith('{"json":') && text.endsWith("}") && !text.includes('"meta"')) {
    return `,"output":${text.slice(8, -1)}`;
  }
  let members = "";
  for (const [name, value] of Object.entries(storedPayload(text, "output"))) {
    members += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
  }
  return members;
}

/**
 * A journal as the JSON text of its wire steps: what `GET /runs/{id}` and `/steps` send for a
 * run of thousands of steps without building, then serializing, a second copy of each output.
 */
export function stepsJson(journal: readonly JournalEntry[], runStatus: RunStatus): string {
  const parts = new Array<string>(journal.length);
  for (let i = 0; i < journal.length; i++) {
    const entry = journal[i] as JournalEntry;
    const head = JSON.stringify(stepHead(entry, runStatus));
    const output = outputMembers(entry.output);
    parts[i] = output === "" ? head : `${head.slice(0, -1)}${output}}`;
  }
  return `[${parts.join(",")}]`;
}

/** `object`'s JSON with a member whose value is already JSON text, appended last. */
export function withRawMember(object: object, name: string, json: string): string {
  const text = JSON.stringify(object);
  const open = text.length > 2 ? "," : "";
  return `${text.slice(0, -1)}${open}${JSON.stringify(name)}:${json}}`;
}
