import type { RunId } from "../core/types.ts";
import type { RunEnd, SimWorld } from "./sim-world.ts";

/** How the same runs end in a world without faults, and the client requests refused there. */
export interface Reference {
  ends: ReadonlyMap<string, RunEnd>;
  refused: readonly string[];
}

const show = (text: string | null) =>
  text === null ? "nothing" : text.length > 200 ? `${text.slice(0, 200)}…` : text;

/**
 * What must hold after a seed, each violation said in words: every run ended as it ends
 * without faults (same status, same output or error), no step body ran after its outcome
 * was recorded, the journal holds one outcome per step, no sleep ended before its time,
 * a repeated start made no second run, every acknowledged event is stored once, the
 * client's requests were taken as without faults,
 * and nothing is left running with nobody on it.
 */
export async function checkWorld(
  world: SimWorld,
  { ends: expectedEnds, refused }: Reference,
  healed: boolean,
): Promise<string[]> {
  const violations: string[] = [];
  const ends = await world.ends();
  if (!healed) {
    const stuck = [...ends].filter(
      ([, end]) => end.status === "running" || end.status === "queued",
    );
    violations.push(
      `runs never settled after the faults ended and time moved on: ${stuck
        .slice(0, 5)
        .map(([id, end]) => `"${id}" (${end.status})`)
        .join(", ")}`,
    );
  }
  for (const [id, expected] of expectedEnds) {
    const found = ends.get(id);
    if (!found) {
      violations.push(`run "${id}" is missing (without faults it ended ${expected.status})`);
      continue;
    }
    if (found.status !== expected.status) {
      violations.push(
        `run "${id}" is ${found.status}${found.error ? ` (${show(found.error)})` : ""}; without faults it is ${expected.status}`,
      );
    } else if (found.output !== expected.output) {
      violations.push(
        `run "${id}" returned ${show(found.output)}; without faults it returned ${show(expected.output)}`,
      );
    } else if (found.error !== expected.error) {
      violations.push(
        `run "${id}" failed with ${show(found.error)}; without faults with ${show(expected.error)}`,
      );
    }
  }
  for (const id of ends.keys()) {
    if (!expectedEnds.has(id)) violations.push(`run "${id}" exists, but not without faults`);
  }
  for (const request of world.refused) {
    if (!refused.includes(request)) violations.push(`the client's ${request}`);
  }
  for (const start of world.duplicateStarts) {
    violations.push(`the ${start}, sent again with the same id, created a second run`);
  }
  const stored = new Map<string, number>();
  let before: { createdAt: number; id: string } | undefined;
  for (;;) {
    const page = await world.store.listEvents({ limit: 1_000, ...(before ? { before } : {}) });
    for (const event of page) stored.set(event.id, (stored.get(event.id) ?? 0) + 1);
    const last = page.at(-1);
    if (page.length < 1_000 || !last) break;
    before = { createdAt: last.createdAt, id: last.id };
  }
  for (const id of world.acknowledgedEvents) {
    const count = stored.get(id) ?? 0;
    if (count !== 1) violations.push(`event "${id}" was acknowledged but is stored ${count} times`);
  }
  for (const again of world.ledger.reexecutions.slice(0, 5)) {
    violations.push(
      `step "${again.step}" of run "${again.runId}" ran again on ${again.process} after its outcome was recorded`,
    );
  }
  for (const id of ends.keys()) violations.push(...(await checkJournal(world, id as RunId)));
  return violations;
}

/** One final outcome per step key, and no sleep that ended before its wake time. */
async function checkJournal(world: SimWorld, runId: RunId): Promise<string[]> {
  const violations: string[] = [];
  const seen = new Set<string>();
  for (const entry of await world.store.getJournal(runId)) {
    const final = entry.status === "completed" || entry.status === "failed";
    if (final && seen.has(entry.key)) {
      violations.push(`run "${runId}": the journal holds two outcomes for step "${entry.key}"`);
    }
    if (final) seen.add(entry.key);
    if (
      entry.kind === "sleep" &&
      entry.status === "completed" &&
      entry.wakeAt !== null &&
      entry.finishedAt !== null &&
      entry.finishedAt < entry.wakeAt
    ) {
      violations.push(
        `run "${runId}": sleep "${entry.key}" ended ${entry.wakeAt - entry.finishedAt} ms before its wake time`,
      );
    }
  }
  return violations;
}
