import { createRoute } from "@hono/zod-openapi";
import { apiRoute } from "../api-route.ts";
import { WorkflowList } from "../schemas.ts";
import { inputJsonSchema, workflowOptions, workflowTriggers } from "../workflow-info.ts";

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
      const local = new Map(cairn.workflows.map((w) => [w.name, w]));
      const workflows = (await cairn.knownWorkflows()).map(({ name }) => {
        const definition = local.get(name);
        return {
          name,
          local: definition !== undefined,
          hasInputSchema: definition ? definition.options.input !== undefined : null,
          timeoutMs: definition?.timeoutMs ?? null,
          inputSchema: definition ? inputJsonSchema(definition) : null,
          options: definition ? workflowOptions(definition) : null,
          triggers: definition ? workflowTriggers(definition) : [],
        };
      });
      return c.json({ workflows }, 200);
    },
});
