import { describe, expect, it } from "vitest";
import { documentToGraph } from "./flow-graph.ts";
import { keyTemplates, nodeStates } from "./run-states.ts";

const graph = documentToGraph({
  name: "f",
  steps: [
    { id: "fetch", action: "a" },
    {
      id: "each",
      needs: ["fetch"],
      forEach: {
        items: "=steps.fetch",
        steps: [
          { id: "one", action: "a" },
          { id: "two", needs: ["one"], action: "a" },
        ],
      },
    },
    {
      id: "pick",
      branch: [
        { if: "=true", steps: [{ id: "yes", action: "a" }] },
        { else: true, steps: [{ id: "no", action: "a" }] },
      ],
    },
    { id: "later", if: "=false", action: "a" },
  ],
});

describe("nodeStates", () => {
  it("keys steps as the engine journals them", () => {
    expect(Object.fromEntries(keyTemplates(graph))).toEqual({
      fetch: "fetch",
      each: "each",
      "each/one": "each[*].one",
      "each/two": "each[*].two",
      pick: "pick",
      "pick#0/yes": "yes",
      "pick#1/no": "no",
      later: "later",
    });
  });

  it("counts forEach iterations, shows retries with their attempt and skipped steps", () => {
    const states = nodeStates(
      graph,
      [
        { key: "fetch", status: "completed", attempt: 1, output: [1, 2, 3] },
        { key: "each[0].one", status: "completed", attempt: 1, output: 1 },
        { key: "each[0].two", status: "completed", attempt: 1, output: 1 },
        { key: "each[1].one", status: "retrying", attempt: 2 },
        { key: "yes", status: "started", attempt: 1 },
        { key: "no", status: "completed", attempt: 1, output: null },
        { key: "later", status: "completed", attempt: 1, output: null },
      ],
      false,
      new Map([["each", 3]]),
    );
    const view = Object.fromEntries(
      [...states].map(([id, s]) => [
        id,
        `${s.status}/${s.attempt}${s.total ? ` ${s.done}/${s.total}` : ""}`,
      ]),
    );
    expect(view).toEqual({
      fetch: "completed/1",
      each: "retrying/0 1/3",
      "each/one": "retrying/2",
      "each/two": "completed/1",
      pick: "running/0",
      "pick#0": "running/0",
      "pick#0/yes": "running/1",
      "pick#1": "skipped/0",
      "pick#1/no": "skipped/1",
      later: "skipped/1",
    });
  });
});
