import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api } from "../api/client.ts";
import type { Schedule } from "../api/types.ts";
import { Dialog } from "../components/dialog.tsx";
import { ErrorState } from "../components/states.tsx";
import { formatTime, fromLocalInput, toLocalInput } from "../lib/format.ts";
import { backfillSlots } from "./backfill-slots.ts";

/** Backfill a range: the slots it covers are listed before anything is created. */
export function BackfillDialog({ schedule, onClose }: { schedule: Schedule; onClose: () => void }) {
  const client = useQueryClient();
  const [from, setFrom] = useState(() =>
    toLocalInput(new Date(Date.now() - 86_400_000).toISOString()),
  );
  const [to, setTo] = useState(() => toLocalInput(new Date().toISOString()));
  const [result, setResult] = useState<{ slots: number; created: string[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const fromIso = fromLocalInput(from);
  const toIso = fromLocalInput(to);
  const preview = useMemo(() => {
    if (!fromIso || !toIso) return { error: "Choose both ends of the range." } as const;
    if (fromIso >= toIso) return { error: "The range must end after it starts." } as const;
    try {
      return backfillSlots(schedule.cron, schedule.tz, new Date(fromIso), new Date(toIso));
    } catch (e) {
      return { error: (e as Error).message } as const;
    }
  }, [fromIso, toIso, schedule]);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(
        await api(`/api/v1/schedules/${encodeURIComponent(schedule.id)}/backfill`, {
          method: "POST",
          body: { from: fromIso, to: toIso },
        }),
      );
      void client.invalidateQueries({ queryKey: ["runs"] });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const count = "total" in preview ? preview.total : 0;
  return (
    <Dialog
      title={`Backfill ${schedule.id}`}
      onClose={onClose}
      footer={
        result ? (
          <button type="button" className="btn btn-primary" onClick={onClose}>
            Done
          </button>
        ) : (
          <>
            <button type="button" className="btn btn-ghost" onClick={onClose}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-primary"
              disabled={busy || count === 0}
              onClick={() => void create()}
            >
              {busy ? "Creating…" : `Create ${count} run${count === 1 ? "" : "s"}`}
            </button>
          </>
        )
      }
    >
      <p className="small muted">
        <code>{schedule.cron}</code> in {schedule.tz}. One run per slot in [from, to); slots that
        already have a run are left alone.
      </p>
      <div className="row">
        <label className="field">
          <span className="field-label">From (your time)</span>
          <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">To (your time)</span>
          <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
      </div>
      {"error" in preview ? (
        <p className="field-error" role="alert">
          {preview.error}
        </p>
      ) : (
        <div data-testid="backfill-preview">
          <p>
            <strong>{preview.total}</strong> slot{preview.total === 1 ? "" : "s"} in range
            {preview.capped ? " (stopped counting)" : ""}
            {preview.total > preview.slots.length ? `; the first ${preview.slots.length}:` : ":"}
          </p>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable regions must be reachable by keyboard */}
          <ol className="slots" tabIndex={0} aria-label="Slots">
            {preview.slots.map((slot) => (
              <li key={slot.getTime()}>{formatTime(slot.toISOString(), schedule.tz)}</li>
            ))}
          </ol>
        </div>
      )}
      {result ? (
        <p className="alert alert-ok" role="status">
          {result.created.length} run{result.created.length === 1 ? "" : "s"} created for{" "}
          {result.slots} slot{result.slots === 1 ? "" : "s"}.
        </p>
      ) : null}
      {error ? <ErrorState error={error} /> : null}
    </Dialog>
  );
}
