import { describe, expect, it } from "vitest";
import { binaryTree, fanOutFanIn } from "../../../bench/flow-layout-shapes.ts";
import type { FlowDocument } from "./flow-document.ts";
import { documentToGraph, type FlowGraph } from "./flow-graph.ts";
import type { FlowLayout, NodeBox } from "./flow-layout.ts";
import { layeredLayout } from "./layered-layout.ts";

const options = {
  stepWidth: 200,
  stepHeight: 60,
  groupHeader: 36,
  groupPadding: 16,
  layerGap: 60,
  nodeGap: 30,
};

function laidOut(doc: FlowDocument): { graph: FlowGraph; layout: FlowLayout } {
  const graph = documentToGraph(doc);
  return { graph, layout: layeredLayout(graph, options) };
}

const boxOf = (layout: FlowLayout, id: string): NodeBox =>
  layout.get(id) ?? expect.fail(`no box for ${id}`);

/** The picture's rules: every node boxed, edges point right, siblings apart, groups hold their steps. */
function expectReadable(graph: FlowGraph, layout: FlowLayout): void {
  expect([...layout.keys()].sort()).toEqual(graph.nodes.map((n) => n.id).sort());
  const parentOf = new Map(graph.nodes.map((n) => [n.id, n.parentId]));
  for (const edge of graph.edges) {
    if (parentOf.get(edge.source) !== parentOf.get(edge.target)) continue;
    const source = boxOf(layout, edge.source);
    expect(source.x + source.width, edge.id).toBeLessThanOrEqual(boxOf(layout, edge.target).x);
  }
  const siblings = new Map<string, NodeBox[]>();
  for (const node of graph.nodes) {
    const key = node.parentId ?? "";
    siblings.set(key, [...(siblings.get(key) ?? []), boxOf(layout, node.id)]);
    if (node.parentId === undefined) continue;
    const box = boxOf(layout, node.id);
    const group = boxOf(layout, node.parentId);
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(group.width);
    expect(box.y + box.height).toBeLessThanOrEqual(group.height);
  }
  for (const boxes of siblings.values()) {
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const apart =
          a.x + a.width <= b.x ||
          b.x + b.width <= a.x ||
          a.y + a.height <= b.y ||
          b.y + b.height <= a.y;
        if (!apart) expect.fail(`${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`);
      }
    }
  }
}

describe("layeredLayout", () => {
  it("lays a 300-step fan-out/fan-in flow with groups out in layers, readable", () => {
    const { graph, layout } = laidOut({ name: "big", steps: fanOutFanIn(300) });
    expect(graph.nodes.some((n) => n.isGroup)).toBe(true);
    expectReadable(graph, layout);
  });

  it("lays a 300-step tree out readably", () => {
    const { graph, layout } = laidOut({ name: "tree", steps: binaryTree(300) });
    expectReadable(graph, layout);
    // A parent sits level with its children, between the first and the last.
    const parent = boxOf(layout, "s1");
    const [a, b] = [boxOf(layout, "s3"), boxOf(layout, "s4")];
    expect(parent.y).toBeGreaterThanOrEqual(Math.min(a.y, b.y));
    expect(parent.y).toBeLessThanOrEqual(Math.max(a.y, b.y));
  });

  it("orders a layer so that parallel chains do not cross", () => {
    const { layout } = laidOut({
      name: "chains",
      steps: [
        { id: "a", sleep: "1s" },
        { id: "b", sleep: "1s" },
        // Listed in the opposite order of their parents.
        { id: "b2", needs: ["b"], sleep: "1s" },
        { id: "a2", needs: ["a"], sleep: "1s" },
      ],
    });
    const above = (x: string, y: string) => boxOf(layout, x).y < boxOf(layout, y).y;
    expect(above("a", "b")).toBe(above("a2", "b2"));
  });

  it("puts a group after the step its inner steps need, and sizes it around them", () => {
    const { graph, layout } = laidOut({
      name: "nested",
      steps: [
        { id: "fetch", sleep: "1s" },
        {
          id: "each",
          forEach: {
            items: "=[1]",
            steps: [
              { id: "one", needs: ["fetch"], sleep: "1s" },
              { id: "two", needs: ["one"], sleep: "1s" },
            ],
          },
        },
        { id: "empty", needs: ["each"], branch: [{ if: "=true", steps: [] }] },
      ],
    });
    expectReadable(graph, layout);
    const fetch = boxOf(layout, "fetch");
    expect(fetch.x + fetch.width).toBeLessThanOrEqual(boxOf(layout, "each").x);
    expect(boxOf(layout, "each/one").x).toBeLessThan(boxOf(layout, "each/two").x);
    expect(boxOf(layout, "each").width).toBeGreaterThan(2 * options.stepWidth);
    expect(boxOf(layout, "empty#0")).toMatchObject({ width: 200, height: 96 });
  });

  it("still gives every step a box when the flow has a cycle", () => {
    const { graph, layout } = laidOut({
      name: "cyclic",
      steps: [
        { id: "a", needs: ["b"], sleep: "1s" },
        { id: "b", needs: ["a"], sleep: "1s" },
        { id: "c", needs: ["b"], sleep: "1s" },
      ],
    });
    expect(layout.size).toBe(graph.nodes.length);
  });

  it("places a step after the steps it reads without listing them in needs", () => {
    const { graph, layout } = laidOut({
      name: "reads",
      steps: [
        { id: "load", action: "a" },
        { id: "report", action: "a", with: { x: "=steps.load" } },
      ],
    });
    expect(graph.dataEdges).toHaveLength(1);
    const load = boxOf(layout, "load");
    expect(load.x + load.width).toBeLessThanOrEqual(boxOf(layout, "report").x);
  });
});
