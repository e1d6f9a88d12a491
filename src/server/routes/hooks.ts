import { createRoute } from "@hono/zod-openapi";
import { apiRoute } from "../api-route.ts";
import { HttpProblem } from "../problems.ts";
import { parseJsonText, readBodyWithLimit } from "../request-body.ts";
import { EventAccepted, HookParams, identifier } from "../schemas.ts";

const eventIdHeader = identifier("X-Cairn-Event-Id");

export const receiveWebhook = apiRoute({
  policy: "webhook",
  route: createRoute({
    method: "post",
    path: "/api/v1/hooks/{name}",
    tags: ["events"],
    summary: "Receive a signed webhook as an event",
    description:
      'Verifies `X-Cairn-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` against the hook\'s secret(s), within ±300 s, refusing a signature already used, then sends the JSON body as event `<name>`. The event id is `X-Cairn-Event-Id` if given, else derived from the signature. No bearer token: the signature is the credential.',
    request: { params: HookParams },
    responses: {
      202: {
        description: "Accepted as an event",
        content: { "application/json": { schema: EventAccepted } },
      },
    },
  }),
  handler:
    ({ cairn, hooks, options }) =>
    async (c) => {
      const { name } = c.req.valid("param");
      if (!hooks.has(name))
        throw new HttpProblem("unknown_hook", `No webhook named "${name}" is configured.`);
      // The MAC covers the exact bytes received, so the raw body is read before any parsing.
      const raw = await readBodyWithLimit(c, options.bodyLimitBytes);
      const mac = hooks.verify(name, c.req.header("x-cairn-signature"), raw);
      const { value } = parseJsonText(raw, "webhook body");
      const headerId = c.req.header("x-cairn-event-id");
      let id = `hook:${name}:${mac.slice(0, 32)}`;
      if (headerId !== undefined) {
        const checked = eventIdHeader.safeParse(headerId);
        if (!checked.success) {
          throw new HttpProblem(
            "invalid_request",
            `X-Cairn-Event-Id: ${checked.error.issues[0]?.message}.`,
          );
        }
        id = checked.data;
      }
      const result: { id: string; duplicate: boolean; started?: string[] } = await cairn.sendEvent(
        name,
        value,
        { id },
      );
      return c.json(
        {
          id: result.id,
          duplicate: result.duplicate,
          ...(result.started ? { started: result.started } : {}),
        },
        202,
      );
    },
});
