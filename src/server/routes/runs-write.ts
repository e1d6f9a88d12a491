import { createRoute } from "@hono/zod-openapi";
import { apiRoute } from "../api-route.ts";
import { HttpProblem } from "../problems.ts";
import { Run, RunIdParam, StartedRun, StartRunBody } from "../schemas.ts";
import { fromWire, toRunWire } from "../wire.ts";

const runContent = { "application/json": { schema: Run } };
const startedContent = { "application/json": { schema: StartedRun } };
const runPath = (id: string) => `/api/v1/runs/${encodeURIComponent(id)}`;

export const startRun = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/runs",
    tags: ["runs"],
    summary: "Start a run",
    description:
      "Starts a run of a registered workflow. With `id`, or with an idempotency key held by a run created within its window (the workflow's `idempotency`, or `idempotency` here), starting again returns the existing run (200, `created: false`) instead of a new one (201, `created: true`); `inputMatches` is false when that run was started with a different input, which this start did not use. Input is validated against the workflow's schema first; a rejected start creates nothing.",
    request: {
      body: { required: true, content: { "application/json": { schema: StartRunBody } } },
    },
    responses: {
      201: { description: "The new run", content: startedContent },
      200: {
        description: "A run with this id already existed; here it is (see `inputMatches`)",
        content: startedContent,
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const body = c.req.valid("json");
      const input = fromWire(body.input, body.inputMeta, "input");
      const { handle, info } = await cairn.startAndDescribe(body.workflow, input, {
        ...(body.id === undefined ? {} : { id: body.id }),
        ...(body.tags === undefined ? {} : { tags: body.tags }),
        ...(body.idempotency === undefined ? {} : { idempotency: body.idempotency as never }),
      });
      if (!handle.created && handle.workflow !== body.workflow) {
        throw new HttpProblem(
          "INVALID_STATE",
          `Run "${handle.id}" already exists as a run of workflow "${handle.workflow}", not "${body.workflow}".`,
        );
      }
      const run = {
        ...toRunWire(info),
        created: handle.created,
        inputMatches: handle.inputMatches,
      };
      const headers = { Location: runPath(handle.id) };
      return handle.created ? c.json(run, 201, headers) : c.json(run, 200, headers);
    },
});

export const cancelRun = apiRoute({
  policy: "operator",
  route: createRoute({
    method: "post",
    path: "/api/v1/runs/{id}/cancel",
    tags: ["runs"],
    summary: "Cancel a run",
    description:
      "Cancels a run and its child runs; a running step sees its abort signal. Cancelling a finished run changes nothing and returns it as it is.",
    request: { params: RunIdParam },
    responses: { 200: { description: "The run after cancellation", content: runContent } },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      await cairn.cancel(id);
      return c.json(toRunWire(await cairn.getRun(id)), 200);
    },
});

export const retryRun = apiRoute({
  policy: "operator",
  route: createRoute({
    method: "post",
    path: "/api/v1/runs/{id}/retry",
    tags: ["runs"],
    summary: "Retry a failed or cancelled run",
    description:
      "Puts a failed or cancelled run back in the queue: completed steps keep their recorded outcomes, failed steps run again. 409 for a run in any other state.",
    request: { params: RunIdParam },
    responses: { 200: { description: "The run, queued again", content: runContent } },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id } = c.req.valid("param");
      await cairn.retry(id);
      return c.json(toRunWire(await cairn.getRun(id)), 200);
    },
});
