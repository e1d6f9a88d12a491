import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken, listTokens, revokeToken } from "../../src/server/index.ts";
import { eventually, type Harness, json, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ server: { streamHeartbeatMs: 100 } });
});
afterAll(() => h.close());

const bearer = (secret: string) => ({ headers: { Authorization: `Bearer ${secret}` } });
const lastUsed = async (id: string) =>
  (await listTokens(h.tokens)).find((t) => t.id === id)?.lastUsedAt?.getTime() ?? null;

describe("token lifecycle", () => {
  it("records lastUsedAt at most once a minute per token", async () => {
    const token = await createToken(h.tokens, h.clock, { name: "usage", role: "viewer" });
    expect(await lastUsed(token.id)).toBeNull();
    const first = h.clock.now();
    expect((await h.fetch("/api/v1/runs", bearer(token.secret))).status).toBe(200);
    await eventually(async () => ((await lastUsed(token.id)) === first ? true : undefined));

    h.clock.advance("30s");
    expect((await h.fetch("/api/v1/runs", bearer(token.secret))).status).toBe(200);
    h.clock.advance("31s");
    const third = h.clock.now();
    expect((await h.fetch("/api/v1/runs", bearer(token.secret))).status).toBe(200);
    // The use 30 s after the first wrote nothing; the one a minute after it did.
    await eventually(async () => ((await lastUsed(token.id)) === third ? true : undefined));
  });

  it("refuses an expired token with a 401 that says it expired", async () => {
    const token = await createToken(h.tokens, h.clock, {
      name: "short",
      role: "viewer",
      expiresIn: "1h",
    });
    expect(token.expiresAt?.getTime()).toBe(h.clock.now() + 3_600_000);
    expect((await h.fetch("/api/v1/runs", bearer(token.secret))).status).toBe(200);
    h.clock.advance("1h");
    const res = await h.fetch("/api/v1/runs", bearer(token.secret));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const problem = await json<{ detail: string }>(res);
    expect(problem.detail).toMatch(/^The bearer token "short" expired at \d{4}-/);
    expect(problem.detail).toContain("cairn tokens create");
  });

  it("expires a token its lifetime after its creation, to the millisecond", async () => {
    // A clock that moves on at every reading: two readings would make it 1 ms longer.
    let at = h.clock.now();
    const ticking = { now: () => at++, setTimer: () => () => {} };
    const token = await createToken(h.tokens, ticking, {
      name: "exact",
      role: "viewer",
      expiresIn: "30d",
    });
    expect(token.expiresAt && token.expiresAt.getTime() - token.createdAt.getTime()).toBe(
      30 * 24 * 3_600_000,
    );
  });

  it("rejects a lifetime that is not a positive duration", async () => {
    await expect(
      createToken(h.tokens, h.clock, { name: "x", role: "viewer", expiresIn: "soon" as never }),
    ).rejects.toThrow(/Invalid token expiry "soon"/);
    await expect(
      createToken(h.tokens, h.clock, { name: "x", role: "viewer", expiresIn: 0 }),
    ).rejects.toThrow(/must be in the future/);
  });

  it("closes a revoked token's open streams and refuses its next request", async () => {
    const token = await createToken(h.tokens, h.clock, { name: "streamer", role: "viewer" });
    const keep = await createToken(h.tokens, h.clock, { name: "other", role: "viewer" });
    const open = async (secret: string) => {
      const res = await h.fetch("/api/v1/stream", bearer(secret));
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read(); // ": connected"
      return reader;
    };
    const revokedStream = await open(token.secret);
    const otherStream = await open(keep.secret);
    expect(await revokeToken(h.tokens, h.clock, token.id)).toBe(true);
    const revokedAt = performance.now();
    for (;;) {
      const { done } = await revokedStream.read();
      if (done) break;
    }
    // The promise operators get: within a second (the watch re-reads tokens every 250 ms).
    expect(performance.now() - revokedAt).toBeLessThan(1_000);
    expect((await h.fetch("/api/v1/runs", bearer(token.secret))).status).toBe(401);
    // Another token's stream stays open: it still gets heartbeats.
    const next = await otherStream.read();
    expect(next.done).toBe(false);
    await otherStream.cancel();
  });
});
