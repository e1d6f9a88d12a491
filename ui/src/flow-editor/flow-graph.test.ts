import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flowDocumentArbitrary } from "./flow-arbitrary.ts";
import { documentToGraph, graphToDocument } from "./flow-graph.ts";
import { validateFlow } from "./flow-validate.ts";

describe("documentToGraph", () => {
  it("document → graph → document gives the same document", () => {
    fc.assert(
      fc.property(flowDocumentArbitrary, (doc) => {
        const graph = documentToGraph(doc);
        expect(graph.unresolved.size).toBe(0);
        expect(graphToDocument(graph)).toEqual(doc);
      }),
      { numRuns: 300 },
    );
  });

  it("generated documents are valid, so the property covers what the editor accepts", () => {
    fc.assert(
      fc.property(flowDocumentArbitrary, (doc) => {
        expect(validateFlow(documentToGraph(doc))).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("draws forEach and branch steps as groups holding their inner steps", () => {
    const graph = documentToGraph({
      name: "f",
      steps: [
        { id: "fetch", script: { lang: "python", source: "x" } },
        {
          id: "each",
          needs: ["fetch"],
          forEach: { items: "=steps.fetch", steps: [{ id: "one", sleep: "1s" }] },
        },
        {
          id: "pick",
          branch: [
            { if: "=true", steps: [{ id: "yes", needs: ["fetch"], action: "a" }] },
            { else: true, steps: [] },
          ],
        },
      ],
    });
    const parents = Object.fromEntries(graph.nodes.map((n) => [n.id, n.parentId ?? null]));
    expect(parents).toEqual({
      fetch: null,
      each: null,
      "each/one": "each",
      pick: null,
      "pick#0": "pick",
      "pick#0/yes": "pick#0",
      "pick#1": "pick",
    });
    expect(graph.nodes.find((n) => n.id === "fetch")?.lang).toBe("python");
    // An inner step may need a step of an outer scope.
    expect(graph.edges.map((e) => e.id)).toEqual(["fetch->each", "fetch->pick#0/yes"]);
  });

  it("keeps needs that name no step out of the edges and reports them on the node", () => {
    const graph = documentToGraph({
      name: "f",
      steps: [
        { id: "a", sleep: "1s" },
        { id: "b", needs: ["a", "lod"], sleep: "1s" },
      ],
    });
    expect(graph.edges).toHaveLength(1);
    expect(validateFlow(graph)).toEqual([
      { path: "steps[1].needs", message: 'unknown step "lod"', nodeId: "b" },
    ]);
  });

  it("draws a dependency read from an expression but missing from needs, as the engine orders it", () => {
    const graph = documentToGraph({
      name: "f",
      steps: [
        { id: "load", action: "a", with: { who: "=input.customer" } },
        { id: "listed", needs: ["load"], action: "a", with: { x: "=steps.load.n" } },
        { id: "report", action: "a", with: { x: "=steps.load.n + $count(steps.listed)" } },
        {
          id: "each",
          forEach: {
            items: "=[1, 2]",
            steps: [
              { id: "one", action: "a", with: { x: "=steps.report" } },
              { id: "two", action: "a", with: { x: "=steps.one" } },
            ],
          },
        },
        { id: "broken", action: "a", with: { x: "=steps.load.(" } },
        { id: "ghost", action: "a", with: { x: "=steps.nowhere" } },
      ],
    });
    const drawn = graph.dataEdges.map((edge) => `${edge.source} ~> ${edge.target}`);
    // `listed` names load in needs: one ordinary edge, no dashed one. An inner step's read of
    // an outer step makes its group wait, as in the engine.
    expect(drawn.sort()).toEqual([
      "each/one ~> each/two",
      "listed ~> report",
      "load ~> report",
      "report ~> each",
    ]);
    expect(graph.edges.map((edge) => edge.id)).toEqual(["load->listed"]);
    // The document does not change: dependencies read from expressions are drawn, not written.
    expect(graphToDocument(graph).steps[2]).not.toHaveProperty("needs");
  });
});
