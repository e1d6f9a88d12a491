import type { AnyWorkflow } from "../core/workflow.ts";
import type { Cairn } from "../sdk/cairn.ts";
import type { SimRandom } from "./sim-random.ts";

/** A run the simulation starts, with the events and signals its client sends it. */
export interface SimRun {
  workflow: AnyWorkflow | string;
  input?: unknown;
  /** (Default: `run-<index>`) */
  id?: string;
  /** Sent after the run started, at moments the seed picks; each may be sent twice (same id). */
  events?: readonly { name: string; data?: unknown; id?: string }[];
  /** Sent to the run in this order, at moments the seed picks. */
  signals?: readonly { name: string; data?: unknown }[];
}

/** One request of the simulated client; a failed one is sent again later. */
export interface ClientOp {
  describe: string;
  /** The request is idempotent (an id names it): the client may send it once more after success. */
  repeat: boolean;
  /** This is that second sending. */
  again?: boolean;
  /** The id of the event this request sends, if it sends one. */
  eventId?: string;
  /** A start (the others are events and signals). */
  start?: true;
  /** Resolves to "created-again" when a repeated start made a second run. */
  send(cairn: Cairn, again: boolean): Promise<"created-again" | undefined>;
}

/**
 * The client's requests: every start first, then each run's events and signals in their
 * order, the runs' sequences shuffled into one another by the seed.
 */
export function clientOpsFor(runs: readonly SimRun[], random: SimRandom): ClientOp[] {
  const starts: ClientOp[] = [];
  const perRun: ClientOp[][] = [];
  runs.forEach((run, i) => {
    const id = run.id ?? `run-${i}`;
    const workflow = typeof run.workflow === "string" ? run.workflow : run.workflow.name;
    starts.push({
      describe: `start of run "${id}"`,
      start: true,
      repeat: true,
      async send(cairn, again) {
        const handle = await cairn.start(workflow, run.input, { id });
        return again && handle.created ? "created-again" : undefined;
      },
    });
    const ops: ClientOp[] = [];
    (run.events ?? []).forEach((event, e) => {
      const eventId = event.id ?? `${id}:event-${e}`;
      ops.push({
        describe: `event "${event.name}" (${eventId})`,
        repeat: true,
        eventId,
        async send(cairn) {
          await cairn.sendEvent(event.name, event.data, { id: eventId });
          return undefined;
        },
      });
    });
    for (const signal of run.signals ?? []) {
      ops.push({
        describe: `signal "${signal.name}" to run "${id}"`,
        repeat: false,
        async send(cairn) {
          await cairn.signal(id, signal.name, signal.data);
          return undefined;
        },
      });
    }
    perRun.push(ops);
  });
  const rest: ClientOp[] = [];
  const queues = perRun.filter((ops) => ops.length > 0);
  while (queues.length > 0) {
    const i = random.int(0, queues.length - 1);
    const queue = queues[i] as ClientOp[];
    rest.push(queue.shift() as ClientOp);
    if (queue.length === 0) queues.splice(i, 1);
  }
  return [...starts, ...rest];
}
