/**
 * `npm run bench:layout`: how long the flow editor takes to lay out a 300-step flow (target
 * ≤ 500 ms), in Node with the editor's own layout module. Two shapes: stages that fan out
 * and back in with forEach and branch groups (bench/flow-layout-shapes.ts), and the browser
 * test's binary tree. Each sample is a fresh process, because the first layout of a page is
 * the one a person waits for: it runs on cold (not yet optimised) code. Reported: that first
 * layout's wall and CPU time, and the median of the next ones (warm), each the median over
 * the samples. Engines: `editor` (what the editor runs for a flow this size) and `elk`
 * (ELK's layered algorithm with the options the editor gave it past 80 nodes before).
 * Flags: `--samples N` (default 5), `--size N` (default 300).
 */
import { execFileSync } from "node:child_process";
import os from "node:os";
import { parseArgs } from "node:util";
import elkBundled from "elkjs/lib/elk.bundled.js";
import type { ElkNode } from "elkjs/lib/elk-api.js";
import type { FlowStep } from "../ui/src/flow-editor/flow-document.ts";
import { documentToGraph } from "../ui/src/flow-editor/flow-graph.ts";
import { layoutFlow, layoutWithElk } from "../ui/src/flow-editor/flow-layout.ts";
import { binaryTree, fanOutFanIn } from "./flow-layout-shapes.ts";
import { describeMachine } from "./machine.ts";
import { median } from "./stats.ts";

const { values } = parseArgs({
  options: {
    samples: { type: "string", default: "5" },
    size: { type: "string", default: "300" },
    child: { type: "string" },
  },
});
// The bundle is CommonJS whose `module.exports` is the class; NodeNext types it as a namespace.
const ELK = elkBundled as unknown as typeof elkBundled.default;
const size = Number(values.size);
const shapes: Record<string, (n: number) => FlowStep[]> = { fanOutFanIn, binaryTree };
const engines = ["editor", "elk"] as const;
type Engine = (typeof engines)[number];

interface Sample {
  firstMs: number;
  firstCpuMs: number;
  warmMs: number;
}

async function measure(engine: Engine, shape: string): Promise<Sample> {
  const graph = documentToGraph({
    name: "bench",
    steps: (shapes[shape] as (n: number) => FlowStep[])(size),
  });
  const elk = new ELK();
  const previousLargeGraphOptions = {
    "elk.layered.thoroughness": "1",
    "elk.layered.crossingMinimization.greedySwitch.type": "OFF",
  };
  const tunedElk = {
    layout: (root: ElkNode) => {
      Object.assign(root.layoutOptions ?? {}, previousLargeGraphOptions);
      return elk.layout(root);
    },
  };
  const run = () => (engine === "elk" ? layoutWithElk(graph, tunedElk) : layoutFlow(graph, elk));
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const firstMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await run();
    warm.push(performance.now() - t);
  }
  return { firstMs, firstCpuMs: (used.user + used.system) / 1000, warmMs: median(warm) };
}

if (values.child) {
  const [engine, shape] = values.child.split(":") as [Engine, string];
  process.stdout.write(JSON.stringify(await measure(engine, shape)));
} else {
  const samples = Number(values.samples);
  const machine = describeMachine();
  console.log(
    `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(`${size}-step flows, ${samples} fresh processes each; medians in ms`);
  console.log("shape        engine  first(wall)  first(cpu)  warm   target ≤ 500 ms (first, wall)");
  for (const shape of Object.keys(shapes)) {
    for (const engine of engines) {
      const results: Sample[] = [];
      for (let i = 0; i < samples; i++) {
        const out = execFileSync(
          process.execPath,
          [
            "--import",
            "tsx",
            import.meta.filename,
            "--child",
            `${engine}:${shape}`,
            "--size",
            String(size),
          ],
          { encoding: "utf8" },
        );
        results.push(JSON.parse(out) as Sample);
      }
      const first = median(results.map((r) => r.firstMs));
      console.log(
        [
          shape.padEnd(12),
          engine.padEnd(7),
          first.toFixed(1).padStart(11),
          median(results.map((r) => r.firstCpuMs))
            .toFixed(1)
            .padStart(11),
          median(results.map((r) => r.warmMs))
            .toFixed(1)
            .padStart(6),
          first <= 500 ? "  met" : "  missed",
        ].join(" "),
      );
    }
  }
}
