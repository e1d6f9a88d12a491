import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { isMissingRoute } from "../api/client.ts";
import { bulkAction } from "../api/queries.ts";
import type { BulkResult, RunFilter } from "../api/types.ts";
import { Dialog } from "../components/dialog.tsx";
import { ErrorState, Loading } from "../components/states.tsx";

/** Cancel or retry every run a filter matches: a dry-run count first, then a confirmation. */
export function BulkDialog({
  action,
  filter,
  onClose,
}: {
  action: "cancel" | "retry";
  filter: RunFilter;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const preview = useQuery({
    queryKey: ["bulk-preview", action, filter],
    queryFn: () => bulkAction({ action, filter, dryRun: true }),
    retry: false,
    staleTime: 0,
    gcTime: 0,
  });
  const [result, setResult] = useState<BulkResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const verb = action === "cancel" ? "Cancel" : "Retry";
  const conditions = Object.entries(filter).map(([k, v]) => `${k} = ${v}`);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await bulkAction({ action, filter }));
      await client.invalidateQueries({ queryKey: ["runs"] });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const wouldAffect = preview.data?.ids.length ?? 0;
  return (
    <Dialog
      title={`${verb} all matching runs`}
      onClose={onClose}
      footer={
        result ? (
          <button type="button" className="btn btn-primary" onClick={onClose}>
            Done
          </button>
        ) : (
          <>
            <button type="button" className="btn btn-ghost" onClick={onClose}>
              Keep them
            </button>
            <button
              type="button"
              className={action === "cancel" ? "btn btn-danger" : "btn btn-primary"}
              disabled={!preview.data || wouldAffect === 0 || busy}
              onClick={() => void confirm()}
            >
              {busy ? "Working…" : `${verb} ${wouldAffect} run${wouldAffect === 1 ? "" : "s"}`}
            </button>
          </>
        )
      }
    >
      <p>
        Filter:{" "}
        {conditions.length === 0 ? (
          <strong>all runs</strong>
        ) : (
          conditions.map((c) => (
            <code key={c} className="chip">
              {c}
            </code>
          ))
        )}
      </p>
      {preview.isPending ? <Loading what="the dry run" /> : null}
      {preview.isError ? (
        <ErrorState
          error={
            isMissingRoute(preview.error)
              ? new Error("This server has no bulk endpoint (POST /api/v1/runs/bulk); upgrade it.")
              : preview.error
          }
        />
      ) : null}
      {preview.data && !result ? (
        <p className="bulk-count" data-testid="bulk-preview">
          Dry run: <strong>{preview.data.matched}</strong> run
          {preview.data.matched === 1 ? "" : "s"} match, <strong>{wouldAffect}</strong> would be{" "}
          {action === "cancel" ? "cancelled" : "retried"}
          {preview.data.matched > wouldAffect
            ? " (the others are in a state that does not allow it)"
            : ""}
          .
        </p>
      ) : null}
      {result ? (
        <p className="alert alert-ok" role="status">
          {action === "cancel" ? "Cancelled" : "Retried"} {result.affected} of {result.matched}{" "}
          matching runs.
        </p>
      ) : null}
      {error ? <ErrorState error={error} /> : null}
    </Dialog>
  );
}
