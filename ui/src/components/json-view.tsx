import { formatJson } from "../lib/format.ts";

/** A read-only JSON block, scrollable and capped in height. */
export function JsonView({ value, label }: { value: unknown; label: string }) {
  if (value === undefined) return <p className="muted small">No {label.toLowerCase()}.</p>;
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable regions must be reachable by keyboard
    <pre className="json" data-label={label} tabIndex={0}>
      {formatJson(value)}
    </pre>
  );
}
