/**
 * The checker of the order kill loops. It reads only what lives outside the engine (the
 * side-effect ledger, the kill log) plus read-only snapshots of the database taken right
 * after each kill, and turns them into violations (must be none) and figures (printed).
 *
 * It holds for one worker process or several sharing the file: lifetimes may overlap, so
 * every rule is stated per lifetime or against wall time (all processes share one clock).
 */
import { isDeepStrictEqual } from "node:util";
import type { DbSnapshot } from "./db.ts";
import { stepId } from "./db.ts";
import {
  expectedOrderOutput,
  failuresBeforeSuccess,
  type OrderInput,
  orderInput,
  orderStages,
} from "./fixtures/model.ts";
import type { ClaimRecord, EffectRecord, LedgerRecord, StallRecord, UpRecord } from "./ledger.ts";
import { summary, Violations } from "./stats.ts";

export interface Lifetime {
  life: number;
  pid: number;
  spawnedAt: number;
  /** Wall time at which its death by SIGKILL was observed; undefined if it ran to the end. */
  killedAt?: number;
  /** The last progress message seen before the kill: "spawned", "up" or "started". */
  phase: string;
  /** Spawn to "up" (Cairn open, worker about to start), ms, when it got that far. */
  upAfterMs?: number;
  /** "up" to "started" (every run (re)started), ms, when it got that far. */
  startLoopMs?: number;
  /** What the database showed right after the kill (killed lifetimes only). */
  kill?: KillDigest;
}

/** What the checker keeps of the database as one kill left it. */
export interface KillDigest {
  /** Wall time once the snapshot was read. */
  readAt: number;
  /** How long the read-only inspection (integrity check included) took. */
  ms: number;
  /** The runs the killed process held (running under its lease) at its death. */
  held: { id: string; leaseUntil: number | null }[];
  completedRuns: number;
}

/**
 * Digests the snapshot taken after each kill, in kill order, and lets it go (a soak takes
 * hundreds): integrity, nothing durable lost or changed since the previous one (G1, G7),
 * and when each step was first seen completed (or failed at some attempt).
 */
export class SnapshotTracker {
  readonly violations = new Violations();
  /** Step (`stepId`) → when a snapshot first showed it completed. */
  readonly completedBy = new Map<string, number>();
  /** Step → the snapshots that showed it failed at an attempt, to be retried. */
  readonly retryingBy = new Map<string, { at: number; attempt: number }[]>();
  #previous: DbSnapshot | undefined;

  digest(life: number, pid: number, snap: DbSnapshot): KillDigest {
    const where = `after the kill of lifetime ${life}`;
    this.#check(snap, where);
    for (const [id, step] of snap.steps) {
      if (step.kind !== "step") continue;
      if (step.status === "completed" && !this.completedBy.has(id)) {
        this.completedBy.set(id, snap.readAt);
      }
      if (step.status === "retrying") {
        const list = this.retryingBy.get(id) ?? [];
        list.push({ at: snap.readAt, attempt: step.attempt });
        this.retryingBy.set(id, list);
      }
    }
    const runs = [...snap.runs.values()];
    return {
      readAt: snap.readAt,
      ms: snap.ms,
      held: runs
        .filter((r) => r.status === "running" && r.lease_owner?.split(":").at(-2) === String(pid))
        .map((r) => ({ id: r.id, leaseUntil: r.available_at })),
      completedRuns: runs.filter((r) => r.status === "completed").length,
    };
  }

  /** The database after the last lifetime exited. */
  final(snap: DbSnapshot): void {
    this.#check(snap, "the final state");
  }

  #check(snap: DbSnapshot, where: string): void {
    const v = this.violations;
    if (snap.integrity.length !== 1 || snap.integrity[0] !== "ok") {
      v.add(`${where}: integrity_check = ${snap.integrity.join("; ")}`);
    }
    if (snap.foreignKeyViolations > 0) {
      v.add(`${where}: ${snap.foreignKeyViolations} foreign key violations`);
    }
    if (!snap.schemaConsistent) v.add(`${where}: half-applied schema`);
    if (this.#previous) compareSnapshots(v, this.#previous, snap, where);
    this.#previous = snap;
  }
}

export interface FinalRun {
  id: string;
  status: string;
  output: unknown;
  /** `name: message` of the run's error, if it failed. */
  error: string | null;
  steps: { key: string; kind: string; status: string; attempt: number }[];
}

export interface OrderCheckInput {
  seed: number;
  runs: number;
  t0: number;
  windowMs: number;
  lifetimes: readonly Lifetime[];
  ledger: readonly LedgerRecord[];
  final: ReadonlyMap<string, FinalRun>;
  /** Has digested every kill's snapshot and the final one. */
  snapshots: SnapshotTracker;
  /** A run the killed process held must be claimed within this long of its lease expiring (or of a worker coming up, if later). */
  maxTakeoverLagMs: number;
  leaseMs: number;
  /**
   * How far two processes' engine clocks may disagree: on PostgreSQL each follows the
   * database's by an offset measured over a round trip, so a lease's end (the owner's clock)
   * and a claim's `now` (the claimer's) can differ by a few ms. (Default: 0)
   */
  clockToleranceMs?: number;
  /**
   * When the database was down or frozen (the PostgreSQL fault tests; none on SQLite). A
   * live process may then lose a run it held (its checkpoint write failed) and claim it
   * back, repeating what was not durable; and a commit in flight may have committed
   * without its answer arriving.
   */
  outages?: readonly { from: number; to: number }[];
}

/** The fixtures' steps record their effect within ~40 ms of starting; slack for a busy machine. */
const stepStartSlackMs = 1000;

/** How long before an outage a commit may have been sent and still be caught in it. */
const outageCommitMs = 2000;

/** Most steps of one run that can be in flight at once (the parallel reserves). */
const maxParallelSteps = 3;

type Indexed<R> = { record: R; index: number };

export function checkOrders(input: OrderCheckInput) {
  const v = input.snapshots.violations;
  const { completedBy, retryingBy } = input.snapshots;
  const { seed, runs, lifetimes, ledger } = input;
  const orders = new Map<string, OrderInput>();
  for (let i = 1; i <= runs; i++) {
    const order = orderInput(seed, i, runs, input.t0, input.windowMs);
    orders.set(order.id, order);
  }
  const killed = lifetimes.filter((l) => l.killedAt !== undefined);

  // ---- the processes: the pid we killed was the one doing the work, and it stayed dead ----
  for (const [index, record] of ledger.entries()) {
    const lifetime = lifetimes[record.life];
    if (!lifetime) {
      v.add(`ledger line ${index + 1} names unknown lifetime ${record.life}`);
      continue;
    }
    if (record.pid !== lifetime.pid) {
      v.add(
        `ledger line ${index + 1}: pid ${record.pid} is not lifetime ${record.life}'s ${lifetime.pid}`,
      );
    }
    if (lifetime.killedAt !== undefined && record.t > lifetime.killedAt) {
      v.add(`ledger line ${index + 1}: lifetime ${record.life} wrote after it was killed`);
    }
  }

  const byKill = [...killed].sort((a, b) => (a.killedAt ?? 0) - (b.killedAt ?? 0));

  // ---- the final state: every run completed with the output its input determines ----
  for (const [id, order] of orders) {
    const run = input.final.get(id);
    if (!run) {
      v.add(`${id}: missing after the final lifetime (lost start)`);
      continue;
    }
    if (run.status !== "completed") {
      v.add(`${id}: status ${run.status}, expected completed`);
      continue;
    }
    if (!isDeepStrictEqual(run.output, expectedOrderOutput(order))) {
      v.add(`${id}: wrong output ${JSON.stringify(run.output)}`);
    }
    const expectedKeys = orderStages(order).flat();
    const stepEntries = run.steps.filter((s) => s.kind === "step");
    const keys = stepEntries.map((s) => s.key).sort();
    if (!isDeepStrictEqual(keys, [...expectedKeys].sort())) {
      v.add(`${id}: journal steps ${keys.join(",")}, expected ${expectedKeys.join(",")}`);
    }
    for (const entry of stepEntries) {
      const attempts = failuresBeforeSuccess(seed, id, entry.key) + 1;
      if (entry.status !== "completed" || entry.attempt !== attempts) {
        v.add(
          `${id}/${entry.key}: journal says ${entry.status} at attempt ${entry.attempt}, expected completed at ${attempts}`,
        );
      }
    }
  }

  // ---- the ledger, run by run ----
  const effects: Indexed<EffectRecord>[] = [];
  const claimsByRun = new Map<string, Indexed<ClaimRecord>[]>();
  const stalls: StallRecord[] = [];
  for (const [index, record] of ledger.entries()) {
    if (record.type === "effect") effects.push({ record, index });
    if (record.type === "stall") stalls.push(record);
    if (record.type === "claim") {
      const list = claimsByRun.get(record.run) ?? [];
      list.push({ record, index });
      claimsByRun.set(record.run, list);
    }
  }
  const byRun = new Map<string, Indexed<EffectRecord>[]>();
  for (const e of effects) {
    const list = byRun.get(e.record.run) ?? [];
    list.push(e);
    byRun.set(e.record.run, list);
  }
  for (const run of byRun.keys()) {
    if (!orders.has(run)) v.add(`ledger has effects of unknown run ${run}`);
  }
  const aliveAt = (life: number, t: number) => {
    const killedAt = lifetimes[life]?.killedAt;
    return killedAt === undefined || killedAt > t;
  };
  const outages = input.outages ?? [];
  // An outage lasts, for the leases, until those renewed just before it have run out.
  const duringOutage = (from: number, to: number) =>
    outages.some((o) => o.from <= to && o.to + input.leaseMs >= from);
  /**
   * `life` claimed the run again (it had lost it) before `repeat`, and after `earlier`'s
   * step began: its effect comes at most {@link stepStartSlackMs} into the step. The claim
   * supersedes the execution that ran `earlier`.
   */
  const reclaimedBy = (
    run: string,
    life: number,
    earlier: Indexed<EffectRecord>,
    repeat: Indexed<EffectRecord>,
  ) =>
    (claimsByRun.get(run) ?? []).some(
      (c) =>
        c.record.life === life &&
        c.index < repeat.index &&
        (c.index > earlier.index || c.record.t >= earlier.record.t - stepStartSlackMs),
    );
  /**
   * Another process claimed the run from `life` while `life` was alive, between two ledger
   * positions: only possible if `life` let its lease lapse (the claim requires it).
   */
  const takenOverFrom = (run: string, life: number, after: number, before: number) =>
    (claimsByRun.get(run) ?? []).find(
      (c) =>
        c.index > after && c.index < before && c.record.life !== life && aliveAt(life, c.record.t),
    )?.record;
  let duplicates = 0;
  let zombieDuplicates = 0;
  let zombieEffects = 0;
  let outageDuplicates = 0;
  let lost = 0;
  const duplicatesFromLife = new Map<number, number>();
  for (const [id, order] of orders) {
    const all = byRun.get(id) ?? [];
    const stages = orderStages(order);
    const stageOf = new Map(stages.flatMap((keys, s) => keys.map((k) => [k, s] as const)));
    /** Causal rank: a higher rank begins only once every lower one is durable. */
    const rank = (e: EffectRecord) =>
      (stageOf.get(e.step) ?? -1) * 100 + (e.step === "ship" ? e.attempt : 0);

    // Nothing lost, nothing unexpected, one idempotency key per step.
    for (const step of stages.flat()) {
      const attempts = failuresBeforeSuccess(seed, id, step) + 1;
      for (let a = 1; a <= attempts; a++) {
        if (!all.some((e) => e.record.step === step && e.record.attempt === a)) {
          lost++;
          v.add(`${id}/${step}: attempt ${a} never ran (lost effect)`);
        }
      }
    }
    for (const { record } of all) {
      const attempts = failuresBeforeSuccess(seed, id, record.step) + 1;
      if (!stageOf.has(record.step) || record.attempt < 1 || record.attempt > attempts) {
        v.add(`${id}: unexpected effect ${record.step} attempt ${record.attempt}`);
      }
      if (record.key !== `${id}:${record.step}`) {
        v.add(
          `${id}/${record.step}: idempotencyKey "${record.key}", expected "${id}:${record.step}"`,
        );
      }
    }

    // Effects of a zombie: written after another process took the run over from it. They
    // are the tail of steps it had in flight when it stalled; it must start nothing new.
    // The latest claim is the one with the highest token, not the last one in the ledger:
    // two claims answered together (a database resuming from a pause) may append their
    // records in either order, and the earlier claim's holder fences itself at once.
    const list: Indexed<EffectRecord>[] = [];
    const zombieRanks = new Map<number, Set<number>>();
    for (const e of all) {
      const latest = (claimsByRun.get(id) ?? [])
        .filter((c) => c.index < e.index)
        .reduce<ClaimRecord | undefined>(
          (top, c) => (top && top.token > c.record.token ? top : c.record),
          undefined,
        );
      if (!latest || latest.life === e.record.life) {
        list.push(e);
        continue;
      }
      zombieEffects++;
      const ranks = zombieRanks.get(e.record.life) ?? new Set<number>();
      ranks.add(rank(e.record));
      zombieRanks.set(e.record.life, ranks);
    }
    for (const [life, ranks] of zombieRanks) {
      if (ranks.size > 1) {
        v.add(`${id}: lifetime ${life} went on to new steps after losing the run (G3)`);
      }
    }

    // Causal order: charge → ship (attempt by attempt) → reserve-i → email.
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1]?.record;
      const after = list[i]?.record;
      if (before && after && rank(after) < rank(before)) {
        v.add(
          `${id}: ${after.step}#${after.attempt} (life ${after.life}) ran after ${before.step}#${before.attempt} (life ${before.life}): out of causal order`,
        );
      }
    }

    // Repeats: only of what was not durable, only after its executor died (or lost the
    // run while stalled).
    const seen = new Map<string, Indexed<EffectRecord>>();
    for (const e of list) {
      const { record } = e;
      const stepKey = stepId(id, record.step);
      const doneBy = completedBy.get(stepKey);
      if (doneBy !== undefined && record.t > doneBy) {
        v.add(
          `${id}/${record.step}: ran in lifetime ${record.life} after its completion was durable (G1)`,
        );
      }
      for (const r of retryingBy.get(stepKey) ?? []) {
        if (record.t > r.at && record.attempt <= r.attempt) {
          v.add(
            `${id}/${record.step}: attempt ${record.attempt} ran in lifetime ${record.life} after attempt ${r.attempt} had failed durably`,
          );
        }
      }
      const identity = `${record.step}#${record.attempt}`;
      const earlier = seen.get(identity);
      seen.set(identity, e);
      if (!earlier) continue;
      duplicates++;
      const from = earlier.record.life;
      if (
        from === record.life &&
        duringOutage(earlier.record.t, record.t) &&
        reclaimedBy(id, from, earlier, e)
      ) {
        // The database went away while the step's checkpoint was in flight: the process
        // lost the run, claimed it back once it could, and ran the step again (G2).
        outageDuplicates++;
      } else if (from === record.life) {
        v.add(`${id}/${identity}: ran twice in lifetime ${from} (no kill in between)`);
      } else if (takenOverFrom(id, from, earlier.index, e.index)) {
        // Another worker took the run from a live owner in between: the owner stalled past
        // its lease (whether the lease had really run out is checked claim by claim below).
        zombieDuplicates++;
      } else if (aliveAt(from, record.t)) {
        v.add(
          `${id}/${identity}: repeated in lifetime ${record.life} while lifetime ${from} was alive and held the run (G3)`,
        );
      } else {
        duplicatesFromLife.set(from, (duplicatesFromLife.get(from) ?? 0) + 1);
      }
      // The first execution was the last thing its lifetime did for this run: nothing
      // that waits for its checkpoint ran after it there.
      const dependent = list.find(
        (x) =>
          x.index > earlier.index &&
          x.index < e.index &&
          x.record.life === from &&
          rank(x.record) > rank(earlier.record),
      );
      if (dependent) {
        v.add(
          `${id}/${identity}: repeated after lifetime ${from} although ${dependent.record.step}#${dependent.record.attempt} ran after it there (its checkpoint was durable)`,
        );
      }
    }
  }

  // ---- fencing (G3): a run is claimed only once its previous lease ended or was given up ----
  const leaseEnd = new Map<
    string,
    { life: number; until: number; released: boolean; maybeReleased: boolean }
  >();
  const lease = (run: string, token: number) => {
    const key = `${run}#${token}`;
    let entry = leaseEnd.get(key);
    if (!entry) {
      entry = { life: -1, until: 0, released: false, maybeReleased: false };
      leaseEnd.set(key, entry);
    }
    return entry;
  };
  for (const record of ledger) {
    if (record.type === "adopt" || record.type === "claim") {
      const entry = lease(record.run, record.token);
      entry.life = record.life;
      entry.until = Math.max(entry.until, record.until);
    } else if (record.type === "renew") {
      for (const [run, token] of record.leases) {
        const entry = lease(run, token);
        entry.until = Math.max(entry.until, record.until);
      }
    } else if (record.type === "release") {
      lease(record.run, record.token).released = true;
    } else if (
      record.type === "releasing" &&
      (lifetimes[record.life]?.killedAt !== undefined ||
        duringOutage(record.t, record.t + outageCommitMs))
    ) {
      // Killed between its commit and the confirmation, maybe, or the database went away
      // meanwhile: the commit may have let go.
      lease(record.run, record.token).maybeReleased = true;
    }
  }
  // Every successful renewal or release under a token commits before the next claim (which
  // changes the token), whatever order the processes appended their records in.
  let takeovers = 0;
  let unverifiableClaims = 0;
  for (const record of ledger) {
    if (record.type !== "claim") continue;
    const previous = leaseEnd.get(`${record.run}#${record.token - 1}`);
    if (!previous || previous.released) continue;
    if (previous.life !== record.life) takeovers++;
    if (previous.maybeReleased) {
      unverifiableClaims++;
      continue;
    }
    if (previous.until > record.now + (input.clockToleranceMs ?? 0)) {
      v.add(
        `${record.run}: claimed by lifetime ${record.life} (token ${record.token}) at ${record.now} while lifetime ${previous.life}'s lease ran until ${previous.until} (G3)`,
      );
    }
  }

  // Each kill can only repeat steps of the runs the killed process held.
  const heldAtKill = new Map<number, { id: string; leaseUntil: number | null }[]>();
  for (const lifetime of killed) {
    const held = lifetime.kill?.held ?? [];
    heldAtKill.set(lifetime.life, held);
    const dups = duplicatesFromLife.get(lifetime.life) ?? 0;
    if (dups > held.length * maxParallelSteps) {
      v.add(
        `kill of lifetime ${lifetime.life}: ${dups} repeated steps but it held only ${held.length} runs`,
      );
    }
  }

  // ---- recovery: how fast a live worker took over the runs a killed one held ----
  const ups = new Map<number, UpRecord>();
  for (const record of ledger) {
    if (record.type === "up") ups.set(record.life, record);
  }
  const takeoverLag: number[] = [];
  const killToResume: number[] = [];
  for (const lifetime of killed) {
    const killedAt = lifetime.killedAt ?? 0;
    for (const { id, leaseUntil } of heldAtKill.get(lifetime.life) ?? []) {
      const claim = (claimsByRun.get(id) ?? []).find(
        (c) => c.record.life !== lifetime.life && c.record.t >= killedAt,
      )?.record;
      if (!claim) {
        v.add(`${id}: held by killed lifetime ${lifetime.life} and never claimed again`);
        continue;
      }
      const up = ups.get(claim.life);
      if (!up) continue;
      const lag = claim.t - Math.max(leaseUntil ?? 0, up.t);
      takeoverLag.push(lag);
      killToResume.push(claim.t - killedAt);
      if (lag > input.maxTakeoverLagMs) {
        v.add(
          `${id}: taken over ${lag} ms after its lease expired (by lifetime ${claim.life}); bound ${input.maxTakeoverLagMs} ms`,
        );
      }
      // Judged as the G3 check above: the claimer's engine clock against the owner's lease
      // end, within the clocks' tolerance. Its wall-clock `t` was off by a millisecond once
      // on PostgreSQL, where each engine clock follows the database's by a measured offset.
      if (leaseUntil !== null && claim.now + (input.clockToleranceMs ?? 0) < leaseUntil) {
        v.add(
          `${id}: claimed at ${claim.now}, before the dead owner's lease expired at ${leaseUntil} (G3)`,
        );
      }
    }
  }

  const lastKilled = byKill.at(-1)?.kill;
  const figures = {
    seed,
    runs,
    steps: [...orders.values()].reduce((n, o) => n + orderStages(o).flat().length, 0),
    lifetimes: lifetimes.length,
    kills: killed.length,
    killsBeforeWorkerUp: killed.filter((l) => l.phase === "spawned").length,
    killsInterruptingRuns: [...heldAtKill.values()].filter((r) => r.length > 0).length,
    runsHeldAtKills: [...heldAtKill.values()].reduce((n, r) => n + r.length, 0),
    completedBeforeLastKill: lastKilled?.completedRuns ?? 0,
    effects: effects.length,
    lost,
    duplicates,
    takeovers,
    unverifiableClaims,
    // Runs leased by the write that created or admitted them, not by a claim.
    adoptions: ledger.filter((r) => r.type === "adopt").length,
    // Claims whose record came after a later claim's (a higher token) of the same run.
    claimsRecordedOutOfOrder: [...claimsByRun.values()].reduce(
      (n, claims) =>
        n +
        claims.filter((c, i) => claims.slice(0, i).some((b) => b.record.token > c.record.token))
          .length,
      0,
    ),
    zombieDuplicates,
    zombieEffects,
    outageDuplicates,
    stalls: stalls.length,
    maxStallMs: Math.max(0, ...stalls.map((s) => s.ms)),
    maxDuplicatesPerKill: Math.max(0, ...duplicatesFromLife.values()),
    takeoverLagMs: summary(takeoverLag),
    killToResumeMs: summary(killToResume),
    spawnToUpMs: summary(
      lifetimes.flatMap((l) => (l.upAfterMs === undefined ? [] : [l.upAfterMs])),
    ),
    startLoopMs: summary(
      lifetimes.flatMap((l) => (l.startLoopMs === undefined ? [] : [l.startLoopMs])),
    ),
    integrityCheckMs: summary(killed.map((l) => l.kill?.ms ?? 0)),
  };
  return { violations: v, figures };
}

/** What was durable at one kill must still be there, unchanged, at the next (G1, G7). */
function compareSnapshots(v: Violations, before: DbSnapshot, after: DbSnapshot, where: string) {
  for (const [id, run] of before.runs) {
    const later = after.runs.get(id);
    if (!later) {
      v.add(`${where}: run ${id} disappeared (G7)`);
      continue;
    }
    if (later.fencing_token < run.fencing_token) {
      v.add(
        `${where}: run ${id} fencing token went back from ${run.fencing_token} to ${later.fencing_token}`,
      );
    }
    if (
      run.status === "completed" &&
      (later.status !== "completed" || later.output !== run.output)
    ) {
      v.add(`${where}: completed run ${id} changed to ${later.status}`);
    }
  }
  for (const [id, step] of before.steps) {
    const later = after.steps.get(id);
    const name = `${step.run_id}/${step.key}`;
    if (!later) {
      v.add(`${where}: journal entry ${name} disappeared (G7)`);
      continue;
    }
    if (later.position !== step.position || later.kind !== step.kind) {
      v.add(`${where}: journal entry ${name} moved`);
    }
    if (
      step.status === "completed" &&
      (later.status !== "completed" || later.output !== step.output)
    ) {
      v.add(`${where}: completed journal entry ${name} changed (G1)`);
    }
    if (later.attempt < step.attempt) {
      v.add(
        `${where}: journal entry ${name} attempt went back from ${step.attempt} to ${later.attempt}`,
      );
    }
  }
}
