import type { Clock } from "../core/clock.ts";
import { NonDeterminismError } from "../core/errors.ts";
import { deserialize, deserializeError, serialize } from "../core/serializer.ts";
import type { EntryKind } from "../core/types.ts";
import type { JournalEntry } from "../store/store.ts";
import { DeliveryOrder } from "./delivery-order.ts";
import type { GroupCommitHints } from "./execution-env.ts";

/** A journal position handed to one ctx call, with what the journal recorded there if anything. */
export interface Claim {
  key: string;
  position: number;
  recorded: JournalEntry | undefined;
  /** Set when the journal recorded another kind or key here: the code changed (G6). */
  mismatch?: NonDeterminismError;
}

/**
 * The journal as one execution sees it: which position and key the next ctx call gets, what
 * was recorded there, the order recorded outcomes are delivered in, and the writes still on
 * their way to the store. Bookkeeping only: whether the run may go on is RunExecution's call.
 */
export class RunJournal {
  readonly order: DeliveryOrder;
  readonly #entries: Map<number, JournalEntry>;
  /** The last position the journal held when this execution began: below it, we replay. */
  readonly #replayEnd: number;
  readonly #keyCounts = new Map<string, number>();
  readonly #write: (entry: JournalEntry) => Promise<void>;
  #position = 0;
  /**
   * Settles once every entry queued so far is durable (rejects if one could not be made so);
   * undefined when none is on its way.
   */
  #unflushed: Promise<void> | undefined;
  readonly #stepWaiting: (() => () => void) | undefined;

  /**
   * `write` makes one entry durable (rejecting if it could not); `onUnclaimed` hears that a
   * recorded outcome's turn came with no call for it; `onTurnTaken` that a turn was taken;
   * `hints` that outcomes wait to be handed out and steps wait for writes (group commit).
   */
  constructor(
    entries: readonly JournalEntry[],
    write: (entry: JournalEntry) => Promise<void>,
    onUnclaimed: (error: NonDeterminismError) => void,
    onTurnTaken: () => void,
    hints: Partial<GroupCommitHints> = {},
  ) {
    this.#entries = new Map(entries.map((e) => [e.position, e]));
    this.#replayEnd = entries.reduce((end, e) => Math.max(end, e.position + 1), 0);
    this.#write = write;
    this.order = new DeliveryOrder(
      entries,
      (entry) =>
        onUnclaimed(
          new NonDeterminismError(
            entry.position,
            `${entry.kind} "${entry.key}"`,
            "no call to it (the code took another path, or awaited something other than ctx calls)",
          ),
        ),
      onTurnTaken,
      hints.delivering?.bind(hints),
    );
    this.#stepWaiting = hints.stepWaiting?.bind(hints);
  }

  /** Past the recorded history: what happens now happens for the first time. */
  get live(): boolean {
    return this.#position >= this.#replayEnd;
  }

  /** The next position for a `kind` call, keyed by `name` (repeats get `name#2`, ...). */
  claim(kind: EntryKind, name: string): Claim {
    const count = (this.#keyCounts.get(name) ?? 0) + 1;
    this.#keyCounts.set(name, count);
    const key = count === 1 ? name : `${name}#${count}`;
    const position = this.#position++;
    const recorded = this.#entries.get(position);
    if (recorded && (recorded.kind !== kind || recorded.key !== key)) {
      const mismatch = new NonDeterminismError(
        position,
        `${recorded.kind} "${recorded.key}"`,
        `${kind} "${key}"`,
      );
      return { key, position, recorded, mismatch };
    }
    return { key, position, recorded };
  }

  /**
   * The next position without taking it: what the journal recorded there, and whether the
   * history goes on past it (`ctx.patched` asks before deciding to take it or not).
   */
  peek(): { position: number; recorded: JournalEntry | undefined; replaying: boolean } {
    const position = this.#position;
    return { position, recorded: this.#entries.get(position), replaying: !this.live };
  }

  /** Takes the next position for a key unique in the run by construction (a patch marker). */
  take(key: string): Claim {
    const position = this.#position++;
    return { key, position, recorded: this.#entries.get(position) };
  }

  /** The workflow returned before reaching a recorded position: the code changed (G6). */
  unreached(): NonDeterminismError | undefined {
    for (const [position, entry] of this.#entries) {
      if (position >= this.#position) {
        return new NonDeterminismError(
          position,
          `${entry.kind} "${entry.key}"`,
          "the end of the workflow",
        );
      }
    }
    return undefined;
  }

  /** A recorded outcome, returned (or thrown) on its turn in the journaled delivery order. */
  async replayed<T>(recorded: JournalEntry): Promise<T> {
    if (this.order.replays(recorded.position)) await this.order.replayTurn(recorded.position);
    if (recorded.status === "failed") throw deserializeError(recorded.error ?? "{}");
    return deserialize<T>(recorded.output);
  }

  /**
   * A value the workflow must see the same on replay (`now`, `random`, `uuid`): the recorded
   * one at `claim`, else a fresh one, recorded (without waiting) before it is returned.
   */
  value<T>(claim: Claim, kind: "now" | "random" | "uuid", produce: () => T, clock: Clock): T {
    const { key, position, recorded } = claim;
    if (recorded) return deserialize(recorded.output);
    const value = produce();
    this.recordInstant(
      position,
      key,
      kind,
      serialize(value, kind, Number.POSITIVE_INFINITY),
      clock,
    );
    return value;
  }

  /**
   * Records an entry that completes as it is made (a journaled value, a patch marker): one
   * attempt, started and finished now. Queued like any entry.
   */
  recordInstant(
    position: number,
    key: string,
    kind: EntryKind,
    output: string | null,
    clock: Clock,
  ): void {
    const at = clock.now();
    this.record({
      position,
      key,
      kind,
      status: "completed",
      output,
      error: null,
      attempt: 1,
      startedAt: at,
      finishedAt: at,
      wakeAt: null,
      detail: null,
      seq: null,
    });
  }

  /** Queues an entry; the next step or the run's end waits for it to be durable. */
  record(entry: JournalEntry): void {
    const write = this.#write(entry);
    write.catch(() => {});
    const before = this.#unflushed;
    if (!before) {
      this.#unflushed = write;
      return;
    }
    const both = before.then(() => write);
    both.catch(() => {});
    this.#unflushed = both;
  }

  /** Writes an entry and waits for it to be durable. */
  recordNow(entry: JournalEntry): Promise<void> {
    return this.#write(entry);
  }

  /**
   * Waits for every queued write: before the next side effect, or the run's end. The writes
   * stay pending until they are durable, so that every caller waits for them: the branches of
   * a `Promise.all` each call this, and none may start its step on an entry still on its way.
   */
  async flushPending(): Promise<void> {
    const unflushed = this.#unflushed;
    if (!unflushed) return;
    const stopWaiting = this.#stepWaiting?.();
    try {
      await unflushed;
    } finally {
      stopWaiting?.();
    }
    // Entries queued meanwhile stay pending for the next caller.
    if (this.#unflushed === unflushed) this.#unflushed = undefined;
  }
}
