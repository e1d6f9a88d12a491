import type { JournalEntry } from "../store/store.ts";

/**
 * Makes the order in which a run's branches resume deterministic, so a replay makes the
 * same calls in the same order as the live run did.
 *
 * Journal positions are taken in call order, and call order depends on which branch
 * resumes first: with `Promise.all` of two step sequences, the branch whose first step
 * finishes first calls its second step first. So outcomes are delivered to the workflow one
 * at a time, with the event loop drained between two deliveries (every continuation runs to
 * its next ctx call), and each delivery gets a sequence number that is journaled. A replay
 * delivers recorded outcomes in that same sequence: the continuations run in the same
 * order and call the same positions. Live outcomes (steps finishing now) come after every
 * recorded one, in the order they finish.
 *
 * A recorded outcome whose call never comes (the code took another path) is reported to
 * `onStall`: a non-determinism, since positions are otherwise checked only when called.
 */
export class DeliveryOrder {
  /** Recorded final outcomes not yet delivered, in journaled sequence. */
  readonly #replay: JournalEntry[];
  /** Replay calls waiting for their turn, by journal position. */
  readonly #called = new Map<number, () => void>();
  /** Live outcomes waiting for their turn. */
  readonly #live: (() => void)[] = [];
  readonly #onStall: (entry: JournalEntry) => void;
  readonly #onIdle: () => void;
  readonly #delivering: (() => () => void) | undefined;
  /** Says no outcome waits any more; set while some do. */
  #endDelivering: (() => void) | undefined;
  #nextSeq: number;
  #pumping = false;
  #stalled = false;

  constructor(
    journal: readonly JournalEntry[],
    onStall: (entry: JournalEntry) => void,
    onIdle: () => void,
    delivering?: () => () => void,
  ) {
    this.#replay = journal
      .filter((e) => e.seq !== null && (e.status === "completed" || e.status === "failed"))
      .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    this.#nextSeq = Math.max(0, ...journal.map((e) => e.seq ?? 0)) + 1;
    this.#onStall = onStall;
    this.#onIdle = onIdle;
    this.#delivering = delivering;
  }

  /** True when the outcome at `position` is delivered by replay rather than returned at once. */
  replays(position: number): boolean {
    return this.#replay.some((e) => e.position === position);
  }

  /** Resolves when it is the turn of the recorded outcome at `position`. */
  replayTurn(position: number): Promise<void> {
    return new Promise((resolve) => {
      this.#called.set(position, resolve);
      this.#syncDelivering();
      this.#pump();
    });
  }

  /**
   * A live outcome's sequence number, taken now (live outcomes are delivered first in, first
   * out, so numbers follow delivery order), and its turn: the outcome can be journaled at
   * once, so outcomes finishing together share a commit, while the workflow sees it only on
   * its turn.
   */
  liveTurn(): { seq: number; turn: Promise<void> } {
    const seq = this.#nextSeq++;
    const turn = new Promise<void>((resolve) => {
      this.#live.push(resolve);
      this.#syncDelivering();
      this.#pump();
    });
    return { seq, turn };
  }

  /** True while outcomes wait to be delivered. */
  get busy(): boolean {
    return this.#pumping || this.#live.length > 0 || this.#called.size > 0;
  }

  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    setImmediate(() => this.#deliverNext(0));
  }

  #deliverNext(waited: number): void {
    const head = this.#replay[0];
    if (head) {
      const deliver = this.#called.get(head.position);
      if (!deliver) {
        // The call may still be on its way through a few turns of the event loop.
        if (waited < 3) {
          setImmediate(() => this.#deliverNext(waited + 1));
          return;
        }
        this.#stalled = true; // the run fails: calls still waiting will never be handed out
        this.#stopPumping();
        this.#onStall(head);
        return;
      }
      this.#replay.shift();
      this.#called.delete(head.position);
      this.#syncDelivering();
      deliver();
    } else {
      const next = this.#live.shift();
      if (!next) {
        this.#stopPumping();
        this.#onIdle();
        return;
      }
      this.#syncDelivering();
      next();
    }
    // Drain the event loop before the next delivery: its continuation runs first.
    setImmediate(() => this.#deliverNext(0));
  }

  #stopPumping(): void {
    this.#pumping = false;
    this.#syncDelivering();
  }

  /** Tells the journal writer whether outcomes wait to be handed out (see JournalWriter). */
  #syncDelivering(): void {
    const waiting = !this.#stalled && (this.#live.length > 0 || this.#called.size > 0);
    if (waiting && !this.#endDelivering) this.#endDelivering = this.#delivering?.();
    else if (!waiting && this.#endDelivering) {
      this.#endDelivering();
      this.#endDelivering = undefined;
    }
  }
}
