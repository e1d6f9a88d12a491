import { formatRelative, formatTime } from "../lib/format.ts";

/** A time shown relative ("5 minutes ago") with the exact time on hover and for machines. */
export function TimeText({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {formatRelative(iso)}
    </time>
  );
}
