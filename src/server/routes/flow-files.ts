import { dirname } from "node:path";
import { createRoute, z } from "@hono/zod-openapi";
import { parseFlowText } from "../../core/flow/validate-flow.ts";
import { apiRoute } from "../api-route.ts";
import { FlowDeployed, FlowNameParam } from "../flow-schemas.ts";
import { HttpProblem } from "../problems.ts";

const FlowFile = z
  .object({
    path: z.string().openapi({ description: "The flow file, relative to `cairn dev`'s folder." }),
  })
  .openapi("FlowFile");

const SaveFlowFileBody = z
  .object({
    source: z.string().min(1).max(1_000_000).openapi({ description: "The new text of the file." }),
  })
  .openapi("SaveFlowFileBody");

function noFile(name: string): never {
  throw new HttpProblem(
    "not_found",
    `Flow "${name}" was not loaded from a file by \`cairn dev\`; deploy it with POST /api/v1/flows.`,
  );
}

export const getFlowFile = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/flows/{name}/file",
    tags: ["flows"],
    summary: "The file a flow was loaded from by `cairn dev` (404 otherwise)",
    request: { params: FlowNameParam },
    responses: {
      200: { description: "The file", content: { "application/json": { schema: FlowFile } } },
    },
  }),
  handler:
    ({ options }) =>
    async (c) => {
      const { name } = c.req.valid("param");
      const file = options.flowFiles.find(name) ?? noFile(name);
      return c.json({ path: options.flowFiles.display(file) }, 200);
    },
});

export const saveFlowFile = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/flows/{name}/file",
    tags: ["flows"],
    summary: "Save an edited flow back to its `cairn dev` file, then deploy it",
    description:
      "The document is validated first (422 lists every error, and the file is left as it was); it must keep its name. The text is written as given, comments included.",
    request: {
      params: FlowNameParam,
      body: { required: true, content: { "application/json": { schema: SaveFlowFileBody } } },
    },
    responses: {
      201: {
        description: "A new version",
        content: { "application/json": { schema: FlowDeployed } },
      },
      200: { description: "Unchanged", content: { "application/json": { schema: FlowDeployed } } },
    },
  }),
  handler:
    ({ cairn, options }) =>
    async (c) => {
      const { name } = c.req.valid("param");
      const { source } = c.req.valid("json");
      const file = options.flowFiles.find(name) ?? noFile(name);
      const parsed = parseFlowText(source);
      const renamed = parsed.ok && (parsed.value as { name?: unknown } | null)?.name !== name;
      if (renamed) {
        throw new HttpProblem(
          "invalid_request",
          `The document must keep the name "${name}" to be saved to its file.`,
        );
      }
      // Deploy first: an invalid document is refused (422) before the file is touched.
      const result = await cairn.flows.deploy(source, {
        baseDir: dirname(file),
        author: "cairn dev (editor)",
      });
      options.flowFiles.write(file, source);
      return c.json(result, result.created ? 201 : 200);
    },
});
