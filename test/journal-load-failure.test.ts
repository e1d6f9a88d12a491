/**
 * A claimed run whose journal fails to load (PostgreSQL "sorry, too many clients", say) is
 * handed back at once and runs, rather than sitting out its whole lease; so is every run of
 * a claimed batch whose one journal read (`getJournals`) fails. The failure is
 * injected by a wrapper around the real store that throws from one journal read. And a run
 * the claim found without a journal (never claimed, created without one) reads none.
 */
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../src/engine/open-store.ts";
import { Cairn, defineWorkflow, type Store } from "../src/index.ts";
import { freshTestDatabase, testStore } from "./support/engine.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh database on the store under test, removed after the test. */
async function database(): Promise<string> {
  const { url, remove } = await freshTestDatabase("journal-load");
  cleanups.push(remove);
  return url;
}

/** The error PostgreSQL answers when its connections are all taken. */
const tooManyClients = () =>
  Object.assign(new Error("sorry, too many clients already"), { code: "53300" });

const double = defineWorkflow({ name: "double" }, async (ctx, n: number) =>
  ctx.step("double", () => n * 2),
);

/** Ten minutes: a run that waited out its lease would time the test out many times over. */
const LEASE_MS = 600_000;

/**
 * Starts `runs` runs with no worker, then starts one on a store whose first journal read
 * after the first claim fails: `getJournal` for a claim of one run, `getJournals` for a
 * batch. Returns what the runs returned, the errors reported and each claim's takeover flag.
 */
async function failFirstJournalRead(runs: number) {
  const inner = await openStore(await database());
  const claims: boolean[] = [];
  let armed = false;
  let failedRead = "";
  let injected!: () => void;
  const failed = new Promise<void>((resolve) => {
    injected = resolve;
  });
  const failOnce = (read: string) => {
    armed = false;
    failedRead = read;
    injected();
    throw tooManyClients();
  };
  const store: Store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "claimRuns") {
        return async (...args: Parameters<Store["claimRuns"]>) => {
          // As for runs with a journal to read: new ones (journalEmpty) read none.
          const claimed = (await target.claimRuns(...args)).map((c) => ({
            ...c,
            journalEmpty: false,
          }));
          if (claims.length === 0 && claimed.length > 0) armed = true;
          claims.push(...claimed.map((c) => !!c.takeover));
          return claimed;
        };
      }
      if (prop === "getJournal" || prop === "getJournals") {
        type Read = (...args: unknown[]) => Promise<unknown>;
        const read = (Reflect.get(target, prop, target) as Read).bind(target);
        return async (...args: unknown[]) => (armed ? failOnce(prop) : read(...args));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const errors: string[] = [];
  const cairn = await Cairn.open({
    store,
    workflows: [double],
    leaseMs: LEASE_MS,
    pollMs: 50,
    onError: (error, context) => errors.push(`${context}: ${error.message}`),
  });
  cleanups.push(async () => {
    await cairn.close();
    await inner.close();
  });
  // Started before the worker: they are claimed from the store, journal loads and all.
  const handles = await Promise.all(Array.from({ length: runs }, (_, n) => cairn.start(double, n)));
  await cairn.worker();
  await failed;
  const outputs = await Promise.all(handles.map((h) => h.result()));
  return { ids: handles.map((h) => h.id), outputs, errors, claims, failedRead };
}

describe(`a claimed run whose journal fails to load (${testStore})`, () => {
  it("is handed back and runs at once, not after its lease", async () => {
    const { ids, outputs, errors, claims, failedRead } = await failFirstJournalRead(1);
    expect(failedRead).toBe("getJournal");
    expect(outputs).toEqual([0]);
    expect(errors).toEqual([`executing run ${ids[0]}: sorry, too many clients already`]);
    // Claimed twice, the second time fresh: released, not taken over after a lapsed lease.
    expect(claims).toEqual([false, false]);
  });

  it("hands back every run of a claimed batch whose journals fail to load", async () => {
    const { ids, outputs, errors, claims, failedRead } = await failFirstJournalRead(3);
    expect(failedRead).toBe("getJournals");
    expect(outputs).toEqual([0, 2, 4]);
    expect(errors.sort()).toEqual(
      ids.map((id) => `executing run ${id}: sorry, too many clients already`).sort(),
    );
    expect(claims).toEqual([false, false, false, false, false, false]);
  });
});

/** Runs `runs` new runs claimed from the store (started before the worker); the journal reads. */
async function claimFreshRuns(runs: number): Promise<string[]> {
  const inner = await openStore(await database());
  const reads: string[] = [];
  const store: Store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "getJournal" || prop === "getJournals") reads.push(prop);
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const cairn = await Cairn.open({ store, workflows: [double], pollMs: 50 });
  cleanups.push(async () => {
    await cairn.close();
    await inner.close();
  });
  const handles = await Promise.all(Array.from({ length: runs }, (_, n) => cairn.start(double, n)));
  await cairn.worker();
  expect(await Promise.all(handles.map((h) => h.result()))).toEqual(handles.map((_, n) => n * 2));
  return reads;
}

it(`claimed runs that never ran read no journal, alone or in a batch (${testStore})`, async () => {
  expect(await claimFreshRuns(1)).toEqual([]);
  expect(await claimFreshRuns(3)).toEqual([]);
});
