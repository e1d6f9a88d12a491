import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken, signWebhook } from "../../src/server/index.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, json, startHarness } from "./harness.ts";

const current = "whsec_current_0123456789";
const previous = "whsec_previous_9876543210";
const standardKey = Buffer.from("a standard webhooks key, 32 byte");
const standardSecret = `whsec_${standardKey.toString("base64")}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    server: {
      webhooks: {
        github: [current, previous],
        other: "whsec_other",
        std: { scheme: "standard", secrets: standardSecret },
        gh: { scheme: "github", secrets: "gh-secret" },
        stripe: {
          scheme: "stripe",
          secrets: ["whsec_stripe_old", "whsec_stripe"],
          toleranceSeconds: 60,
        },
      },
    },
  });
  // Auth is on (a token exists): hooks still need no bearer token, only their signature.
  await createToken(h.tokens, h.clock, { name: "admin", role: "admin" });
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
        Authorization: `Bearer ${(await createToken(h.tokens, h.clock, { name: "op", role: "operator" })).secret}`,
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
    const badMac = signature.replace(/v2=(.)/, (_, c: string) => `v2=${c === "0" ? "1" : "0"}`);
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
    // 20 s from the edge: the signature's clock and the server's are read apart, seconds
    // apart on a loaded machine, so ±301 could arrive as ±300 and be accepted.
    for (const skew of [-320, 320]) {
      const b = raw();
      const res = await deliver(b, signWebhook(current, b, now() + skew));
      expect(res.status, `${skew}`).toBe(401);
    }
    for (const skew of [-280, 280]) {
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

  it("answers an unknown hook exactly as a bad signature: no name enumeration", async () => {
    const raw = body();
    const sameParts = async (res: Response) => {
      const { instance: _, requestId: __, ...rest } = await json<Record<string, unknown>>(res);
      return { status: res.status, ...rest };
    };
    const unknown = await sameParts(await deliver(raw, signWebhook(current, raw), {}, "nope"));
    expect(unknown).toMatchObject({ status: 401, code: "invalid_signature" });
    for (const [hook, signature] of [
      ["github", signWebhook("wrong", raw)],
      ["github", undefined],
      ["gh", undefined],
      ["std", "t=1,v2=00"],
    ] as const) {
      expect(await sameParts(await deliver(raw, signature, {}, hook)), hook).toEqual(unknown);
    }
  });

  it("uses the signed X-Cairn-Event-Id as the event id, so a redelivery is a duplicate", async () => {
    const first = body();
    const one = await deliver(first, signWebhook(current, first, now(), "delivery-42"), {
      "X-Cairn-Event-Id": "delivery-42",
    });
    expect(await json(one)).toMatchObject({ id: "delivery-42", duplicate: false });
    const second = body();
    const two = await deliver(second, signWebhook(current, second, now(), "delivery-42"), {
      "X-Cairn-Event-Id": "delivery-42",
    });
    expect(await json(two)).toMatchObject({ id: "delivery-42", duplicate: true });
  });

  it("accepts a v2 signature made by hand as docs/guide/operating.md shows", async () => {
    const raw = body();
    const t = now();
    const mac = createHmac("sha256", current).update(`${t}\nrelease-v42\n${raw}`).digest("hex");
    const res = await deliver(raw, `t=${t},v2=${mac}`, { "X-Cairn-Event-Id": "release-v42" });
    expect(await json(res)).toMatchObject({ id: "release-v42", duplicate: false });
  });

  it("refuses a captured request replayed under a new X-Cairn-Event-Id", async () => {
    const raw = body();
    const signature = signWebhook(current, raw, now(), "delivery-43");
    const headers = { "X-Cairn-Event-Id": "delivery-43" };
    expect((await deliver(raw, signature, headers)).status).toBe(202);
    const renamed = await deliver(raw, signature, { "X-Cairn-Event-Id": "delivery-44" });
    expect(renamed.status).toBe(401);
    expect(await code(renamed)).toBe("invalid_signature");
  });

  it("still accepts the older v1 signature, but only without X-Cairn-Event-Id", async () => {
    const v1 = (raw: string, t = now()) =>
      `t=${t},v1=${createHmac("sha256", current).update(`${t}.${raw}`).digest("hex")}`;
    const raw = body();
    expect((await deliver(raw, v1(raw))).status).toBe(202);
    const other = body();
    const withId = await deliver(other, v1(other), { "X-Cairn-Event-Id": "delivery-45" });
    expect(withId.status).toBe(401);
  });

  it("verifies first, then refuses a signed body that is not JSON (400)", async () => {
    const raw = "not json";
    const res = await deliver(raw, signWebhook(current, raw));
    expect(res.status).toBe(400);
    expect(await code(res)).toBe("invalid_json");
  });

  it("compares MACs and token hashes in constant time (code check)", () => {
    for (const file of ["webhook-schemes.ts", "tokens.ts"]) {
      const source = readFileSync(new URL(`../../src/server/${file}`, import.meta.url), "utf8");
      expect(source, file).toContain("timingSafeEqual(");
      expect(source, file).not.toMatch(/mac\s*===|secretHash\s*===/);
    }
  });
});

describe("other signature schemes", () => {
  const hex = (key: string | Buffer, text: string) =>
    createHmac("sha256", key).update(text).digest("hex");
  const post = (hook: string, raw: string, headers: Record<string, string>) =>
    h.fetch(`/api/v1/hooks/${hook}`, { method: "POST", headers, body: raw });

  it("Standard Webhooks: webhook-id is the event id, and covered by the signature", async () => {
    const raw = body();
    const t = now();
    const sign = (id: string) =>
      createHmac("sha256", standardKey).update(`${id}.${t}.${raw}`).digest("base64");
    const headers = (id: string, signature = sign(id)) => ({
      "webhook-id": id,
      "webhook-timestamp": String(t),
      // A list: a sender mid-rotation signs with both keys; one match is enough.
      "webhook-signature": `v1,${Buffer.alloc(32).toString("base64")} v1,${signature}`,
    });
    const ok = await post("std", raw, headers("msg_1"));
    expect(ok.status).toBe(202);
    expect(await json(ok)).toMatchObject({ id: "hook:std:msg_1", duplicate: false });
    // The same message retried later (a new timestamp, so a new signature) is a duplicate.
    const later = t + 1;
    const retry = await post("std", raw, {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(later),
      "webhook-signature": `v1,${createHmac("sha256", standardKey).update(`msg_1.${later}.${raw}`).digest("base64")}`,
    });
    expect(await json(retry)).toMatchObject({ id: "hook:std:msg_1", duplicate: true });
    expect((await post("std", raw, headers("msg_1"))).status, "exact replay").toBe(401);
    expect((await post("std", raw, headers("msg_2", sign("msg_1")))).status, "new id").toBe(401);
    const stale = await post("std", raw, { ...headers("msg_3"), "webhook-timestamp": "1" });
    expect(stale.status).toBe(401);
  });

  it("GitHub: X-Hub-Signature-256 over the body; the unsigned delivery id is not trusted", async () => {
    const raw = body();
    const signature = `sha256=${hex("gh-secret", raw)}`;
    const first = await post("gh", raw, {
      "X-Hub-Signature-256": signature,
      "X-GitHub-Delivery": "d-1",
    });
    expect(first.status).toBe(202);
    const firstId = (await json<{ id: string }>(first)).id;
    expect(firstId).toMatch(/^hook:gh:/);
    // A captured delivery replayed under a new delivery id is the same event again.
    const replay = await post("gh", raw, {
      "X-Hub-Signature-256": signature,
      "X-GitHub-Delivery": "d-2",
    });
    expect(await json(replay)).toMatchObject({ id: firstId, duplicate: true });
    const wrong = await post("gh", raw, { "X-Hub-Signature-256": `sha256=${hex("nope", raw)}` });
    expect(wrong.status).toBe(401);
  });

  it("Stripe: t and v1 in Stripe-Signature, the hook's own tolerance, the body's id", async () => {
    const event = JSON.stringify({ id: "evt_1", type: "charge.succeeded", n: ++counter });
    const sign = (t: number, secret = "whsec_stripe") =>
      `t=${t},v1=${hex(secret, `${t}.${event}`)},v0=${"0".repeat(64)}`;
    const ok = await post("stripe", event, { "Stripe-Signature": sign(now()) });
    expect(ok.status).toBe(202);
    expect(await json(ok)).toMatchObject({ id: "hook:stripe:evt_1", duplicate: false });
    // One signed header, sent twice below: the second is a replay of exactly these bytes.
    const rotatedHeader = sign(now() - 1, "whsec_stripe_old");
    const rotated = await post("stripe", event, { "Stripe-Signature": rotatedHeader });
    expect(await json(rotated)).toMatchObject({ id: "hook:stripe:evt_1", duplicate: true });
    // This hook allows 60 s, not the default 300.
    expect((await post("stripe", event, { "Stripe-Signature": sign(now() - 90) })).status).toBe(
      401,
    );
    const replay = await post("stripe", event, { "Stripe-Signature": rotatedHeader });
    expect(replay.status).toBe(401);
  });
});

it("describes every scheme in the route's OpenAPI description", async () => {
  const doc = await json<{ paths: Record<string, { post: { description: string } }> }>(
    await h.fetch("/api/openapi.json"),
  );
  const description = doc.paths["/api/v1/hooks/{name}"]?.post.description ?? "";
  for (const header of [
    "X-Cairn-Signature",
    "webhook-signature",
    "X-Hub-Signature-256",
    "Stripe-Signature",
  ]) {
    expect(description).toContain(header);
  }
});
