import jsonata from "jsonata";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api } from "../api/client.ts";
import { useEventStream } from "../live/use-event-stream.ts";
import { isRecord } from "./flow-document.ts";
import type { FlowGraph } from "./flow-graph.ts";
import { type NodeRunState, nodeStates, type StepRecord } from "./run-states.ts";

interface RunRead {
  id: string;
  status: string;
  input?: unknown;
  output?: unknown;
  error?: { message: string } | null;
  steps?: { key: string; status: string; attempt: number; output?: unknown }[];
}

const finished = new Set(["completed", "failed", "cancelled"]);

/**
 * Each node's state in a run, kept live: the run's steps are read once, then every `step`
 * update of the event stream moves its node; the run is read again when it ends or the
 * stream reconnects (so nothing missed while away stays missed).
 */
export function useRunStates(
  runId: string | null,
  graph: FlowGraph | null,
): { states: Map<string, NodeRunState>; run: RunRead | null; records: Map<string, StepRecord> } {
  const [run, setRun] = useState<RunRead | null>(null);
  const [records, setRecords] = useState<Map<string, StepRecord>>(new Map());
  const [totals, setTotals] = useState<Map<string, number>>(new Map());

  const reload = useCallback(() => {
    if (runId === null) return;
    void api<RunRead>(`/api/v1/runs/${encodeURIComponent(runId)}`).then((read) => {
      setRun(read);
      setRecords((live) => {
        const next = new Map<string, StepRecord>();
        for (const step of read.steps ?? []) next.set(step.key, step);
        // Attempts seen live that the journal has no entry for yet (running) stay.
        for (const [key, record] of live) if (!next.has(key)) next.set(key, record);
        return next;
      });
    });
  }, [runId]);

  useEffect(() => {
    setRun(null);
    setRecords(new Map());
    reload();
  }, [reload]);

  useEventStream(
    runId === null ? null : `/api/v1/stream?run=${encodeURIComponent(runId)}`,
    (update) => {
      const data = update.data;
      if (data.runId !== runId) return;
      if (update.type === "step" && typeof data.key === "string") {
        const record: StepRecord = {
          key: data.key,
          status: String(data.status),
          attempt: Number(data.attempt ?? 1),
        };
        setRecords((current) =>
          new Map(current).set(record.key, { ...current.get(record.key), ...record }),
        );
        // Outputs come with the run read; a finished step's output decides "skipped".
        if (record.status === "completed") reload();
      }
      if (update.type === "run") {
        setRun((current) => (current ? { ...current, status: String(data.status) } : current));
        if (finished.has(String(data.status))) reload();
      }
    },
    reload,
  );

  // A forEach's total is the length of its items, evaluated like the engine does.
  useEffect(() => {
    if (!graph || !run) return;
    let cancelled = false;
    const steps: Record<string, unknown> = {};
    for (const [key, record] of records)
      if (record.output !== undefined) steps[key] = record.output;
    const data = { input: run.input, steps, run: { id: run.id } };
    void (async () => {
      const next = new Map<string, number>();
      for (const node of graph.nodes) {
        if (node.kind !== "forEach" || node.parentId !== undefined) continue;
        const items = isRecord(node.data.forEach) ? node.data.forEach.items : undefined;
        try {
          const value =
            typeof items === "string" && items.startsWith("=")
              ? await jsonata(items.slice(1)).evaluate(data)
              : items;
          if (Array.isArray(value)) next.set(node.id, value.length);
        } catch {
          // Not evaluable here (yet): the count shows as unknown.
        }
      }
      if (!cancelled) setTotals(next);
    })();
    return () => {
      cancelled = true;
    };
  }, [graph, run, records]);

  const states = useMemo(
    () =>
      graph
        ? nodeStates(graph, records.values(), run !== null && finished.has(run.status), totals)
        : new Map<string, NodeRunState>(),
    [graph, records, run, totals],
  );
  return { states, run, records };
}
