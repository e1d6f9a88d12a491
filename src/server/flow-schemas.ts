import { z } from "@hono/zod-openapi";
import { identifier, lookupIdentifier } from "./schemas.ts";

export const FlowNameParam = z.object({
  name: identifier("flow name").openapi({
    param: { name: "name", in: "path" },
    example: "nightly-report",
  }),
});

export const FlowVersionParams = FlowNameParam.extend({
  v: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: "v", in: "path" }, example: 1 }),
});

export const DeployFlowBody = z
  .object({
    source: z
      .string()
      .min(1)
      .max(1_000_000)
      .openapi({ description: "The flow document, YAML or JSON text." }),
    files: z
      .record(z.string(), z.string())
      .optional()
      .openapi({ description: "Script files named by `script.file`, by path, with their text." }),
  })
  .openapi("DeployFlow");

const FlowVersionSummary = z
  .object({
    name: z.string(),
    version: z.number().int(),
    hash: z.string(),
    format: z.enum(["yaml", "json"]),
    description: z.string().nullable(),
    author: z.string().nullable(),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("FlowVersionSummary");

export const FlowVersionBody = FlowVersionSummary.extend({
  document: z.record(z.string(), z.unknown()).openapi({ description: "The parsed document." }),
  source: z.string().openapi({ description: "The text as deployed." }),
}).openapi("FlowVersion");

export const FlowDeployed = z
  .object({ name: z.string(), version: z.number().int(), hash: z.string(), created: z.boolean() })
  .openapi("FlowDeployed");

export const FlowList = z.object({ flows: z.array(FlowVersionSummary) }).openapi("FlowList");
export const FlowVersionList = z
  .object({ versions: z.array(FlowVersionSummary) })
  .openapi("FlowVersionList");

export const ApprovalParams = z.object({
  id: lookupIdentifier("run id").openapi({ param: { name: "id", in: "path" }, example: "run-1" }),
  step: lookupIdentifier("step key").openapi({
    param: { name: "step", in: "path" },
    example: "big",
  }),
});

export const ApprovalBody = z
  .object({
    approved: z.boolean(),
    by: z.string().max(256).optional(),
    comment: z.string().max(4096).optional(),
  })
  .openapi("Approval");

export const FlowStepParams = FlowNameParam.extend({
  step: identifier("step id").openapi({ param: { name: "step", in: "path" }, example: "fetch" }),
});

export const StepTestBody = z
  .object({
    version: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: "The flow version to test (default: the latest)." }),
    input: z
      .unknown()
      .optional()
      .openapi({ description: "The flow input the step sees, checked against the flow's schema." }),
    steps: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "Sample outputs of the steps it reads, by id (`steps.<id>`)." }),
    item: z.unknown().optional().openapi({ description: "For a step inside a forEach: `item`." }),
    index: z.number().int().min(0).optional().openapi({ description: "…and `index`." }),
  })
  .openapi("StepTest");
