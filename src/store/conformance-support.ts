import { afterEach, beforeEach, describe, it } from "vitest";
import type { RunId } from "../core/types.ts";
import type { JournalEntry, NewRun, Store } from "./store.ts";
import type { NewTokenRecord, TokenRecord } from "./token-records.ts";

/**
 * The HTTP server's `TokenStore` port as the token group drives it. The server declares the
 * port; a store cannot import the server, so the suite spells out what it calls (the
 * bundled stores' test files pass their `tokens` typed as the server's port, which keeps
 * the two the same).
 */
export interface TokenStoreUnderTest {
  create(token: NewTokenRecord): Promise<void>;
  touch(id: string, at: number): Promise<void>;
  list(): Promise<TokenRecord[]>;
  revoke(id: string, at: number): Promise<boolean>;
  findActiveByHash(secretHash: string): Promise<TokenRecord | undefined>;
  anyActive(): Promise<boolean>;
}

/** What every conformance group takes: a factory for a fresh, empty store. */
export interface StoreSuiteOptions<S extends Store = Store> {
  /** Names the adapter in the test titles. */
  name: string;
  newStore: () => Promise<S>;
  /**
   * The API tokens the store keeps for the HTTP server (the bundled stores' `tokens`), when
   * it keeps them: they are not part of `Store`. Absent: the token group is skipped.
   */
  tokens?(store: S): TokenStoreUnderTest;
  /** Tests (by title) a store cannot pass, each with the reason shown in the report. */
  skip?: { test: string; reason: string }[];
}

export interface StoreGroup<S extends Store = Store> {
  /** The store of the running test (a fresh one per test). */
  store: () => S;
  /** `it`, honouring `skip`. */
  test: (name: string, fn: () => Promise<void>) => void;
}

/** One `describe` block of the contract: a fresh store per test, closed after it. */
export function describeStoreGroup<S extends Store>(
  group: string,
  options: StoreSuiteOptions<S>,
  body: (group: StoreGroup<S>) => void,
): void {
  const skipped = new Map((options.skip ?? []).map((s) => [s.test, s.reason]));
  const test = (name: string, fn: () => Promise<void>) =>
    skipped.has(name) ? it.skip(`${name} (skipped: ${skipped.get(name)})`, fn) : it(name, fn);
  describe(`store conformance (${group}): ${options.name}`, () => {
    let current: S | undefined;
    beforeEach(async () => {
      current = await options.newStore();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });
    const store = () => {
      if (!current) throw new Error("The store is used outside a test.");
      return current;
    };
    body({ store, test });
  });
}

export const runId = (s: string) => s as RunId;

/** A queued run of workflow `wf` created at `at`. */
export function newRun(id: string, at = 1000, extra: Partial<NewRun> = {}): NewRun {
  return { id: runId(id), workflow: "wf", input: '{"json":1}', createdAt: at, ...extra };
}

/** A completed step entry. */
export function stepEntry(
  position: number,
  key: string,
  extra: Partial<JournalEntry> = {},
): JournalEntry {
  return {
    position,
    key,
    kind: "step",
    status: "completed",
    output: '{"json":"out"}',
    error: null,
    attempt: 1,
    startedAt: 1000,
    finishedAt: 1001,
    wakeAt: null,
    detail: null,
    seq: null,
    ...extra,
  };
}

/** Claims `id` (the only due run of its workflow) and returns its fencing token. */
export async function claimOne(store: Store, id: string, now = 1000, workflow = "wf") {
  const claimed = await store.claimRuns("w1", { workflows: [workflow] }, now, 60_000, 1);
  const mine = claimed.find((c) => c.run.id === id);
  if (!mine) throw new Error(`Run ${id} was not claimed.`);
  return mine.token;
}
