/**
 * Printing helpers: JSON that survives what step outputs may hold (BigInt, Map, Set,
 * Error), aligned tables, and short human durations and times.
 */

/** JSON text for any value a run may hold; BigInt becomes a string, Map an object, Set an array. */
export function toJsonText(value: unknown, indent = 2): string {
  return JSON.stringify(value ?? null, jsonReplacer, indent);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** Prints JSON data on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${toJsonText(value)}\n`);
}

/** Prints a line on stdout. */
export function print(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** Prints a line on stderr: notes and progress, which never mix with data on stdout. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Left-aligned columns separated by two spaces; the header row comes first. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** `850 ms`, `2.4 s`, `3 m 05 s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1_000);
  return `${minutes} m ${String(seconds).padStart(2, "0")} s`;
}

/** A local timestamp to the second: `2026-11-27 22:53:04`. */
export function formatTime(at: Date | string | number | null | undefined): string {
  if (at === null || at === undefined) return "-";
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** A value on one line, cut to `max` characters. */
export function oneLine(value: unknown, max = 200): string {
  const text = typeof value === "string" ? value : toJsonText(value, 0);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
