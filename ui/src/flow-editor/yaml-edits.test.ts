import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { flowDocumentArbitrary } from "./flow-arbitrary.ts";
import { documentToGraph, type FlowGraph } from "./flow-graph.ts";
import {
  addNeed,
  addStep,
  deleteStep,
  parseFlowYaml,
  printFlowYaml,
  removeNeed,
  renameStep,
  setIn,
} from "./yaml-edits.ts";

const source = `# The nightly report
name: nightly # the workflow name
steps:
  # first, fetch
  - id: fetch
    script:
      lang: python
      source: |
        def main():
            return 1
  - id: total # sums up
    needs: [fetch]
    sleep: 1s
  - id: mail
    sleep: 2s # then mail
`;

function edit(
  text: string,
  change: (parsed: ReturnType<typeof parseFlowYaml>, graph: FlowGraph) => void,
) {
  const parsed = parseFlowYaml(text);
  const graph = documentToGraph(parsed.value as never);
  change(parsed, graph);
  return printFlowYaml(parsed.doc);
}

describe("YAML edits", () => {
  it("adding a need keeps every comment and puts needs right after the id", () => {
    const out = edit(source, ({ doc }) => addNeed(doc, ["steps", 2], "total"));
    expect(out).toBe(source.replace("  - id: mail\n", "  - id: mail\n    needs: [total]\n"));
  });

  it("adding to an existing needs list appends, and removing the last entry drops the key", () => {
    const added = edit(source, ({ doc }) => addNeed(doc, ["steps", 1], "mail"));
    expect(added).toContain("needs: [fetch, mail]");
    const removed = edit(source, ({ doc }) => removeNeed(doc, ["steps", 1], "fetch"));
    expect(removed).toBe(source.replace("    needs: [fetch]\n", ""));
  });

  it("deleting a step removes it from the needs of its dependents", () => {
    const out = edit(source, ({ doc }, graph) => deleteStep(doc, graph, "fetch"));
    expect(parseFlowYaml(out).value?.steps.map((s) => [s.id, s.needs])).toEqual([
      ["total", undefined],
      ["mail", undefined],
    ]);
    expect(out).toContain("# The nightly report");
    expect(out).toContain("- id: total # sums up");
  });

  it("renaming a step renames its needs entries", () => {
    const out = edit(source, ({ doc }, graph) => renameStep(doc, graph, "fetch", "load"));
    expect(out).toBe(source.replace("id: fetch", "id: load").replace("[fetch]", "[load]"));
  });

  it("new steps and edited sources with line breaks are written as | blocks", () => {
    const out = edit(source, ({ doc }) => {
      addStep(doc, ["steps"], { id: "run", script: { lang: "bash", source: "echo 1\necho 2\n" } });
      setIn(doc, ["steps", 0, "script", "source"], "def main():\n    return 2\n");
    });
    expect(out).toContain("    script:\n      lang: bash\n      source: |\n        echo 1\n");
    expect(out).toContain("      source: |\n        def main():\n            return 2\n");
    expect(out.startsWith("# The nightly report\nname: nightly # the workflow name\n")).toBe(true);
  });

  it("adding a step to a forEach with no steps yet creates the list", () => {
    const text = "name: f\nsteps:\n  - id: each\n    forEach:\n      items: =input\n";
    const out = edit(text, ({ doc }) =>
      addStep(doc, ["steps", 0, "forEach", "steps"], { id: "x", sleep: "1s" }),
    );
    expect(parseFlowYaml(out).value?.steps[0]?.forEach?.steps).toEqual([{ id: "x", sleep: "1s" }]);
  });

  it("for random documents, adding then removing a need gives back the same text", () => {
    fc.assert(
      fc.property(flowDocumentArbitrary, (value) => {
        const text = stringify(value);
        const graph = documentToGraph(value);
        const top = graph.nodes.filter((n) => n.parentId === undefined);
        if (top.length < 2) return;
        const [first, last] = [top[0], top[top.length - 1]];
        if (!first || !last || graph.edges.some((e) => e.target === last.id)) return;
        const parsed = parseFlowYaml(text);
        addNeed(parsed.doc, last.path, first.stepId);
        const withNeed = parseFlowYaml(printFlowYaml(parsed.doc));
        expect(documentToGraph(withNeed.value as never).edges).toContainEqual({
          id: `${first.id}->${last.id}`,
          source: first.id,
          target: last.id,
        });
        removeNeed(withNeed.doc, last.path, first.stepId);
        expect(printFlowYaml(withNeed.doc)).toBe(text);
      }),
      { numRuns: 100 },
    );
  });

  it("reports YAML syntax errors with their line", () => {
    expect(parseFlowYaml("name: f\nsteps: [\n").errors[0]?.line).toBeGreaterThanOrEqual(2);
  });
});
