import { describe, expect, it } from "vitest";
import { serverTokens, type TokenStore } from "./token-store.ts";

const tokenStore = (): TokenStore => ({
  create: async () => {},
  touch: async () => {},
  list: async () => [],
  revoke: async () => false,
  findActiveByHash: async () => undefined,
  anyActive: async () => false,
});

describe("serverTokens", () => {
  it("takes the token store given, before the store's own", () => {
    const given = tokenStore();
    expect(serverTokens(given, { tokens: tokenStore() })).toBe(given);
  });

  it("falls back to the engine store's own tokens member", () => {
    const own = tokenStore();
    expect(serverTokens(undefined, { tokens: own })).toBe(own);
  });

  it("refuses a store without a complete token store, naming the option", () => {
    expect(() => serverTokens(undefined, {})).toThrow(/keeps no API tokens.*`tokens` option/);
    const partial = { tokens: { list: async () => [] } };
    expect(() => serverTokens(undefined, partial)).toThrow(TypeError);
  });
});
