import { describe, expect, it } from "vitest";
import { documentToGraph } from "./flow-graph.ts";
import { stepTestSample } from "./step-test-sample.ts";

const graph = documentToGraph({
  name: "f",
  steps: [
    { id: "load", action: "a" },
    { id: "rates", action: "a" },
    { id: "report", needs: ["rates"], action: "a", with: { n: "=steps.load.n", bad: "=(" } },
    {
      id: "each",
      needs: ["load"],
      forEach: {
        items: "=steps.load.orders",
        steps: [{ id: "charge", action: "a", with: { order: "=item", fx: "=steps.rates" } }],
      },
    },
  ],
});

describe("stepTestSample", () => {
  it("offers a placeholder for every output a step needs or reads", () => {
    expect(stepTestSample(graph, "report", { who: "ann" })).toEqual({
      input: { who: "ann" },
      steps: { load: null, rates: null },
    });
  });

  it("adds item and index for a step inside a forEach", () => {
    expect(stepTestSample(graph, "each/charge", {})).toEqual({
      input: {},
      steps: { rates: null },
      item: null,
      index: 0,
    });
  });

  it("asks for nothing more from a step that reads nothing", () => {
    expect(stepTestSample(graph, "load", {})).toEqual({ input: {}, steps: {} });
  });
});
