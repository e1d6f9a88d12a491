import { createHmac, timingSafeEqual } from "node:crypto";

/** How a webhook's sender signs its deliveries. */
export const webhookSchemes = ["cairn", "standard", "github", "stripe"] as const;
export type WebhookScheme = (typeof webhookSchemes)[number];

/** What a signature proved about a delivery. */
export interface VerifiedDelivery {
  /** The matching MAC (hex): the replay key, and the default event id. */
  mac: string;
  /** The delivery id the signature covers, when the scheme signs one. */
  eventId?: string;
  /** The signed unix time (s); absent for GitHub, which signs none. */
  timestamp?: number;
}

/**
 * Why a delivery was refused. Only the server log sees this reason: the client gets one
 * 401 for every refusal, so it cannot tell a bad signature from an unknown hook.
 */
export class SignatureRefused extends Error {
  override name = "SignatureRefused";
}

type HeaderOf = (name: string) => string | undefined;

export interface SchemeInput {
  secrets: readonly string[];
  header: HeaderOf;
  body: Uint8Array;
  nowSeconds: number;
  toleranceSeconds: number;
}

const maxHeader = 4096;

/** Verifies one delivery under `scheme`; throws SignatureRefused with the reason. */
export function verifyScheme(scheme: WebhookScheme, input: SchemeInput): VerifiedDelivery {
  switch (scheme) {
    case "cairn":
      return verifyCairn(input);
    case "standard":
      return verifyStandard(input);
    case "github":
      return verifyGithub(input);
    case "stripe":
      return verifyStripe(input);
  }
}

/**
 * Cairn's own header `X-Cairn-Signature: t=<unix s>,v2=<hex>`, v2 an HMAC-SHA256 of
 * `"<t>\n<X-Cairn-Event-Id or empty>\n<raw body>"`. Newlines separate the parts because an
 * event id may contain dots but never control characters, so no two (t, id, body) sign
 * the same bytes. The older `v1=<hex of "<t>.<body>">` is still accepted, but only without
 * an `X-Cairn-Event-Id`, which v1 does not cover.
 */
export function signCairn(
  secret: string,
  body: string | Uint8Array,
  options: { timestamp?: number; eventId?: string } = {},
): string {
  const t = options.timestamp ?? Math.floor(Date.now() / 1000);
  return `t=${t},v2=${cairnV2(secret, t, options.eventId ?? "", body)}`;
}

function cairnV2(secret: string, t: number | string, id: string, body: string | Uint8Array) {
  return hmac(secret).update(`${t}\n${id}\n`).update(body).digest("hex");
}

function hmacOfTimestampAndBody(secret: string, t: number | string, body: string | Uint8Array) {
  return hmac(secret).update(`${t}.`).update(body).digest("hex");
}

function verifyCairn(input: SchemeInput): VerifiedDelivery {
  const fields = keyValues(requiredHeader(input, "X-Cairn-Signature"));
  const t = timestampWithin(input, fields.get("t")?.[0]);
  const eventId = input.header("x-cairn-event-id");
  const v2 = hexMacs(fields.get("v2"));
  const v1 = hexMacs(fields.get("v1"));
  if (v2.length === 0 && v1.length === 0) {
    throw new SignatureRefused("X-Cairn-Signature has no v2=<64 hex digits>.");
  }
  if (eventId !== undefined && v2.length === 0) {
    throw new SignatureRefused("A v1 signature does not cover X-Cairn-Event-Id: sign with v2.");
  }
  const mac =
    matchAny(input.secrets, v2, (s) => cairnV2(s, t, eventId ?? "", input.body)) ??
    (eventId === undefined
      ? matchAny(input.secrets, v1, (s) => hmacOfTimestampAndBody(s, t, input.body))
      : undefined);
  return { mac: matched(mac), timestamp: t, ...(eventId !== undefined ? { eventId } : {}) };
}

/** Standard Webhooks (standardwebhooks.com): HMAC-SHA256 of `"<id>.<timestamp>.<body>"`. */
function standardMac(secret: string, id: string, t: number | string, body: string | Uint8Array) {
  return createHmac("sha256", standardKey(secret)).update(`${id}.${t}.`).update(body).digest();
}

/** A Standard Webhooks secret: base64 bytes, optionally prefixed `whsec_`. */
export function standardKey(secret: string): Buffer {
  const text = secret.startsWith("whsec_") ? secret.slice(6) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || Buffer.from(text, "base64").length < 16) {
    throw new TypeError(
      'a "standard" webhook secret must be base64 of at least 16 bytes, optionally prefixed "whsec_"',
    );
  }
  return Buffer.from(text, "base64");
}

function verifyStandard(input: SchemeInput): VerifiedDelivery {
  const id = requiredHeader(input, "webhook-id");
  const t = timestampWithin(input, requiredHeader(input, "webhook-timestamp"));
  const given = requiredHeader(input, "webhook-signature")
    .split(" ")
    .filter((part) => part.startsWith("v1,"))
    .map((part) => Buffer.from(part.slice(3), "base64"))
    .filter((mac) => mac.length === 32)
    .map((mac) => mac.toString("hex"))
    .slice(0, 8);
  if (given.length === 0) {
    throw new SignatureRefused('webhook-signature has no "v1,<base64 HMAC-SHA256>".');
  }
  const mac = matchAny(input.secrets, given, (s) =>
    standardMac(s, id, t, input.body).toString("hex"),
  );
  return { mac: matched(mac), eventId: id, timestamp: t };
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; no timestamp. */
function verifyGithub(input: SchemeInput): VerifiedDelivery {
  const header = requiredHeader(input, "X-Hub-Signature-256");
  const given = header.startsWith("sha256=") ? hexMacs([header.slice(7)]) : [];
  if (given.length === 0) {
    throw new SignatureRefused('X-Hub-Signature-256 must be "sha256=<64 hex digits>".');
  }
  // X-GitHub-Delivery is not signed, so it is never the event id: a replay with a new one
  // would otherwise be a new event. The MAC of the body is, so a replay is a duplicate.
  return {
    mac: matched(matchAny(input.secrets, given, (s) => hmac(s).update(input.body).digest("hex"))),
  };
}

/** Stripe: `Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
function verifyStripe(input: SchemeInput): VerifiedDelivery {
  const fields = keyValues(requiredHeader(input, "Stripe-Signature"));
  const t = timestampWithin(input, fields.get("t")?.[0]);
  const given = hexMacs(fields.get("v1"));
  if (given.length === 0) throw new SignatureRefused("Stripe-Signature has no v1=<hex>.");
  const mac = matchAny(input.secrets, given, (s) => hmacOfTimestampAndBody(s, t, input.body));
  return { mac: matched(mac), timestamp: t };
}

function hmac(secret: string) {
  return createHmac("sha256", secret);
}

function requiredHeader(input: SchemeInput, name: string): string {
  const value = input.header(name.toLowerCase());
  if (value === undefined || value === "" || value.length > maxHeader) {
    throw new SignatureRefused(`Missing or oversized ${name} header.`);
  }
  return value;
}

function keyValues(header: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const part of header.split(",")) {
    const at = part.indexOf("=");
    if (at < 1) continue;
    const key = part.slice(0, at).trim();
    fields.set(key, [...(fields.get(key) ?? []), part.slice(at + 1).trim()]);
  }
  return fields;
}

function hexMacs(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .filter((v) => /^[0-9a-f]{64}$/i.test(v))
    .map((v) => v.toLowerCase())
    .slice(0, 8);
}

function timestampWithin(input: SchemeInput, text: string | undefined): number {
  if (text === undefined || !/^\d{1,12}$/.test(text)) {
    throw new SignatureRefused("The signature's timestamp is missing or not unix seconds.");
  }
  const t = Number(text);
  if (Math.abs(input.nowSeconds - t) > input.toleranceSeconds) {
    throw new SignatureRefused(
      `The signature's timestamp ${t} is more than ${input.toleranceSeconds} s from the server's time ${input.nowSeconds}.`,
    );
  }
  return t;
}

/**
 * The first given MAC equal to one computed with any secret (several during a rotation).
 * Every pair is compared, matched or not, so timing says nothing about which matched.
 */
function matchAny(
  secrets: readonly string[],
  given: readonly string[],
  compute: (secret: string) => string,
): string | undefined {
  let found: string | undefined;
  for (const secret of secrets) {
    const expected = Buffer.from(compute(secret), "hex");
    for (const mac of given) {
      if (timingSafeEqual(expected, Buffer.from(mac, "hex")) && found === undefined) found = mac;
    }
  }
  return found;
}

function matched(mac: string | undefined): string {
  if (typeof mac !== "string") {
    throw new SignatureRefused("The signature does not match the body with any of the secrets.");
  }
  return mac;
}
