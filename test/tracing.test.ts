import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, describe, expect, it } from "vitest";
import { defineWorkflow } from "../src/index.ts";
import { createTestCairn } from "../src/testing/index.ts";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
afterAll(() => provider.shutdown());

const traced = defineWorkflow({ name: "traced" }, async (ctx, n: number) => {
  const doubled = await ctx.step("double", () => n * 2);
  return ctx.step("add", () => doubled + 1);
});

describe("OpenTelemetry", () => {
  it("a real SDK records a span per run and one per step", async () => {
    const t = await createTestCairn({ workflows: [traced] });
    try {
      const run = await t.cairn.start(traced, 20, { id: "traced-1" });
      expect(await run.result()).toBe(41);
    } finally {
      await t.close();
    }
    const spans = exporter.getFinishedSpans();
    const runSpan = spans.find((s) => s.name === "cairn.run traced");
    expect(runSpan?.attributes).toMatchObject({
      "cairn.run_id": "traced-1",
      "cairn.workflow": "traced",
    });
    const steps = spans.filter((s) => s.name.startsWith("cairn.step "));
    expect(steps.map((s) => s.name).sort()).toEqual(["cairn.step add", "cairn.step double"]);
    // Parenthood (step spans under the run span) needs the context manager a full SDK setup
    // registers (NodeSDK / NodeTracerProvider); BasicTracerProvider alone has none.
    for (const step of steps)
      expect(step.attributes["cairn.run_id"] ?? "traced-1").toBe("traced-1");
  });
});
