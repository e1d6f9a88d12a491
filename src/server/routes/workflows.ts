import { createRoute } from "@hono/zod-openapi";
import { apiRoute } from "../api-route.ts";
import { WorkflowList } from "../schemas.ts";

export const listWorkflows = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/workflows",
    tags: ["workflows"],
    summary: "List the workflows this server can start",
    responses: {
      200: {
        description: "The registered workflows",
        content: { "application/json": { schema: WorkflowList } },
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const workflows = cairn.workflows
        .map((w) => ({
          name: w.name,
          hasInputSchema: w.options.input !== undefined,
          timeoutMs: w.timeoutMs ?? null,
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      return c.json({ workflows }, 200);
    },
});
