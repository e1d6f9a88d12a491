import { createHmac, timingSafeEqual } from "node:crypto";
import { HttpProblem } from "./problems.ts";

/** How far a signature's timestamp may be from now, either way. */
export const signatureToleranceSeconds = 300;
// Signatures remembered for replay protection; past this, the oldest are forgotten early
// (a replay of one of them is still only a duplicate event id, a no-op in the store).
const maxRemembered = 50_000;

/**
 * Signs a webhook body the way the server checks it: `t=<unix seconds>,v1=<hex HMAC-SHA256
 * of "<t>.<raw body>">`. For senders and tests.
 * @example fetch(url, { method: "POST", body, headers: { "X-Cairn-Signature": signWebhook(secret, body) } })
 */
export function signWebhook(
  secret: string,
  body: string | Uint8Array,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

function hmac(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/**
 * Verifies `X-Cairn-Signature` headers against each hook's secrets (several during a key
 * rotation), within ±{@link signatureToleranceSeconds} of now, and refuses a signature
 * already accepted inside that window.
 */
export class WebhookVerifier {
  readonly #secrets: ReadonlyMap<string, readonly string[]>;
  readonly #now: () => number;
  /** Accepted signature → when it leaves the window (ms); insertion order ≈ expiry order. */
  readonly #seen = new Map<string, number>();

  constructor(secrets: ReadonlyMap<string, readonly string[]>, now: () => number = Date.now) {
    this.#secrets = secrets;
    this.#now = now;
  }

  has(name: string): boolean {
    return this.#secrets.has(name);
  }

  /**
   * Checks the signature of `body` for hook `name` and returns the matching MAC (the replay
   * key and the default event id).
   * @throws HttpProblem `invalid_signature` or `replayed_signature` (401).
   */
  verify(name: string, header: string | undefined, body: Uint8Array): string {
    const secrets = this.#secrets.get(name) ?? [];
    if (header === undefined || header.length > 2048) {
      throw new HttpProblem(
        "invalid_signature",
        'Missing X-Cairn-Signature header; sign as "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".',
      );
    }
    const { timestamp, macs } = parseHeader(header);
    const nowSeconds = Math.floor(this.#now() / 1000);
    if (timestamp === undefined || macs.length === 0) {
      throw new HttpProblem(
        "invalid_signature",
        'X-Cairn-Signature must look like "t=<unix seconds>,v1=<64 hex digits>".',
      );
    }
    if (Math.abs(nowSeconds - Number(timestamp)) > signatureToleranceSeconds) {
      throw new HttpProblem(
        "invalid_signature",
        `The signature timestamp is more than ${signatureToleranceSeconds} s from the server's time (${nowSeconds}); check the sender's clock.`,
      );
    }
    let matched: string | undefined;
    for (const secret of secrets) {
      const expected = Buffer.from(hmac(secret, timestamp, body), "hex");
      for (const mac of macs) {
        // Every pair is compared, matched or not, so timing says nothing about which.
        if (timingSafeEqual(expected, Buffer.from(mac, "hex")) && matched === undefined) {
          matched = mac;
        }
      }
    }
    if (matched === undefined) {
      throw new HttpProblem(
        "invalid_signature",
        "The signature does not match the body with any of this hook's secrets.",
      );
    }
    this.#forgetExpired();
    const key = `${name}:${matched}`;
    if (this.#seen.has(key)) {
      throw new HttpProblem(
        "replayed_signature",
        "This signature was already used; sign each delivery anew (a fresh timestamp).",
      );
    }
    this.#seen.set(key, (Number(timestamp) + signatureToleranceSeconds) * 1000);
    if (this.#seen.size > maxRemembered) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return matched;
  }

  #forgetExpired(): void {
    const now = this.#now();
    for (const [key, expiresAt] of this.#seen) {
      if (expiresAt > now) break;
      this.#seen.delete(key);
    }
  }
}

function parseHeader(header: string): { timestamp: string | undefined; macs: string[] } {
  let timestamp: string | undefined;
  const macs: string[] = [];
  for (const part of header.split(",")) {
    const [key, value] = part.trim().split("=", 2);
    if (key === "t" && value !== undefined && /^\d{1,12}$/.test(value)) timestamp = value;
    else if (key === "v1" && value !== undefined && /^[0-9a-f]{64}$/i.test(value)) {
      macs.push(value.toLowerCase());
    }
  }
  return { timestamp, macs: macs.slice(0, 8) };
}
