import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import type { RunPage } from "../api/types.ts";
import { throttle } from "../lib/throttle.ts";
import { type LiveUpdate, useEventStream } from "./use-event-stream.ts";

/**
 * The app-wide stream of run updates: a status change patches every cached run list at
 * once, and the lists are re-read (throttled) so new runs appear and filters stay true.
 */
export function LiveRuns() {
  const client = useQueryClient();
  const refresh = useMemo(() => throttle(() => refreshLists(client), 400), [client]);
  useEventStream(
    "/api/v1/stream",
    (update) => applyUpdate(client, update, refresh),
    () => void client.invalidateQueries(),
  );
  return null;
}

function refreshLists(client: QueryClient): void {
  void client.invalidateQueries({ queryKey: ["runs"] });
  void client.invalidateQueries({ queryKey: ["recent-runs"] });
}

function applyUpdate(client: QueryClient, update: LiveUpdate, refresh: () => void): void {
  const runId = update.data.runId;
  if (typeof runId !== "string") return;
  if (update.type === "run" && typeof update.data.status === "string") {
    const status = update.data.status;
    client.setQueriesData<RunPage>({ queryKey: ["runs"] }, (page) =>
      page
        ? {
            ...page,
            runs: page.runs.map((r) =>
              r.id === runId ? { ...r, status: status as typeof r.status } : r,
            ),
          }
        : page,
    );
    refresh();
  }
}
