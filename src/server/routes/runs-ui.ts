import { createRoute } from "@hono/zod-openapi";
import type { RunId } from "../../core/types.ts";
import { apiRoute } from "../api-route.ts";
import { HttpProblem } from "../problems.ts";
import { toRunFilter } from "../run-selection.ts";
import { Run, RunIdParam } from "../schemas.ts";
import { BulkBody, BulkResult, LogPage, LogQuery, RerunBody } from "../schemas-ui.ts";
import { fromWire } from "../wire.ts";
import { toLogLine } from "../wire-logs.ts";
import { toRunDetail } from "../wire-ui.ts";

export const getRunLogs = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/runs/{id}/logs",
    tags: ["runs"],
    summary: "A run's log lines",
    description:
      "Lines of `ctx.log`, of steps' `log` and of their console output, in `seq` order, optionally of one step (`step` = its key). Page (or follow) with `afterSeq` = the previous `nextSeq`. Live lines also arrive as `event: log` on `/api/v1/stream?run=`.",
    request: { params: RunIdParam, query: LogQuery },
    responses: {
      200: { description: "Log lines", content: { "application/json": { schema: LogPage } } },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      const query = c.req.valid("query");
      if (!(await cairn.store.getRun(id as RunId))) {
        throw new HttpProblem("RUN_NOT_FOUND", `No run with id "${id}".`);
      }
      const afterSeq = query.afterSeq ?? 0;
      const logs = await cairn.store.logs.list(id as RunId, {
        afterSeq,
        limit: query.limit ?? 500,
        ...(query.step === undefined ? {} : { stepKey: query.step }),
      });
      return c.json({ logs: logs.map(toLogLine), nextSeq: logs.at(-1)?.seq ?? afterSeq }, 200);
    },
});

export const bulkRuns = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/runs/bulk",
    tags: ["runs"],
    summary: "Cancel or retry many runs",
    description:
      "Acts on the runs a `filter` matches, or on `ids` (exactly one of them). Runs the action does not apply to (cancel: finished runs; retry: runs not failed or cancelled) are matched but not affected. `dryRun` changes nothing and lists what would be affected. At most 1000 ids are listed.",
    request: { body: { required: true, content: { "application/json": { schema: BulkBody } } } },
    responses: {
      200: {
        description: "What was done",
        content: { "application/json": { schema: BulkResult } },
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const body = c.req.valid("json");
      const result = await cairn.bulk({
        action: body.action,
        ...(body.filter ? { filter: toRunFilter(body.filter) } : {}),
        ...(body.ids ? { ids: body.ids } : {}),
        dryRun: body.dryRun ?? false,
      });
      return c.json(result, 200);
    },
});

export const rerunRun = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/runs/{id}/rerun",
    tags: ["runs"],
    summary: "Rerun a run from one of its steps",
    description:
      "Creates a new run of the same workflow whose journal starts with the original's recorded outcomes before step `fromStep` (by journal position, also when `input` is new): those replay without side effects and execution resumes at the step. The new run carries the tags `rerunOf` and `rerunFromStep`.",
    request: {
      params: RunIdParam,
      body: { required: true, content: { "application/json": { schema: RerunBody } } },
    },
    responses: {
      201: { description: "The new run", content: { "application/json": { schema: Run } } },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const handle = await cairn.rerun(id, {
        fromStep: body.fromStep,
        ...("input" in body ? { input: fromWire(body.input, body.inputMeta, "input") } : {}),
        ...(body.id === undefined ? {} : { id: body.id }),
      });
      const run = await toRunDetail(cairn, handle.id);
      return c.json(run, 201, { Location: `/api/v1/runs/${encodeURIComponent(handle.id)}` });
    },
});
