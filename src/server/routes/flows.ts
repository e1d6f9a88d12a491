import { createRoute, z } from "@hono/zod-openapi";
import { flowJsonSchema } from "../../core/flow/flow-schema.ts";
import type { FlowVersionRecord } from "../../store/flow-store.ts";
import { apiRoute } from "../api-route.ts";
import {
  ApprovalBody,
  ApprovalParams,
  DeployFlowBody,
  FlowDeployed,
  FlowList,
  FlowNameParam,
  FlowVersionBody,
  FlowVersionList,
  FlowVersionParams,
} from "../flow-schemas.ts";
import { HttpProblem } from "../problems.ts";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

function summary(r: Omit<FlowVersionRecord, "source" | "document">) {
  return {
    name: r.name,
    version: r.version,
    hash: r.hash,
    format: r.format,
    description: r.description,
    author: r.author,
    createdAt: new Date(r.createdAt).toISOString(),
  };
}

function full(r: FlowVersionRecord) {
  return { ...summary(r), document: JSON.parse(r.document), source: r.source };
}

function notFound(name: string, version?: number): never {
  throw new HttpProblem(
    "not_found",
    version === undefined
      ? `No flow named "${name}".`
      : `Flow "${name}" has no version ${version}.`,
  );
}

export const flowSchema = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/flows/schema",
    tags: ["flows"],
    summary: "The JSON Schema of a flow document",
    responses: { 200: json(z.record(z.string(), z.unknown()), "JSON Schema (draft 2020-12)") },
  }),
  handler: () => async (c) => c.json(flowJsonSchema(), 200),
});

export const deployFlow = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/flows",
    tags: ["flows"],
    summary: "Deploy a flow document",
    description:
      "Validates the document (422 lists every error with its path) and stores it as a new version when it changed; an unchanged document is a no-op (200, `created: false`).",
    request: {
      body: { required: true, content: { "application/json": { schema: DeployFlowBody } } },
    },
    responses: {
      201: json(FlowDeployed, "A new version"),
      200: json(FlowDeployed, "Unchanged: the latest version"),
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const body = c.req.valid("json");
      // A FlowInvalidError becomes a 422 listing every error (error-handler.ts).
      const result = await cairn.flows.deploy(body.source, {
        files: body.files,
        author: c.get("principal")?.name,
      });
      return c.json(result, result.created ? 201 : 200);
    },
});

export const listFlows = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/flows",
    tags: ["flows"],
    summary: "List the deployed flows (latest versions)",
    responses: { 200: json(FlowList, "The flows") },
  }),
  handler:
    ({ cairn }) =>
    async (c) =>
      c.json({ flows: (await cairn.store.flows.latest()).map(summary) }, 200),
});

export const getFlow = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/flows/{name}",
    tags: ["flows"],
    summary: "A flow's latest version",
    request: { params: FlowNameParam },
    responses: { 200: json(FlowVersionBody, "The latest version") },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { name } = c.req.valid("param");
      const record = await cairn.store.flows.get(name);
      return c.json(full(record ?? notFound(name)), 200);
    },
});

export const listFlowVersions = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/flows/{name}/versions",
    tags: ["flows"],
    summary: "A flow's versions, newest first",
    request: { params: FlowNameParam },
    responses: { 200: json(FlowVersionList, "The versions") },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { name } = c.req.valid("param");
      const versions = await cairn.store.flows.versions(name);
      if (versions.length === 0) notFound(name);
      return c.json({ versions: versions.map(summary) }, 200);
    },
});

export const getFlowVersion = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/flows/{name}/versions/{v}",
    tags: ["flows"],
    summary: "One version of a flow: the parsed document and the source text",
    request: { params: FlowVersionParams },
    responses: { 200: json(FlowVersionBody, "The version") },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { name, v } = c.req.valid("param");
      const record = await cairn.store.flows.get(name, v);
      return c.json(full(record ?? notFound(name, v)), 200);
    },
});

export const decideApproval = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/runs/{id}/approvals/{step}",
    tags: ["runs"],
    summary: "Approve or reject a flow's approval step",
    description:
      "Sends the signal `approval:<step>` to the run: `approved: true` resumes it with this body as the step's output, `approved: false` fails the step.",
    request: {
      params: ApprovalParams,
      body: { required: true, content: { "application/json": { schema: ApprovalBody } } },
    },
    responses: { 202: json(z.object({ runId: z.string(), step: z.string() }), "Accepted") },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { id, step } = c.req.valid("param");
      await cairn.signal(id, `approval:${step}`, c.req.valid("json"));
      return c.json({ runId: id, step }, 202);
    },
});
