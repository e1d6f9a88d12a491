import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, it } from "vitest";
import type { FlowStep } from "./flow-document.ts";
import { documentToGraph } from "./flow-graph.ts";
import { layoutFlow, sameShape } from "./flow-layout.ts";

const elk = new ELK();

describe("layoutFlow", () => {
  it("lays needs out left to right and sizes groups around their inner steps", async () => {
    const graph = documentToGraph({
      name: "f",
      steps: [
        { id: "fetch", action: "a" },
        {
          id: "each",
          needs: ["fetch"],
          forEach: {
            items: "=x",
            steps: [
              { id: "one", action: "a" },
              { id: "two", needs: ["one"], action: "a" },
            ],
          },
        },
        { id: "mail", needs: ["each"], action: "a" },
      ],
    });
    const layout = await layoutFlow(graph, elk);
    const box = (id: string) => layout.get(id) ?? expect.fail(`no box for ${id}`);
    expect(box("fetch").x).toBeLessThan(box("each").x);
    expect(box("each").x + box("each").width).toBeLessThanOrEqual(box("mail").x);
    // Inner boxes are relative to the group and fit inside it.
    for (const inner of ["each/one", "each/two"]) {
      expect(box(inner).x).toBeGreaterThanOrEqual(0);
      expect(box(inner).x + box(inner).width).toBeLessThanOrEqual(box("each").width);
      expect(box(inner).y + box(inner).height).toBeLessThanOrEqual(box("each").height);
    }
    expect(box("each/one").x).toBeLessThan(box("each/two").x);
  });

  it("gives every node of a large flow a box, empty groups included", async () => {
    const steps: FlowStep[] = Array.from({ length: 120 }, (_, i) => ({
      id: `s${i}`,
      ...(i > 0 ? { needs: [`s${Math.floor(i / 2)}`] } : {}),
      ...(i % 30 === 0 ? { branch: [{ if: "=true", steps: [] }] } : { sleep: "1s" }),
    }));
    const graph = documentToGraph({ name: "big", steps });
    const layout = await layoutFlow(graph, elk);
    expect([...layout.keys()].sort()).toEqual(graph.nodes.map((n) => n.id).sort());
  });

  it("sameShape tells whether an old layout still fits", () => {
    const a = documentToGraph({ name: "f", steps: [{ id: "a", sleep: "1s" }] });
    const b = documentToGraph({ name: "f", steps: [{ id: "a", sleep: "2s" }] });
    const c = documentToGraph({ name: "f", steps: [{ id: "b", sleep: "1s" }] });
    expect(sameShape(a, b)).toBe(true);
    expect(sameShape(a, c)).toBe(false);
  });
});
