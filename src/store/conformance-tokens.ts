import { describe, expect, it } from "vitest";
import { describeStoreGroup, type StoreSuiteOptions } from "./conformance-support.ts";
import type { Store } from "./store.ts";

/**
 * The API tokens a store keeps for the HTTP server (its `TokenStore` port), reached through
 * `options.tokens`: only hashes are stored, revoked tokens are no longer found, expiry is
 * kept, and a token's last use never moves backwards.
 */
export function runTokenStoreSuite<S extends Store>(options: StoreSuiteOptions<S>): void {
  const tokensOf = options.tokens?.bind(options);
  if (!tokensOf) {
    describe(`store conformance (tokens): ${options.name}`, () => {
      it.skip("(skipped: no `tokens` option, the store keeps no API tokens)", () => {});
    });
    return;
  }
  describeStoreGroup("tokens", options, ({ store, test }) => {
    const tokens = () => tokensOf(store());

    test("tokens are stored by hash, found while active, and revoked", async () => {
      expect(await tokens().anyActive()).toBe(false);
      await tokens().create({
        id: "t1",
        name: "ci",
        role: "operator",
        secretHash: "h1",
        createdAt: 1000,
      });
      expect(await tokens().anyActive()).toBe(true);
      expect(await tokens().findActiveByHash("h1")).toMatchObject({
        id: "t1",
        role: "operator",
        revokedAt: null,
      });
      expect(await tokens().revoke("t1", 2000)).toBe(true);
      expect(await tokens().revoke("t1", 2001)).toBe(false);
      expect(await tokens().findActiveByHash("h1")).toBeUndefined();
      expect(await tokens().anyActive()).toBe(false);
      expect((await tokens().list())[0]).toMatchObject({ id: "t1", revokedAt: 2000 });
    });

    test("tokens keep their expiry and a last use that never moves backwards", async () => {
      await tokens().create({
        id: "t2",
        name: "short",
        role: "viewer",
        secretHash: "h2",
        createdAt: 1000,
        expiresAt: 5000,
      });
      expect(await tokens().findActiveByHash("h2")).toMatchObject({
        expiresAt: 5000,
        lastUsedAt: null,
      });
      await tokens().touch("t2", 3000);
      await tokens().touch("t2", 2000); // a late, older use from another server
      expect((await tokens().list())[0]).toMatchObject({ id: "t2", lastUsedAt: 3000 });
    });

    test("tokens are listed oldest first, revoked ones too", async () => {
      for (const [id, at] of [
        ["b", 2000],
        ["a", 1000],
      ] as const) {
        await tokens().create({
          id,
          name: id,
          role: "viewer",
          secretHash: `h-${id}`,
          createdAt: at,
        });
      }
      await tokens().revoke("a", 3000);
      expect((await tokens().list()).map((t) => [t.id, t.revokedAt])).toEqual([
        ["a", 3000],
        ["b", null],
      ]);
    });
  });
}
