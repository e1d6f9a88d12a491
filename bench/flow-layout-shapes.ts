import type { FlowStep } from "../ui/src/flow-editor/flow-document.ts";

/**
 * A 300-step flow shaped like a real large one: stages that fan out to parallel steps and
 * fan back in, with a forEach group and a branch every so often, and some edges that skip
 * a few stages. Deterministic, so runs compare.
 */
export function fanOutFanIn(stepCount: number): FlowStep[] {
  const steps: FlowStep[] = [];
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let previousJoin: string | undefined;
  // The fanned-out steps of each stage so far, to pick a skip-stage dependency from.
  const stages: string[][] = [];
  let stage = 0;
  while (countSteps(steps) < stepCount) {
    const width = 2 + Math.floor(random() * 6);
    const fanned: string[] = [];
    for (let i = 0; i < width && countSteps(steps) < stepCount - 1; i++) {
      const id = `s${stage}_${i}`;
      const needs = previousJoin === undefined ? [] : [previousJoin];
      // Now and then a step also needs something from two to four stages back.
      if (stages.length >= 4 && random() < 0.15) {
        const back = stages[stages.length - 2 - Math.floor(random() * 3)] as string[];
        needs.push(back[Math.floor(random() * back.length)] as string);
      }
      const body: Record<string, unknown> =
        i === 0 && stage % 7 === 3
          ? {
              forEach: {
                items: "=[1, 2, 3]",
                steps: [
                  { id: `fetch${stage}`, action: "fetch" },
                  { id: `store${stage}`, needs: [`fetch${stage}`], action: "store" },
                ],
              },
            }
          : i === 1 && stage % 9 === 5
            ? {
                branch: [
                  { if: "=true", steps: [{ id: `yes${stage}`, sleep: "1s" }] },
                  { else: true, steps: [{ id: `no${stage}`, sleep: "1s" }] },
                ],
              }
            : { action: "work" };
      steps.push({ id, ...(needs.length > 0 ? { needs } : {}), ...body } as FlowStep);
      fanned.push(id);
    }
    const join = `join${stage}`;
    steps.push({ id: join, needs: fanned, action: "join" });
    stages.push(fanned);
    previousJoin = join;
    stage++;
  }
  return steps;
}

/** Steps, inner ones included. */
export function countSteps(steps: FlowStep[]): number {
  let n = 0;
  for (const step of steps) {
    n++;
    if (step.forEach) n += countSteps(step.forEach.steps);
    for (const arm of step.branch ?? []) n += countSteps(arm.steps);
  }
  return n;
}

/** The browser test's shape: a binary tree of 300 steps. */
export function binaryTree(stepCount: number): FlowStep[] {
  return Array.from({ length: stepCount }, (_, i) => ({
    id: `s${i}`,
    ...(i === 0 ? {} : { needs: [`s${Math.floor((i - 1) / 2)}`] }),
    sleep: "1s",
  }));
}
