import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken, signWebhook } from "../../src/server/index.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, json, startHarness } from "./harness.ts";

const current = "whsec_current_0123456789";
const previous = "whsec_previous_9876543210";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    server: { webhooks: { github: [current, previous], other: "whsec_other" } },
  });
  // Auth is on (a token exists): hooks still need no bearer token, only their signature.
  await createToken(h.cairn, { name: "admin", role: "admin" });
});
afterAll(async () => {
  await h.close();
});

let counter = 0;
const body = () => JSON.stringify({ ref: "main", n: ++counter });
const now = () => Math.floor(Date.now() / 1000);

function deliver(
  raw: string,
  signature: string | undefined,
  headers: Record<string, string> = {},
  hook = "github",
) {
  return h.fetch(`/api/v1/hooks/${hook}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(signature === undefined ? {} : { "X-Cairn-Signature": signature }),
      ...headers,
    },
    body: raw,
  });
}

async function code(res: Response): Promise<string> {
  return (await json<{ code: string }>(res)).code;
}

describe("POST /api/v1/hooks/{name}", () => {
  it("accepts a valid signature and delivers the body as an event", async () => {
    await h.post(
      "/api/v1/runs",
      { workflow: "on-push", input: "main", id: "push-1" },
      {
        Authorization: `Bearer ${(await createToken(h.cairn, { name: "op", role: "operator" })).secret}`,
      },
    );
    await waitForStatus(h.cairn, "push-1", "waiting");
    const raw = body();
    const res = await deliver(raw, signWebhook(current, raw));
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({
      duplicate: false,
      id: expect.stringMatching(/^hook:github:/),
    });
    await waitForStatus(h.cairn, "push-1", "completed");
    expect((await h.cairn.getRun("push-1")).output).toEqual(JSON.parse(raw));
  });

  it("accepts the fallback (previous) key during a rotation", async () => {
    const raw = body();
    expect((await deliver(raw, signWebhook(previous, raw))).status).toBe(202);
  });

  it("refuses a bad MAC, a body changed by one byte, and a re-serialised body", async () => {
    const raw = body();
    const signature = signWebhook(current, raw);
    const badMac = signature.replace(/v1=(.)/, (_, c: string) => `v1=${c === "0" ? "1" : "0"}`);
    const changed = raw.replace(/"n":(\d)/, (_, d: string) => `"n":${(Number(d) + 1) % 10}`);
    const reserialised = JSON.stringify(JSON.parse(raw), null, 1);
    for (const [label, res] of [
      ["bad MAC", await deliver(raw, badMac)],
      ["changed byte", await deliver(changed, signature)],
      ["whitespace", await deliver(reserialised, signature)],
      ["other hook's secret", await deliver(raw, signWebhook("whsec_other", raw))],
    ] as const) {
      expect(res.status, label).toBe(401);
      expect(await code(res), label).toBe("invalid_signature");
    }
  });

  it("refuses timestamps outside ±300 s and accepts ones just inside", async () => {
    const raw = () => body();
    for (const skew of [-301, 301]) {
      const b = raw();
      const res = await deliver(b, signWebhook(current, b, now() + skew));
      expect(res.status, `${skew}`).toBe(401);
    }
    for (const skew of [-290, 290]) {
      const b = raw();
      expect((await deliver(b, signWebhook(current, b, now() + skew))).status, `${skew}`).toBe(202);
    }
  });

  it("refuses a signature replayed inside the window", async () => {
    const raw = body();
    const signature = signWebhook(current, raw);
    expect((await deliver(raw, signature)).status).toBe(202);
    const replay = await deliver(raw, signature);
    expect(replay.status).toBe(401);
    expect(await code(replay)).toBe("replayed_signature");
  });

  it("refuses a missing or malformed signature header", async () => {
    const raw = body();
    for (const header of [undefined, "", "v1=abc", `t=${now()}`, `t=soon,v1=${"0".repeat(64)}`]) {
      const res = await deliver(raw, header);
      expect(res.status, String(header)).toBe(401);
    }
  });

  it("answers 404 for an unknown hook, before looking at the signature", async () => {
    const raw = body();
    const res = await deliver(raw, signWebhook(current, raw), {}, "nope");
    expect(res.status).toBe(404);
    expect(await code(res)).toBe("unknown_hook");
  });

  it("uses X-Cairn-Event-Id as the event id, so a redelivery is a duplicate", async () => {
    const first = body();
    const one = await deliver(first, signWebhook(current, first), {
      "X-Cairn-Event-Id": "delivery-42",
    });
    expect(await json(one)).toMatchObject({ id: "delivery-42", duplicate: false });
    const second = body();
    const two = await deliver(second, signWebhook(current, second), {
      "X-Cairn-Event-Id": "delivery-42",
    });
    expect(await json(two)).toMatchObject({ id: "delivery-42", duplicate: true });
  });

  it("verifies first, then refuses a signed body that is not JSON (400)", async () => {
    const raw = "not json";
    const res = await deliver(raw, signWebhook(current, raw));
    expect(res.status).toBe(400);
    expect(await code(res)).toBe("invalid_json");
  });

  it("compares MACs and token hashes in constant time (code check)", () => {
    for (const file of ["webhook-verifier.ts", "tokens.ts"]) {
      const source = readFileSync(new URL(`../../src/server/${file}`, import.meta.url), "utf8");
      expect(source, file).toContain("timingSafeEqual(");
      expect(source, file).not.toMatch(/mac\s*===|secretHash\s*===/);
    }
  });
});
