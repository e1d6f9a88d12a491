import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { RunId } from "../../core/types.ts";
import type { RunFilter } from "../../store/store.ts";
import { apiRoute } from "../api-route.ts";
import { decodeCursor, encodeCursor } from "../cursor.ts";
import { toRunFilter } from "../run-selection.ts";
import {
  ListRunsQuery,
  parseTimestamp,
  ReplayReport,
  Run,
  RunIdParam,
  RunPage,
  RunResult,
  RunResultQuery,
  StepList,
} from "../schemas.ts";
import { stepsJson, withRawMember } from "../step-json.ts";
import { toRunSummary } from "../wire.ts";
import { loadRunDetail, loadRunJournal, toRunResultWire } from "../wire-ui.ts";

/**
 * A 200 whose body is JSON text built by step-json.ts: the same document `c.json` would send
 * for the route's schema, typed as such because the text is built to match it.
 */
function jsonText(c: Context, text: string) {
  return c.body(text, 200, { "Content-Type": "application/json" }) as never;
}

export const listRuns = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/runs",
    tags: ["runs"],
    summary: "List runs",
    description:
      "Runs, newest first, filtered by workflow, status, creation time (`createdAfter` inclusive, `createdBefore` exclusive), tags (`tag=key:value`, repeatable) and values in the input or output (`where=input.customer.id:c-17`, repeatable). Keyset pagination: pass `nextCursor` back as `cursor` for the next page; it is null on the last page.",
    request: { query: ListRunsQuery },
    responses: {
      200: { description: "A page of runs", content: { "application/json": { schema: RunPage } } },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const query = c.req.valid("query");
      const limit = query.limit ?? 50;
      const filter: RunFilter = { limit: limit + 1 };
      if (query.workflow !== undefined) filter.workflow = query.workflow;
      if (query.status !== undefined) filter.status = query.status;
      if (query.createdAfter !== undefined)
        filter.createdAfter = parseTimestamp(query.createdAfter);
      if (query.createdBefore !== undefined)
        filter.createdBefore = parseTimestamp(query.createdBefore);
      if (query.cursor !== undefined) filter.before = decodeCursor(query.cursor);
      Object.assign(filter, toRunFilter({ ...query, workflow: undefined, status: undefined }));
      // One row more than the page tells whether another page exists without a count query.
      const where = query.where === undefined ? [] : [query.where].flat();
      const search = where.length > 0 ? await cairn.searchRuns({ ...filter, where }) : undefined;
      const rows = search ? search.runs : await cairn.listRuns(filter);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      // A search that stopped at its scan limit goes on from where it stopped.
      const edge = rows.length > limit && last ? last : (search?.scannedTo ?? null);
      const nextCursor = edge ? encodeCursor({ createdAt: edge.createdAt, id: edge.id }) : null;
      return c.json({ runs: page.map(toRunSummary), nextCursor }, 200);
    },
});

export const getRun = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/runs/{id}",
    tags: ["runs"],
    summary: "Get a run",
    description: "The run's status, input, steps with timings, and output or error.",
    request: { params: RunIdParam },
    responses: {
      200: { description: "The run", content: { "application/json": { schema: Run } } },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      const { head, journal, status } = await loadRunDetail(cairn, id);
      return jsonText(c, withRawMember(head, "steps", stepsJson(journal, status)));
    },
});

export const getRunResult = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/runs/{id}/result",
    tags: ["runs"],
    summary: "Wait for a run's result",
    description:
      "Waits up to `waitMs` for the run to end (for a run that continued as new, the last run of its chain) and answers with its output or error as soon as it does, or with the status it is in when the wait ends first: ask again. The server hears ends from any process at their commit, so the answer follows the end by a few milliseconds.",
    request: { params: RunIdParam, query: RunResultQuery },
    responses: {
      200: {
        description: "The run's result, or its status",
        content: { "application/json": { schema: RunResult } },
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      const waitMs = c.req.valid("query").waitMs ?? 30_000;
      const end = await cairn.runEnd(id as RunId, performance.now() + waitMs, c.req.raw.signal);
      return c.json(toRunResultWire(end), 200);
    },
});

export const getRunSteps = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/runs/{id}/steps",
    tags: ["runs"],
    summary: "List a run's steps",
    description: "Every journal position of the run in order: steps, sleeps, waits and child runs.",
    request: { params: RunIdParam },
    responses: {
      200: { description: "The steps", content: { "application/json": { schema: StepList } } },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      const { runId, journal, status } = await loadRunJournal(cairn, id);
      return jsonText(c, withRawMember({ runId }, "steps", stepsJson(journal, status)));
    },
});

export const replayRun = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "post",
    path: "/api/v1/runs/{id}/replay",
    tags: ["runs"],
    summary: "Check a run's history against the server's code",
    description:
      "Replays the recorded run against the workflow code registered in this server, without side effects: nothing is executed or written. 404 when the server has no code for the run's workflow.",
    request: { params: RunIdParam },
    responses: {
      200: {
        description: "What the replay found",
        content: { "application/json": { schema: ReplayReport } },
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      const report = await cairn.replay(id);
      return c.json(
        {
          runId: report.runId,
          workflow: report.workflow,
          result: report.result,
          replayedPositions: report.replayedPositions,
          ...(report.next ? { next: report.next } : {}),
          ...(report.finished ? { finished: report.finished } : {}),
          ...(report.divergence ? { divergence: report.divergence } : {}),
        },
        200,
      );
    },
});
