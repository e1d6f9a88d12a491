/** A run or step status as a coloured pill; colour is never the only signal (the word is there). */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      <span className="badge-dot" aria-hidden="true" />
      {status}
    </span>
  );
}
