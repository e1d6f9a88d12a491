/**
 * Process warnings seen during the bench, by kind. The engine can emit the same warning
 * thousands of times in a loop (e.g. MaxListenersExceededWarning once per fan-out run);
 * printing each copy would bury the results, hiding them would hide a bug. So the first
 * copy of each distinct warning prints as usual and the rest are only counted, then the
 * report lists them all.
 */
const seen = new Map<string, number>();
let installed = false;

export function dedupeWarnings(): void {
  if (installed) return;
  installed = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const name =
      typeof warning === "string"
        ? typeof rest[0] === "string"
          ? rest[0]
          : ((rest[0] as { type?: string } | undefined)?.type ?? "Warning")
        : warning.name;
    const text = typeof warning === "string" ? warning : warning.message;
    const key = `${name}: ${text}`;
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    if (count === 1) emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

/** Each distinct warning with how many times it was emitted. */
export function warningCounts(): { warning: string; count: number }[] {
  return [...seen].map(([warning, count]) => ({ warning, count }));
}
