import type { JournalOp, JournalOpResult, Store } from "../store/store.ts";
import type { SimProcess } from "./sim-process.ts";

/** A storage error the simulation made up, as a disk or network would raise one. */
export class SimulatedStorageError extends Error {
  override name = "SimulatedStorageError";
  readonly code = "SQLITE_IOERR";
}

/** What a simulated process sees after it crashed: nothing it asks for happens any more. */
export class SimulatedCrash extends Error {
  override name = "SimulatedCrash";
}

/**
 * What happens to one store call: it goes through, fails before reaching the database,
 * fails after the database applied it (the caller cannot tell which), or — only when the
 * simulation tests its own checks — is acknowledged without being applied (a lying disk).
 */
export type CallFault = "none" | "fail-before" | "fail-after" | "acknowledged-but-lost";

/** What the world decides and learns about the calls of every process's store. */
export interface StoreCallHooks {
  /** A store call began or ended: the world is not quiet yet. */
  activity(): void;
  /** The fault for this call, drawn from the seed. */
  fault(process: SimProcess, method: string): CallFault;
  /** The process dies now. */
  crash(process: SimProcess): void;
  /** A journal entry's final outcome was acknowledged as durable to the engine. */
  recorded(runId: string, key: string): void;
  /** A write was fenced: the run was no longer this process's. */
  fenced(): void;
  /** The process read a run's journal. */
  journalRead(runId: string): void;
  /** An admission leased `runs` runs to the process in its own write (see `RunAdmission.claim`). */
  admissionClaims(runs: number): void;
}

/** Calls that reach the database; the rest of the store passes through untouched. */
const guarded = new Set([
  "createRun",
  "getRun",
  "getJournal",
  "getJournals",
  "claimRuns",
  "renewLeases",
  "commit",
  "nextWakeAt",
  "sendEvent",
  "sendSignal",
  "transactionalStep",
  "cancelRun",
  "pendingAdmission",
  "admitRuns",
]);

/**
 * Calls whose effect a retry must not repeat: a signal has no id, so a sender that saw an
 * error cannot know whether it arrived. Those fail only before the database.
 */
const failOnlyBefore = new Set(["sendSignal"]);

/**
 * One simulated process's view of the shared, real store. Every call of the engine's
 * worker goes through it, so the simulation can fail it, crash the process at it, or hold
 * it while the process is stalled. The database underneath is never mocked.
 */
export function faultyStoreView(inner: Store, process: SimProcess, hooks: StoreCallHooks): Store {
  const call = async (method: string, args: unknown[]): Promise<unknown> => {
    // A dead process's engine still winds down (its close runs on a real 0 ms timer): its
    // calls must not count as activity, or when they land would decide when a turn ends.
    if (process.dead) throw new SimulatedCrash(`${process.name} is dead`);
    hooks.activity();
    if (process.stalled) {
      await new Promise<void>((resume) => process.held.push(resume));
      if (process.dead) throw new SimulatedCrash(`${process.name} is dead`);
    }
    const crash = process.armed ? process.takeCrash() : undefined;
    const onlyBefore = failOnlyBefore.has(method);
    if (crash === "before" || (crash === "after" && onlyBefore)) {
      hooks.crash(process);
      throw new SimulatedCrash(`${process.name} crashed calling ${method}`);
    }
    let fault = process.armed ? hooks.fault(process, method) : "none";
    if (onlyBefore && fault === "fail-after") fault = "fail-before";
    if (fault === "fail-before") throw new SimulatedStorageError(`${method} failed (simulated)`);
    const target = inner as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    let result: unknown;
    if (fault === "acknowledged-but-lost" && method === "commit") {
      result = (args[0] as JournalOp[]).map(() => ({ ok: true }));
    } else {
      result = await (target[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    }
    learn(method, args, result, hooks);
    if (!process.dead) hooks.activity();
    if (crash === "after") {
      hooks.crash(process);
      throw new SimulatedCrash(`${process.name} crashed after ${method} was applied`);
    }
    if (fault === "fail-after") {
      throw new SimulatedStorageError(`${method} failed after it was applied (simulated)`);
    }
    return result;
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "close") return async () => {}; // the world closes the shared store
      if (typeof prop === "string" && guarded.has(prop)) {
        return (...args: unknown[]) => call(prop, args);
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Notes what reached the database: final journal outcomes, fenced writes, journal reads, runs
 * taken by admissions.
 */
function learn(method: string, args: unknown[], result: unknown, hooks: StoreCallHooks): void {
  if (method === "getJournal") hooks.journalRead(args[0] as string);
  else if (method === "getJournals") for (const id of args[0] as string[]) hooks.journalRead(id);
  else if (method === "commit") {
    const ops = args[0] as JournalOp[];
    const results = result as JournalOpResult[];
    ops.forEach((op, i) => {
      const outcome = results[i];
      if (!outcome?.ok) {
        if (outcome) hooks.fenced();
        return;
      }
      if (op.type === "entry" && isFinal(op.entry.status)) hooks.recorded(op.runId, op.entry.key);
    });
  } else if (method === "admitRuns") {
    hooks.admissionClaims((result as { claimed: unknown[] }).claimed.length);
  } else if (method === "transactionalStep") {
    const op = args[0] as { runId: string; entry: { key: string } };
    if ((result as { ok: boolean }).ok) hooks.recorded(op.runId, op.entry.key);
    else hooks.fenced();
  }
}

function isFinal(status: string): boolean {
  return status === "completed" || status === "failed";
}
