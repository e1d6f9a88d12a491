/**
 * The fault scenarios' checks beyond the crash tests' order checker: the journal's
 * uniqueness (I3), every acknowledged start completed (G5, G7), the timers (G4: fired,
 * never early) and the events (Q-E1: each resumed its run exactly once, whether sent before
 * or after the wait began), and the throughput during the load.
 */
import { isDeepStrictEqual } from "node:util";
import type { FinalRun } from "../crash/check-orders.ts";
import { stepId } from "../crash/db.ts";
import { expectedSleepOutput } from "../crash/fixtures/model.ts";
import { type EffectRecord, effects, type LedgerRecord } from "../crash/ledger.ts";
import { summary, type Violations } from "../crash/stats.ts";
import { expectedPaymentOutput } from "./fixtures/workflows.ts";
import type { Item, Payment } from "./load.ts";
import type { Inspector } from "./pg-inspect.ts";

export interface VerdictInput {
  inspect: Inspector;
  ledger: readonly LedgerRecord[];
  final: ReadonlyMap<string, FinalRun>;
  items: readonly Item[];
  payments: readonly Payment[];
  sleeps: number;
  /** Throughput windows run from `t0` to `end`, skipping those that overlap an outage. */
  t0: number;
  end: number;
  outages: readonly { from: number; to: number }[];
}

export async function judgeLoad(v: Violations, input: VerdictInput) {
  const { inspect, final } = input;

  // Journal uniqueness (I3): the constraint exists, and the data agree.
  const uniqueKeys = await inspect.journalUniqueKeys();
  if (!uniqueKeys.some((cols) => cols.join(",") === "key,run_id")) {
    v.add(`no UNIQUE (run_id, key) on steps: ${JSON.stringify(uniqueKeys)}`);
  }
  const journalDuplicates = await inspect.journalDuplicates();
  for (const d of journalDuplicates) v.add(`journal duplicate ${JSON.stringify(d)}`);

  // Every acknowledged start exists and completed (G5, G7).
  for (const item of input.items) {
    const run = final.get(item.id);
    if (!run) v.add(`${item.id}: acknowledged start lost`);
    else if (run.status !== "completed") v.add(`${item.id}: ${run.status} (${run.error})`);
  }

  const byRunStep = new Map<string, EffectRecord[]>();
  for (const e of effects(input.ledger)) {
    const key = stepId(e.run, e.step);
    byRunStep.set(key, [...(byRunStep.get(key) ?? []), e]);
  }
  const firstEffect = (run: string, step: string) =>
    Math.min(...(byRunStep.get(stepId(run, step)) ?? []).map((e) => e.t));
  // A due time is on the engine's clock (the database's, through each process's measured
  // offset), not on the worker's wall clock: a step after a sleep is checked on the clock
  // of the engine that ran it, which is the clock that decided the timer was due.
  const firstEngineEffect = (run: string, step: string) =>
    Math.min(...(byRunStep.get(stepId(run, step)) ?? []).map((e) => e.engineT ?? e.t));
  const rows = await inspect.sql`SELECT run_id, key, wake_at, started_at, event_id FROM steps`;
  const entry = (run: string, key: string) =>
    rows.find((r) => r.run_id === run && r.key === key) as
      | { wake_at: string | null; started_at: string | null; event_id: string | null }
      | undefined;

  // Timers (G4): every sleep fired, never early.
  const timerLateness: number[] = [];
  let earlyTimers = 0;
  for (let k = 1; k <= input.sleeps; k++) {
    const id = `sleep-${k}`;
    const run = final.get(id);
    if (run?.status === "completed" && !same(run.output, expectedSleepOutput(k))) {
      v.add(`${id}: output ${JSON.stringify(run.output)}`);
    }
    const dueAt = Number(entry(id, "wait")?.wake_at ?? Number.NaN);
    const before = firstEffect(id, "before");
    const after = firstEngineEffect(id, "after");
    if (!Number.isFinite(before) || !Number.isFinite(after)) {
      v.add(`${id}: the steps around the sleep did not both run`);
      continue;
    }
    if (!(after >= dueAt)) {
      earlyTimers++;
      v.add(`${id}: the step after the sleep ran at ${after}, before ${dueAt}`);
    }
    timerLateness.push(after - dueAt);
  }

  // Events (Q-E1): every acknowledged event resumed its run, exactly once.
  const eventUses = new Map<string, number>();
  for (const r of rows) {
    if (r.event_id) eventUses.set(r.event_id, (eventUses.get(r.event_id) ?? 0) + 1);
  }
  let eventsBeforeWait = 0;
  let eventsAfterWait = 0;
  const eventToResume: number[] = [];
  for (const p of input.payments) {
    const run = final.get(p.id);
    const expected = expectedPaymentOutput(p.n);
    if (run?.status === "completed" && !same(run.output, expected)) {
      v.add(`${p.id}: output ${JSON.stringify(run.output)}, expected ${JSON.stringify(expected)}`);
    }
    const uses = eventUses.get(expected.eventId ?? "") ?? 0;
    if (uses !== 1) v.add(`${p.id}: its event was consumed ${uses} times`);
    const waitStartedAt = Number(entry(p.id, "paid")?.started_at ?? Number.NaN);
    if (p.eventAckAt === undefined) continue;
    if (p.eventAckAt < waitStartedAt) eventsBeforeWait++;
    else {
      eventsAfterWait++;
      // From the acknowledgement to the step after the wait running.
      eventToResume.push(firstEffect(p.id, "receipt") - p.eventAckAt);
    }
  }

  // Throughput during the load: step effects in every 5 s window (outages aside).
  const effectsPer5s: number[] = [];
  const all = effects(input.ledger);
  for (let from = input.t0; from + 5000 <= input.end; from += 5000) {
    if (input.outages.some((x) => x.from < from + 5000 && x.to > from)) continue;
    effectsPer5s.push(all.filter((e) => e.t >= from && e.t < from + 5000).length);
  }

  return {
    journalDuplicates: journalDuplicates.length,
    journalUnique: uniqueKeys.map((cols) => cols.join("+")),
    timers: input.sleeps,
    earlyTimers,
    timerLatenessMs: summary(timerLateness),
    events: input.payments.length,
    eventsBeforeWait,
    eventsAfterWait,
    eventToResumeMs: summary(eventToResume),
    effectsPer5s,
  };
}

const same = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);
