import { describe, expect, it } from "vitest";
import type { FlowDocument } from "./flow-document.ts";
import { documentToGraph } from "./flow-graph.ts";
import { validateFlow } from "./flow-validate.ts";

const check = (doc: FlowDocument) => validateFlow(documentToGraph(doc));

describe("validateFlow", () => {
  it("names a cycle in edge order and puts it on every node of the cycle", () => {
    const problems = check({
      name: "f",
      steps: [
        { id: "a", needs: ["c"], sleep: "1s" },
        { id: "b", needs: ["a"], sleep: "1s" },
        { id: "c", needs: ["b"], sleep: "1s" },
        { id: "d", needs: ["c"], sleep: "1s" },
      ],
    });
    expect(problems.map((p) => p.nodeId)).toEqual(["a", "b", "c"]);
    expect(new Set(problems.map((p) => p.message))).toEqual(new Set(["cycle: a → b → c → a"]));
    expect(problems[0]?.path).toBe("steps[0].needs");
  });

  it("reports duplicate and malformed ids, missing and double kinds, unknown languages", () => {
    const problems = check({
      name: "f",
      steps: [
        { id: "a", sleep: "1s" },
        { id: "a", sleep: "1s", workflow: "w" },
        { id: "Bad Id", script: { lang: "ruby", source: "x" } },
        { id: "empty" },
      ],
    });
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'steps[1].id: duplicate step id "a"',
      "steps[1]: a step has one kind, found workflow and sleep",
      'steps[2].id: "Bad Id" is not a valid id: use a-z, 0-9, _ and -',
      'steps[2].script.lang: unknown language "ruby"',
      "steps[3]: a step needs one of: script, action, http, workflow, sleep, approval, waitForEvent, branch, forEach",
    ]);
  });

  it("reports JSONata expressions that do not parse, on their node", () => {
    const problems = check({
      name: "f",
      steps: [{ id: "a", action: "x", with: { n: "=steps.fetch.(" } }],
      output: "=(",
    });
    expect(problems.map((p) => [p.path, p.nodeId])).toEqual([
      ["output", undefined],
      ["steps[0].with.n", "a"],
    ]);
    expect(problems[1]?.message).toMatch(/^expression does not parse: /);
  });
});
