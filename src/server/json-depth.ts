/** Deepest JSON nesting the API accepts. (depth 10,000 → 400 `too_deep`) */
export const maxJsonDepth = 64;

/**
 * True when the JSON text nests arrays/objects deeper than `max`. One pass over the text with
 * a counter, no recursion and no parse, so a 10,000-deep document costs nothing but the
 * scan; it runs before `JSON.parse` and before anything that walks values recursively.
 */
export function jsonTooDeep(text: string, max = maxJsonDepth): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}
