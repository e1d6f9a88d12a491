import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cairn } from "../../src/index.ts";
import { type RunningServer, signWebhook, startServer } from "../../src/server/index.ts";
import { type Harness, json, startHarness } from "./harness.ts";
import { testWorkflows } from "./workflows.ts";

// Replay protection must hold beyond one process: the seen signatures live in the database.
const webhooks = { deploy: "whsec_deploy_0123456789" };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ server: { webhooks } });
});
afterAll(async () => {
  await h.close();
});

/** Another process: its own engine and server on the same database. */
async function otherServer(): Promise<{ server: RunningServer; close(): Promise<void> }> {
  const cairn = await Cairn.open({ db: h.db, clock: h.clock, workflows: [...testWorkflows] });
  const server = await startServer(cairn, { port: 0, webhooks });
  return {
    server,
    async close() {
      await server.close();
      await cairn.close();
    },
  };
}

let counter = 0;
function signedDelivery(): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ release: ++counter });
  return {
    body,
    headers: {
      "Content-Type": "application/json",
      "X-Cairn-Signature": signWebhook(webhooks.deploy, body),
    },
  };
}

const deliver = (url: string, d: ReturnType<typeof signedDelivery>) =>
  fetch(`${url}/api/v1/hooks/deploy`, { method: "POST", headers: d.headers, body: d.body });

describe("webhook replay protection shared through the database", () => {
  it("refuses at a second server a delivery the first accepted", async () => {
    const other = await otherServer();
    try {
      const d = signedDelivery();
      expect((await deliver(h.url, d)).status).toBe(202);
      const replay = await deliver(other.server.url, d);
      expect(replay.status).toBe(401);
      expect(await json(replay)).toMatchObject({ code: "replayed_signature" });
    } finally {
      await other.close();
    }
  });

  it("lets exactly one of two servers accept the same delivery sent to both at once", async () => {
    const other = await otherServer();
    try {
      for (let i = 0; i < 5; i++) {
        const d = signedDelivery();
        const statuses = (await Promise.all([deliver(h.url, d), deliver(other.server.url, d)])).map(
          (r) => r.status,
        );
        expect(statuses.sort()).toEqual([202, 401]);
      }
    } finally {
      await other.close();
    }
  });

  it("still refuses a replay after a restart (a new engine and server on the database)", async () => {
    const d = signedDelivery();
    const before = await otherServer();
    try {
      expect((await deliver(before.server.url, d)).status).toBe(202);
    } finally {
      await before.close();
    }
    const after = await otherServer();
    try {
      expect((await deliver(after.server.url, d)).status).toBe(401);
      expect((await deliver(after.server.url, signedDelivery())).status).toBe(202);
    } finally {
      await after.close();
    }
  });

  it("forgets signatures once their window has passed (store level)", async () => {
    const store = h.cairn.store;
    expect(await store.rememberWebhookSignature("t:a", 1_000, 0)).toBe(true);
    expect(await store.rememberWebhookSignature("t:a", 1_000, 500)).toBe(false);
    // Past its expiry, the same key is taken anew rather than refused.
    expect(await store.rememberWebhookSignature("t:a", 3_000, 1_500)).toBe(true);
    expect(await store.rememberWebhookSignature("t:b", 2_000, 1_500)).toBe(true);
    // Any call purges what expired by its `now`: "t:b" (expired at 2000) is gone, so asking
    // again at an earlier `now`, where it would still be live, finds it absent; "t:a" (3000)
    // and "t:c" are kept.
    expect(await store.rememberWebhookSignature("t:c", 9_000, 2_500)).toBe(true);
    expect(await store.rememberWebhookSignature("t:b", 2_000, 1_600)).toBe(true);
    expect(await store.rememberWebhookSignature("t:a", 3_000, 1_600)).toBe(false);
    expect(await store.rememberWebhookSignature("t:c", 9_000, 1_600)).toBe(false);
  });
});
