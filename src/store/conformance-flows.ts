import { expect } from "vitest";
import { describeStoreGroup, type StoreSuiteOptions } from "./conformance-support.ts";
import type { FlowVersionRecord } from "./flow-store.ts";

type Deployable = Omit<FlowVersionRecord, "version" | "createdAt">;

/** Versioned flow documents (`store.flows`): dense versions, no-op redeploys, the stamp. */
export function runFlowStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("flows", options, ({ store, test }) => {
    const flow = (name: string, hash: string, extra: Partial<Deployable> = {}): Deployable => ({
      name,
      hash,
      source: `name: ${name}\n# ${hash}\n`,
      format: "yaml",
      document: JSON.stringify({ name, hash }),
      description: null,
      author: null,
      ...extra,
    });

    test("deploy adds version 1, then n+1 for a changed document", async () => {
      const first = await store().flows.deploy(
        flow("etl", "h1", { description: "nightly", author: "ana" }),
        1000,
      );
      expect(first.created).toBe(true);
      expect(first.record).toEqual({
        ...flow("etl", "h1", { description: "nightly", author: "ana" }),
        version: 1,
        createdAt: 1000,
      });
      const second = await store().flows.deploy(flow("etl", "h2", { format: "json" }), 2000);
      expect(second).toEqual({
        created: true,
        record: { ...flow("etl", "h2", { format: "json" }), version: 2, createdAt: 2000 },
      });
      // Another flow counts its own versions.
      expect((await store().flows.deploy(flow("other", "h1"), 2500)).record.version).toBe(1);
    });

    test("deploying the latest hash again is a no-op that returns the latest version", async () => {
      await store().flows.deploy(flow("etl", "h1"), 1000);
      const again = await store().flows.deploy(flow("etl", "h1", { source: "reformatted" }), 2000);
      expect(again.created).toBe(false);
      expect(again.record).toMatchObject({
        version: 1,
        createdAt: 1000,
        source: "name: etl\n# h1\n",
      });
      // Only the latest counts: going back to an older document is a new version.
      await store().flows.deploy(flow("etl", "h2"), 3000);
      const back = await store().flows.deploy(flow("etl", "h1"), 4000);
      expect(back).toMatchObject({ created: true, record: { version: 3, hash: "h1" } });
    });

    test("concurrent deploys of different documents keep versions dense", async () => {
      const results = await Promise.all(
        ["a", "b", "c", "d", "e"].map((hash, i) =>
          store().flows.deploy(flow("etl", hash), 1000 + i),
        ),
      );
      expect(results.every((r) => r.created)).toBe(true);
      expect(results.map((r) => r.record.version).sort()).toEqual([1, 2, 3, 4, 5]);
      const versions = await store().flows.versions("etl");
      expect(versions.map((v) => v.version)).toEqual([5, 4, 3, 2, 1]);
      expect(new Set(versions.map((v) => v.hash))).toEqual(new Set(["a", "b", "c", "d", "e"]));
      // Each deploy's answer is the version it stored.
      for (const { record } of results) {
        expect((await store().flows.get("etl", record.version))?.hash).toBe(record.hash);
      }
    });

    test("concurrent deploys of one document create it once", async () => {
      const results = await Promise.all(
        [1, 2, 3, 4].map((i) => store().flows.deploy(flow("etl", "same"), 1000 + i)),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(results.every((r) => r.record.version === 1 && r.record.hash === "same")).toBe(true);
      expect(await store().flows.versions("etl")).toHaveLength(1);
    });

    test("versions lists newest first without source and document", async () => {
      expect(await store().flows.versions("etl")).toEqual([]);
      await store().flows.deploy(flow("etl", "h1", { author: "ana" }), 1000);
      await store().flows.deploy(flow("etl", "h2", { description: "second" }), 2000);
      await store().flows.deploy(flow("other", "x"), 3000);
      const versions = await store().flows.versions("etl");
      expect(versions).toEqual([
        {
          name: "etl",
          version: 2,
          hash: "h2",
          format: "yaml",
          description: "second",
          author: null,
          createdAt: 2000,
        },
        {
          name: "etl",
          version: 1,
          hash: "h1",
          format: "yaml",
          description: null,
          author: "ana",
          createdAt: 1000,
        },
      ]);
      for (const v of versions) {
        expect(v).not.toHaveProperty("source");
        expect(v).not.toHaveProperty("document");
      }
    });

    test("get returns the latest version, or the one asked for", async () => {
      expect(await store().flows.get("etl")).toBeUndefined();
      await store().flows.deploy(flow("etl", "h1"), 1000);
      await store().flows.deploy(flow("etl", "h2"), 2000);
      expect(await store().flows.get("etl")).toEqual({
        ...flow("etl", "h2"),
        version: 2,
        createdAt: 2000,
      });
      expect(await store().flows.get("etl", 1)).toEqual({
        ...flow("etl", "h1"),
        version: 1,
        createdAt: 1000,
      });
      expect(await store().flows.get("etl", 3)).toBeUndefined();
      expect(await store().flows.get("missing", 1)).toBeUndefined();
    });

    test("latest holds one record per flow, its newest, by name", async () => {
      expect(await store().flows.latest()).toEqual([]);
      await store().flows.deploy(flow("zeta", "z1"), 1000);
      await store().flows.deploy(flow("alpha", "a1"), 1100);
      await store().flows.deploy(flow("zeta", "z2"), 1200);
      await store().flows.deploy(flow("alpha", "a1"), 1300); // no-op
      const latest = await store().flows.latest();
      expect(latest.map((f) => [f.name, f.version, f.hash])).toEqual([
        ["alpha", 1, "a1"],
        ["zeta", 2, "z2"],
      ]);
      // Full records: workers load documents from here.
      expect(latest[1]).toEqual({ ...flow("zeta", "z2"), version: 2, createdAt: 1200 });
    });

    test("the stamp changes with every new version and only then", async () => {
      const empty = await store().flows.stamp();
      expect(await store().flows.stamp()).toBe(empty);
      await store().flows.deploy(flow("etl", "h1"), 1000);
      const one = await store().flows.stamp();
      expect(one).not.toBe(empty);
      await store().flows.deploy(flow("etl", "h1"), 5000); // unchanged: no new version
      expect(await store().flows.stamp()).toBe(one);
      // A deploy timed before the latest one (another process's clock) still changes it.
      await store().flows.deploy(flow("other", "x"), 500);
      const two = await store().flows.stamp();
      expect(new Set([empty, one, two]).size).toBe(3);
      await store().flows.deploy(flow("etl", "h2"), 1000);
      expect(await store().flows.stamp()).not.toBe(two);
    });
  });
}
