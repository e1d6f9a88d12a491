import { useQuery } from "@tanstack/react-query";
import { api, query, runPath } from "./client.ts";
import type {
  BulkResult,
  EventRecord,
  LogEntry,
  Run,
  RunFilter,
  RunPage,
  Schedule,
  WorkerRecord,
  Workflow,
} from "./types.ts";

/** The list query of the API for a filter (the server's names for each field). */
export function runsQuery(filter: RunFilter, cursor?: string, limit = 50): string {
  return query({
    workflow: filter.workflow,
    status: filter.status,
    from: filter.from,
    to: filter.to,
    tag: filter.tag,
    where: filter.where,
    idPrefix: filter.idPrefix,
    cursor,
    limit,
  });
}

export function useRuns(filter: RunFilter, cursor: string | undefined) {
  return useQuery({
    queryKey: ["runs", filter, cursor ?? null],
    queryFn: ({ signal }) => api<RunPage>(`/api/v1/runs${runsQuery(filter, cursor)}`, { signal }),
    placeholderData: (previous) => previous,
  });
}

export function useRecentRuns(workflow: string, limit = 8) {
  return useQuery({
    queryKey: ["recent-runs", workflow, limit],
    queryFn: ({ signal }) => api<RunPage>(`/api/v1/runs${query({ workflow, limit })}`, { signal }),
  });
}

export function useRun(id: string) {
  return useQuery({
    queryKey: ["run", id],
    queryFn: ({ signal }) => api<Run>(runPath(id), { signal }),
  });
}

export function useWorkflows() {
  return useQuery({
    queryKey: ["workflows"],
    queryFn: ({ signal }) => api<{ workflows: Workflow[] }>("/api/v1/workflows", { signal }),
    select: (data) => data.workflows,
    staleTime: 30_000,
  });
}

export function useSchedules() {
  return useQuery({
    queryKey: ["schedules"],
    queryFn: async ({ signal }) => {
      const { schedules } = await api<{ schedules: Schedule[] }>("/api/v1/schedules", { signal });
      // The list has no fire times; each schedule's own resource does.
      return Promise.all(
        schedules.map((s) =>
          api<Schedule>(`/api/v1/schedules/${encodeURIComponent(s.id)}`, { signal }).catch(() => s),
        ),
      );
    },
  });
}

export function useEvents() {
  return useQuery({
    queryKey: ["events"],
    queryFn: ({ signal }) =>
      api<{ events: EventRecord[]; nextCursor: string | null }>("/api/v1/events?limit=100", {
        signal,
      }),
    refetchInterval: 5_000,
  });
}

export function useWorkers() {
  return useQuery({
    queryKey: ["workers"],
    queryFn: ({ signal }) => api<{ workers: WorkerRecord[] }>("/api/v1/workers", { signal }),
    refetchInterval: 3_000,
  });
}

export function useStepLogs(runId: string, step: string | null) {
  return useQuery({
    queryKey: ["logs", runId, step],
    queryFn: ({ signal }) =>
      api<{ logs: LogEntry[]; nextSeq: number }>(
        `${runPath(runId)}/logs${query({ step: step ?? undefined, limit: 500 })}`,
        { signal },
      ),
    enabled: step !== null,
    retry: false,
  });
}

export function bulkAction(body: {
  action: "cancel" | "retry";
  filter?: RunFilter;
  ids?: string[];
  dryRun?: boolean;
}): Promise<BulkResult> {
  return api<BulkResult>("/api/v1/runs/bulk", { method: "POST", body });
}
