/**
 * Undo/redo over whole document texts. The YAML text is the editor's single source of truth,
 * so one history covers graph gestures, panel edits and typing alike. Typing bursts of the
 * same origin within `coalesceMs` become one entry.
 */
export interface TextHistory {
  past: string[];
  present: string;
  future: string[];
  lastOrigin?: string;
  lastAt?: number;
}

export const coalesceMs = 800;
const limit = 200;

export function startHistory(text: string): TextHistory {
  return { past: [], present: text, future: [] };
}

export function pushText(h: TextHistory, text: string, origin: string, now: number): TextHistory {
  if (text === h.present) return h;
  const coalesce =
    origin !== "graph" &&
    origin === h.lastOrigin &&
    h.lastAt !== undefined &&
    now - h.lastAt < coalesceMs;
  const past = coalesce ? h.past : [...h.past, h.present].slice(-limit);
  return { past, present: text, future: [], lastOrigin: origin, lastAt: now };
}

export function undo(h: TextHistory): TextHistory {
  const previous = h.past.at(-1);
  if (previous === undefined) return h;
  return { past: h.past.slice(0, -1), present: previous, future: [h.present, ...h.future] };
}

export function redo(h: TextHistory): TextHistory {
  const next = h.future[0];
  if (next === undefined) return h;
  return { past: [...h.past, h.present], present: next, future: h.future.slice(1) };
}
