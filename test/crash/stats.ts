/** Small figures helpers for the crash tests' printed summaries. */

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? null;
}

export function summary(values: readonly number[]) {
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    max: round(percentile(values, 100)),
  };
}

/** Collects violations, keeping the first few in full and counting the rest. */
export class Violations {
  readonly list: string[] = [];
  count = 0;

  add(message: string): void {
    this.count++;
    if (this.list.length < 40) this.list.push(message);
  }

  report(): string {
    if (this.count === 0) return "no violations";
    const more =
      this.count > this.list.length ? `\n… and ${this.count - this.list.length} more` : "";
    return `${this.count} violation(s):\n- ${this.list.join("\n- ")}${more}`;
  }
}
