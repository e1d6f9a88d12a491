import { describe, expect, it } from "vitest";
import { documentToGraph } from "./flow-graph.ts";
import { serverProblems } from "./server-problems.ts";

describe("serverProblems", () => {
  it("puts path errors on the deepest node and a cycle on each of its steps", () => {
    const graph = documentToGraph({
      name: "f",
      steps: [
        { id: "a", needs: ["b"], sleep: "1s" },
        { id: "b", needs: ["a"], sleep: "1s" },
        { id: "each", forEach: { items: "=x", steps: [{ id: "in", sleep: "1s" }] } },
      ],
    });
    const problems = serverProblems(
      [
        "steps: cycle: a → b → a",
        "steps[2].forEach.steps[0].sleep: not a duration",
        'steps[2].forEach.items: cannot parse expression "=x("',
        "name: a flow name is letters",
      ],
      graph,
    );
    expect(problems.map((p) => [p.path, p.nodeId])).toEqual([
      ["steps", "a"],
      ["steps", "b"],
      ["steps[2].forEach.steps[0].sleep", "each/in"],
      ["steps[2].forEach.items", "each"],
      ["name", undefined],
    ]);
  });
});
