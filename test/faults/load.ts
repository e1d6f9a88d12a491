/**
 * The fault scenarios' load, fed by the harness
 * through the public API: the crash tests' `processOrder` runs (a durable sleep until their
 * arrival, steps with transient failures, parallel steps), runs with a 2 s durable sleep
 * (`sleepy`), runs waiting for an event the harness sends before or after their wait begins
 * (`await-payment`) and, optionally, zombie probes. Every start and event has a fixed id,
 * so a call that fails (the database is away) is simply made again on the next tick; what
 * was acknowledged is recorded (`ackAt`, `eventAckAt`) and must never be lost.
 */
import type { Cairn } from "../../src/index.ts";
import { orderInput } from "../crash/fixtures/model.ts";
import { makeWorkflows } from "../crash/fixtures/workflows.ts";
import type { LedgerWriter } from "../crash/ledger.ts";
import { delay } from "../crash/spawn.ts";
import { makeFaultWorkflows, paymentEvent } from "./fixtures/workflows.ts";
import type { Inspector } from "./pg-inspect.ts";

export interface LoadOptions {
  seed: number;
  orders: number;
  sleeps: number;
  payments: number;
  /** Zombie probes (`zombie-probe` runs), all started at t0. */
  probes?: number;
  /** Orders and payments arrive, and sleeps start, spread over this long after t0. */
  windowMs: number;
}

/** A run the harness starts at `startAt`. */
export interface Item {
  id: string;
  startAt: number;
  start(cairn: Cairn): Promise<unknown>;
  /** When the start was acknowledged. */
  ackAt?: number;
}

/** An `await-payment` run and its event. */
export interface Payment {
  n: number;
  id: string;
  /** Odd runs get their event right after their start, before the wait; even ones once they wait. */
  early: boolean;
  arriveAt: number;
  eventAckAt?: number;
}

/** The harness never runs a step: its workflow definitions get a ledger that refuses. */
const noLedger: LedgerWriter = {
  append() {
    throw new Error("the harness does not run steps");
  },
  appendMany() {
    throw new Error("the harness does not run steps");
  },
  close() {},
};

/** Every run of the load and when it starts, for a load beginning at `t0`. */
export function planLoad(o: LoadOptions, t0: number): { items: Item[]; payments: Payment[] } {
  const defs = {
    ...makeWorkflows({ ledger: noLedger, seed: o.seed, life: -1, longStepMs: 0 }),
    ...makeFaultWorkflows({ ledger: noLedger, life: -1, holdMs: 0 }),
  };
  const spread = (k: number, n: number, offset: number) =>
    t0 + offset + Math.round((k * o.windowMs) / Math.max(1, n));
  const items: Item[] = [];
  for (let i = 1; i <= o.orders; i++) {
    const input = orderInput(o.seed, i, o.orders, t0, o.windowMs);
    items.push({
      id: input.id,
      startAt: input.arriveAt - 300,
      start: (c) => c.start(defs.processOrder, input, { id: input.id }),
    });
  }
  for (let k = 1; k <= o.sleeps; k++) {
    const id = `sleep-${k}`;
    items.push({
      id,
      startAt: spread(k - 1, o.sleeps, 100),
      start: (c) => c.start(defs.sleepy, { n: k }, { id }),
    });
  }
  const payments = Array.from({ length: o.payments }, (_, j): Payment => {
    const n = j + 1;
    return { n, id: `pay-${n}`, early: n % 2 === 1, arriveAt: spread(j, o.payments, 250) };
  });
  for (const p of payments) {
    items.push({
      id: p.id,
      startAt: p.arriveAt - 300,
      start: (c) => c.start(defs.awaitPayment, { n: p.n, arriveAt: p.arriveAt }, { id: p.id }),
    });
  }
  for (let k = 1; k <= (o.probes ?? 0); k++) {
    const id = `probe-${k}`;
    items.push({ id, startAt: t0, start: (c) => c.start(defs.zombieProbe, { n: k }, { id }) });
  }
  items.sort((a, b) => a.startAt - b.startAt);
  return { items, payments };
}

/**
 * Starts the runs when due and sends the events, every 50 ms, until all are acknowledged
 * or `deadline` passes.
 */
export class Feeder {
  /** Calls that failed (and were made again). */
  errors = 0;
  /** What it is doing, for FAULTS_DEBUG. */
  doing = "";
  done = false;
  readonly #items: Item[];
  readonly #payments: Payment[];
  readonly #byId: Map<string, Item>;

  constructor(plan: { items: Item[]; payments: Payment[] }) {
    this.#items = plan.items;
    this.#payments = plan.payments;
    this.#byId = new Map(plan.items.map((item) => [item.id, item]));
  }

  /** Resolves once everything is acknowledged (true) or at `deadline` (false). */
  async run(harness: Cairn, inspect: Inspector, deadline: number): Promise<boolean> {
    try {
      for (;;) {
        try {
          await this.#tick(harness, inspect);
        } catch {
          this.errors++; // the database is away: try again on the next tick
        }
        if (this.unacknowledged().length === 0 && this.unsent().length === 0) return true;
        if (Date.now() > deadline) return false;
        this.doing = "idle";
        await delay(50);
      }
    } finally {
      this.done = true;
      this.doing = "done";
    }
  }

  unacknowledged(): string[] {
    return this.#items.filter((item) => item.ackAt === undefined).map((item) => item.id);
  }

  unsent(): string[] {
    return this.#payments.filter((p) => p.eventAckAt === undefined).map((p) => p.id);
  }

  async #tick(harness: Cairn, inspect: Inspector): Promise<void> {
    const now = Date.now();
    const due = this.#items.filter((item) => item.ackAt === undefined && item.startAt <= now);
    for (let i = 0; i < due.length; i += 20) {
      await Promise.all(
        due.slice(i, i + 20).map(async (item) => {
          this.doing = `starting ${item.id}`;
          await item.start(harness);
          item.ackAt = Date.now();
        }),
      );
    }
    const started = (p: Payment) => this.#byId.get(p.id)?.ackAt !== undefined;
    const send = async (p: Payment) => {
      const event = paymentEvent(p.n);
      this.doing = `sending ${event.id}`;
      await harness.sendEvent(event.name, event.data, { id: event.id });
      p.eventAckAt = Date.now();
    };
    for (const p of this.#payments) {
      if (p.early && p.eventAckAt === undefined && started(p)) await send(p);
    }
    this.doing = "looking for waits";
    const late = this.#payments.filter((p) => !p.early && p.eventAckAt === undefined && started(p));
    const waiting = new Set(
      await inspect.entries(
        late.map((p) => p.id),
        "paid",
        "waiting",
      ),
    );
    for (const p of late) if (waiting.has(p.id)) await send(p);
  }
}
