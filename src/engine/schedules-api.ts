import { CairnError } from "../core/errors.ts";
import { checkName } from "../core/names.ts";
import { deserialize, serialize } from "../core/serializer.ts";
import type { RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import { yieldToEventLoop } from "../core/yield-to-event-loop.ts";
import type {
  CatchupPolicy,
  OverlapPolicy,
  ScheduleRecord,
  ScheduleStore,
} from "../store/schedule-store.ts";
import { validateCron } from "./cron.ts";
import { firstSlotAfter, previewSlots, slotRun, slotsBetween } from "./scheduler.ts";
import { validateInput } from "./validate-input.ts";

/** The most slots one backfill creates runs for; a larger range is refused, never cut. */
export const maxBackfillSlots = 100_000;
/** About how long one backfill transaction may take, in ms. */
const chunkMs = 20;

export interface ScheduleSpec {
  /** (Default: a random id) */
  id?: string;
  workflow: string;
  cron: string;
  /** IANA time zone. (Default: "UTC") */
  tz?: string;
  /** The input of every run. */
  input?: unknown;
  /** (Default: "skip") */
  overlap?: OverlapPolicy;
  /** (Default: "latest") */
  catchup?: CatchupPolicy;
  paused?: boolean;
}

/** A schedule as the API shows it. */
export interface ScheduleInfo {
  id: string;
  workflow: string;
  cron: string;
  tz: string;
  input: unknown;
  overlap: OverlapPolicy;
  catchup: CatchupPolicy;
  paused: boolean;
  /** The next slot the scheduler will handle. */
  nextAt: Date;
  source: "trigger" | "api";
  createdAt: Date;
  updatedAt: Date;
}

interface Engine {
  store: ScheduleStore;
  now(): number;
  payloadLimitBytes: number;
  /** The workflow's name if this process or any worker registered it; throws `WORKFLOW_NOT_FOUND`. */
  resolveName(name: string): Promise<string>;
  registered(name: string): Workflow<unknown, unknown> | undefined;
  notify(): void;
}

/**
 * Cron schedules over any workflow: create, pause, resume, backfill, preview. The
 * scheduler duty of every worker fires them (see `planSchedule`); at most one run per slot.
 */
export class Schedules {
  readonly #engine: Engine;

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** Creates or replaces a schedule. @throws `WORKFLOW_NOT_FOUND`, `INVALID_ARGUMENT` (bad cron, zone or policy) */
  async create(spec: ScheduleSpec): Promise<ScheduleInfo> {
    const tz = spec.tz ?? "UTC";
    const id = checkName("schedule id", spec.id ?? crypto.randomUUID());
    checkName("workflow name", spec.workflow);
    const where = `schedule "${id}"`;
    const workflow = { name: await this.#engine.resolveName(spec.workflow) };
    validateCron(spec.cron, tz, where);
    const overlap = spec.overlap ?? "skip";
    const catchup = spec.catchup ?? "latest";
    if (!["skip", "queue", "allow"].includes(overlap)) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        `${where}: overlap must be "skip", "queue" or "allow".`,
      );
    }
    if (!["none", "latest", "all"].includes(catchup)) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        `${where}: catchup must be "none", "latest" or "all".`,
      );
    }
    // Scheduled runs carry this input as stored; with the code here, check it once now.
    const registered = this.#engine.registered(workflow.name);
    const input = registered ? await validateInput(registered, spec.input) : spec.input;
    const now = this.#engine.now();
    const record = await this.#engine.store.schedules.upsert(
      {
        id,
        workflow: workflow.name,
        cron: spec.cron,
        tz,
        input: serialize(input, `The input of ${where}`, this.#engine.payloadLimitBytes),
        overlap,
        catchup,
        nextAt: firstSlotAfter({ cron: spec.cron, tz }, now),
        source: "api",
        ...(spec.paused === undefined ? {} : { paused: spec.paused }),
      },
      now,
    );
    this.#engine.notify();
    return toInfo(record);
  }

  async list(): Promise<ScheduleInfo[]> {
    return (await this.#engine.store.schedules.list()).map(toInfo);
  }

  /** @throws `NOT_FOUND` */
  async get(id: string): Promise<ScheduleInfo> {
    return toInfo(await this.#record(id));
  }

  async pause(id: string): Promise<ScheduleInfo> {
    checkName("schedule id", id);
    return toInfo(await this.#engine.store.schedules.setPaused(id, true, this.#engine.now()));
  }

  /** Resumes a paused schedule; slots missed meanwhile follow its catch-up policy. */
  async resume(id: string): Promise<ScheduleInfo> {
    checkName("schedule id", id);
    const record = await this.#engine.store.schedules.setPaused(id, false, this.#engine.now());
    this.#engine.notify();
    return toInfo(record);
  }

  async delete(id: string): Promise<boolean> {
    checkName("schedule id", id);
    return this.#engine.store.schedules.delete(id);
  }

  /**
   * Creates one run per slot in `[from, to)`, each with its slot's logical interval;
   * slots that already have a run are left alone. Returns the new run ids. Runs are
   * inserted in chunks of about 20 ms each, the event loop let go between chunks; a
   * backfill stopped half-way (a crash) is finished by repeating it, since each slot's run
   * id is fixed.
   * @throws `LIMIT_EXCEEDED` when the range holds more than {@link maxBackfillSlots} slots
   *   (nothing is created), `INVALID_ARGUMENT` for an empty or invalid range
   */
  async backfill(
    id: string,
    range: { from: Date | number; to: Date | number },
  ): Promise<{ slots: number; created: RunId[] }> {
    const schedule = await this.#record(id);
    const from = +range.from;
    const to = +range.to;
    if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        `Backfill of "${id}" needs from < to, got ${String(range.from)} .. ${String(range.to)}.`,
      );
    }
    const { slots, more } = await slotsBetween(schedule, from, to, maxBackfillSlots);
    if (more) throw overCap(id, from, to, slots);
    const now = this.#engine.now();
    const workflow = this.#engine.registered(schedule.workflow);
    const created: RunId[] = [];
    // Sized to take about `chunkMs` each, whatever the machine and store: on SQLite a
    // chunk is one synchronous transaction, and 500 runs took 100 ms on a busy machine.
    // A chunk grows at most twofold: one that happened to be fast (no WAL checkpoint, no
    // collection) must not make the next ten times larger.
    let size = 100;
    for (let start = 0, end = size; start < slots.length; start = end, end = start + size) {
      const t0 = performance.now();
      const runs = slots
        .slice(start, end)
        .map((slot, i) =>
          slotRun(
            schedule,
            workflow,
            slot,
            slots[start + i + 1] ?? firstSlotAfter(schedule, slot),
            now,
          ),
        );
      created.push(...(await this.#engine.store.schedules.createRuns(runs)));
      this.#engine.notify();
      const took = Math.max(1, performance.now() - t0);
      size = Math.max(10, Math.min(1_000, 2 * size, Math.round((size * chunkMs) / took)));
      await yieldToEventLoop();
    }
    return { slots: slots.length, created };
  }

  /** The next `count` fire times of a schedule, or of a cron expression in a zone. */
  async preview(schedule: string | { cron: string; tz?: string }, count = 5): Promise<Date[]> {
    const target =
      typeof schedule === "string"
        ? await this.#record(schedule)
        : { cron: schedule.cron, tz: schedule.tz ?? "UTC" };
    if (typeof schedule !== "string") validateCron(target.cron, target.tz, "preview");
    return previewSlots(target, this.#engine.now(), count).map((at) => new Date(at));
  }

  async #record(id: string): Promise<ScheduleRecord> {
    checkName("schedule id", id);
    const record = await this.#engine.store.schedules.get(id);
    if (!record) throw new CairnError("NOT_FOUND", `No schedule with id "${id}".`);
    return record;
  }
}

function toInfo(record: ScheduleRecord): ScheduleInfo {
  return {
    ...record,
    input: deserialize(record.input),
    nextAt: new Date(record.nextAt),
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}

/**
 * The refusal of a range over the cap. The count past the cap is estimated from the density
 * of the slots walked (walking them all could take hours); the last slot under the cap says
 * where to split.
 */
function overCap(id: string, from: number, to: number, slots: number[]): CairnError {
  const last = slots.at(-1) ?? from;
  const density = slots.length / Math.max(1, last + 1 - from);
  const estimate = Math.max(slots.length + 1, Math.round(density * (to - from)));
  const iso = (ms: number) => new Date(ms).toISOString();
  return new CairnError(
    "LIMIT_EXCEEDED",
    `Backfill of "${id}" from ${iso(from)} to ${iso(to)} covers about ${estimate.toLocaleString("en-US")} slots, over the cap of ${maxBackfillSlots.toLocaleString("en-US")} per backfill; nothing was created. Split the range: the first ${maxBackfillSlots.toLocaleString("en-US")} slots end with the one at ${iso(last)}.`,
  );
}
