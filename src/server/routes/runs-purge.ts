import { createRoute, z } from "@hono/zod-openapi";
import { type Duration, toMs } from "../../core/duration.ts";
import { apiRoute } from "../api-route.ts";

const PurgeBody = z
  .strictObject({
    olderThan: z
      .union([z.string().max(40), z.number().int().nonnegative()])
      .superRefine((value, ctx) => {
        try {
          toMs(value as Duration, "olderThan");
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
        }
      })
      .openapi({ example: "30d", description: 'A duration: ms, or "90m", "12h", "30d", "2w"' }),
  })
  .openapi("PurgeRuns");

const PurgeResult = z
  .object({
    purged: z.number().int().openapi({ description: "Runs deleted, with their journals" }),
    before: z
      .string()
      .openapi({ format: "date-time", description: "Runs that finished before this went" }),
  })
  .openapi("PurgeResult");

export const purgeRuns = apiRoute({
  policy: "admin",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/runs/purge",
    tags: ["runs"],
    summary: "Delete finished runs older than a duration (admins)",
    description:
      "Deletes the runs that finished (completed, failed or cancelled) more than `olderThan` ago, with their journals, waits, signals, tags and log lines — oldest first, in short transactions with a rest between them, so live runs keep going. Answers once done, with how many went. The same as `cairn runs purge --older-than` and as the `retention` setting's background passes.",
    request: { body: { required: true, content: { "application/json": { schema: PurgeBody } } } },
    responses: {
      200: {
        description: "What was deleted",
        content: { "application/json": { schema: PurgeResult } },
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { olderThan } = c.req.valid("json");
      const before = cairn.clock.now() - toMs(olderThan as Duration, "olderThan");
      const purged = await cairn.purgeRuns(olderThan as Duration);
      return c.json({ purged, before: new Date(before).toISOString() }, 200);
    },
});
