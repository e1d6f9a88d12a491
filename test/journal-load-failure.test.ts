/**
 * A claimed run whose journal fails to load (PostgreSQL "sorry, too many clients", say) is
 * handed back at once and runs, rather than sitting out its whole lease. The failure is
 * injected by a wrapper around the real store that throws from one `getJournal`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { openStore } from "../src/engine/open-store.ts";
import { Cairn, defineWorkflow, type Store } from "../src/index.ts";
import { testStore } from "./support/engine.ts";
import { freshSchema } from "./support/postgres.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(): Promise<string> {
  if (testStore === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "cairn-journal-load-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return `sqlite:${join(dir, "cairn.db")}`;
  }
  const base = inject("cairnTestPgUrl");
  const { schema, drop } = await freshSchema(base);
  cleanups.push(drop);
  return `${base}${base.includes("?") ? "&" : "?"}schema=${schema}`;
}

/** The error PostgreSQL answers when its connections are all taken. */
const tooManyClients = () =>
  Object.assign(new Error("sorry, too many clients already"), { code: "53300" });

const double = defineWorkflow({ name: "double" }, async (ctx, n: number) =>
  ctx.step("double", () => n * 2),
);

/** Ten minutes: a run that waited out its lease would time the test out many times over. */
const LEASE_MS = 600_000;

describe(`a claimed run whose journal fails to load (${testStore})`, () => {
  it("is handed back and runs at once, not after its lease", async () => {
    const inner = await openStore(await database());
    const claims: { token: number; takeover: boolean }[] = [];
    let failOn: string | undefined;
    let injected!: () => void;
    const failed = new Promise<void>((resolve) => {
      injected = resolve;
    });
    const store: Store = new Proxy(inner, {
      get(target, prop) {
        if (prop === "claimRuns") {
          return async (...args: Parameters<Store["claimRuns"]>) => {
            const claimed = await target.claimRuns(...args);
            for (const c of claimed) claims.push({ token: c.token, takeover: !!c.takeover });
            // The first claim of the run: its journal load fails once.
            if (claims.length === claimed.length && claimed[0]) failOn = claimed[0].run.id;
            return claimed;
          };
        }
        if (prop === "getJournal") {
          return async (runId: string) => {
            if (runId === failOn) {
              failOn = undefined;
              injected();
              throw tooManyClients();
            }
            return target.getJournal(runId as never);
          };
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
    // Started before the worker: it is claimed from the store, journal load and all.
    const run = await cairn.start(double, 21);
    await cairn.worker();
    await failed;
    expect(await run.result()).toBe(42);
    expect(errors).toEqual([`executing run ${run.id}: sorry, too many clients already`]);
    // Claimed twice, the second time fresh: released, not taken over after a lapsed lease.
    expect(claims.map((c) => c.takeover)).toEqual([false, false]);
  });
});
