import { describe, expect, it } from "vitest";
import { coreProblems, mergeProblems } from "./core-problems.ts";
import type { FlowDocument } from "./flow-document.ts";
import { documentToGraph } from "./flow-graph.ts";
import { validateFlow } from "./flow-validate.ts";

describe("coreProblems", () => {
  it("runs the engine's validator and puts a cycle on each node, once with the editor's", () => {
    const doc: FlowDocument = {
      name: "f",
      steps: [
        { id: "a", needs: ["b"], sleep: "1s" },
        { id: "b", needs: ["a"], sleep: "1s" },
      ],
    };
    const graph = documentToGraph(doc);
    const engine = coreProblems(doc, graph);
    expect(engine.map((p) => p.nodeId).sort()).toEqual(["a", "b"]);
    expect(engine[0]?.message).toMatch(/^cycle: /);
    const merged = mergeProblems(engine, validateFlow(graph));
    expect(merged.map((p) => p.nodeId).sort()).toEqual(["a", "b"]);
  });

  it("reports what only the engine knows, like an unknown key, on its node", () => {
    const doc = { name: "f", steps: [{ id: "a", sleep: "1s", colour: "red" }] } as FlowDocument;
    const problems = coreProblems(doc, documentToGraph(doc));
    expect(problems).toEqual([{ path: "steps[0]", message: 'unknown key "colour"', nodeId: "a" }]);
  });
});
