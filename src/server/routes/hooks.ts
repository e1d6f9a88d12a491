import { createRoute } from "@hono/zod-openapi";
import { apiRoute } from "../api-route.ts";
import { HttpProblem } from "../problems.ts";
import { parseJsonText, readBodyWithLimit } from "../request-body.ts";
import { EventAccepted, HookParams, identifier } from "../schemas.ts";

const eventIdText = identifier("The delivery's event id");

const description = `Verifies the delivery with the hook's signature scheme and secret(s), refuses a signature already used (remembered in the database by every server for the hook's time window), then sends the JSON body as event \`<name>\`. No bearer token: the signature is the credential. Every refusal, an unknown hook name included, is the same 401 \`invalid_signature\`; a replay of a valid signature is 401 \`replayed_signature\`.

Schemes (per hook, \`webhooks: { "<name>": { scheme, secrets, toleranceSeconds } }\`; timestamps within ±300 s by default):
- \`cairn\` (default): \`X-Cairn-Signature: t=<unix s>,v2=<hex HMAC-SHA256 of "<t>\\n<X-Cairn-Event-Id or empty>\\n<raw body>">\`; the event id is \`X-Cairn-Event-Id\`, else derived from the MAC. The older \`v1=<hex HMAC of "<t>.<body>">\` is accepted only without \`X-Cairn-Event-Id\`.
- \`standard\` (Standard Webhooks): \`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">\` (space-separated list), secret \`whsec_<base64>\`; the event id is \`hook:<name>:<webhook-id>\`.
- \`github\`: \`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>\`. GitHub signs no timestamp or delivery id, so the event id is derived from the MAC and a replay is a duplicate event.
- \`stripe\`: \`Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">\`; the event id is \`hook:<name>:<the body's id>\`.`;

export const receiveWebhook = apiRoute({
  policy: "webhook",
  route: createRoute({
    method: "post",
    path: "/api/v1/hooks/{name}",
    tags: ["events"],
    summary: "Receive a signed webhook as an event",
    description,
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
      // The MAC covers the exact bytes received, so the raw body is read before any parsing,
      // and before the name is looked up: an unknown hook costs the same and answers the same.
      const raw = await readBodyWithLimit(c, options.bodyLimitBytes);
      const delivery = await hooks.verify(name, (header) => c.req.header(header), raw);
      const { value } = parseJsonText(raw, "webhook body");
      const bodyId =
        delivery.scheme === "stripe" && typeof value === "object" && value !== null
          ? (value as { id?: unknown }).id
          : undefined;
      let id = `hook:${name}:${delivery.mac.slice(0, 32)}`;
      const given = delivery.eventId ?? (typeof bodyId === "string" ? bodyId : undefined);
      if (given !== undefined) {
        const checked = eventIdText.safeParse(given);
        if (!checked.success) {
          throw new HttpProblem("invalid_request", `${checked.error.issues[0]?.message}.`);
        }
        // A third party's ids (msg_…, evt_…) share the event id space with the application's
        // own: prefixed by the hook, two providers' "msg_1" stay two events.
        id = delivery.scheme === "cairn" ? checked.data : `hook:${name}:${checked.data}`;
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
