import { createRoute } from "@hono/zod-openapi";
import { apiRoute } from "../api-route.ts";
import {
  EventAccepted,
  SendEventBody,
  SignalAccepted,
  SignalBody,
  SignalParams,
} from "../schemas.ts";
import { fromWire } from "../wire.ts";

export const sendEvent = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/events",
    tags: ["events"],
    summary: "Send an event",
    description:
      "Stores the event once per id (a repeated id is a no-op, reported as `duplicate`) and hands it to every run waiting for it whose match fits.",
    request: {
      body: { required: true, content: { "application/json": { schema: SendEventBody } } },
    },
    responses: {
      202: { description: "Accepted", content: { "application/json": { schema: EventAccepted } } },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const body = c.req.valid("json");
      const data = fromWire(body.data, body.dataMeta, "data");
      const result: { id: string; duplicate: boolean; started?: string[]; woke?: string[] } =
        await cairn.sendEvent(body.name, data, body.id === undefined ? {} : { id: body.id });
      const { id, duplicate, started, woke } = result;
      return c.json(
        { id, duplicate, ...(started ? { started } : {}), ...(woke ? { woke } : {}) },
        202,
      );
    },
});

export const sendSignal = apiRoute({
  policy: "operator",
  body: "optional",
  route: createRoute({
    method: "post",
    path: "/api/v1/runs/{id}/signals/{name}",
    tags: ["runs"],
    summary: "Send a signal to a run",
    description:
      "Buffers a signal for one run; signals wait in order until the run asks for them. The body is optional. 409 when the run has finished.",
    request: {
      params: SignalParams,
      body: { required: false, content: { "application/json": { schema: SignalBody } } },
    },
    responses: {
      202: { description: "Accepted", content: { "application/json": { schema: SignalAccepted } } },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id, name } = c.req.valid("param");
      const body = c.req.valid("json");
      await cairn.signal(id, name, fromWire(body.payload, body.payloadMeta, "payload"));
      return c.json({ runId: id, name }, 202);
    },
});
