import { randomBytes } from "node:crypto";
import type { MessageStore } from "../store/message-store.ts";
import { HttpProblem } from "./problems.ts";
import type { ServerLogger } from "./server-logger.ts";
import {
  SignatureRefused,
  signCairn,
  type VerifiedDelivery,
  verifyScheme,
  type WebhookScheme,
} from "./webhook-schemes.ts";

/** How far a signature's timestamp may be from now, either way, unless a hook sets its own. */
export const signatureToleranceSeconds = 300;

/** One configured hook: how its sender signs, with which secrets, how much clock skew. */
export interface WebhookConfig {
  scheme: WebhookScheme;
  /** Several during a key rotation. */
  secrets: string[];
  toleranceSeconds: number;
}

/**
 * Signs a webhook body the way the server checks the `cairn` scheme:
 * `t=<unix seconds>,v2=<hex HMAC-SHA256 of "<t>\n<eventId>\n<raw body>">`. For senders and
 * tests; send `eventId` (if any) as `X-Cairn-Event-Id`.
 * @example fetch(url, { method: "POST", body, headers: { "X-Cairn-Signature": signWebhook(secret, body) } })
 */
export function signWebhook(
  secret: string,
  body: string | Uint8Array,
  timestamp = Math.floor(Date.now() / 1000),
  eventId?: string,
): string {
  return signCairn(secret, body, { timestamp, ...(eventId !== undefined ? { eventId } : {}) });
}

// One answer for every refusal: a caller must not learn whether a hook name exists, nor
// (without a valid signature) which check failed. The server log has the reason.
const refusal =
  "The webhook signature is missing, malformed, outside the time window or does not match, or there is no such hook; the server log says which.";

/**
 * Verifies deliveries against each hook's scheme and secrets, and refuses a signature
 * already accepted inside its time window. The seen signatures live in the database, so a
 * restart or another server on the same database refuses a replay too.
 */
export class WebhookVerifier {
  readonly #hooks: ReadonlyMap<string, WebhookConfig>;
  readonly #store: Pick<MessageStore, "rememberWebhookSignature">;
  readonly #logger: ServerLogger;
  readonly #now: () => number;
  // Unknown hooks are checked against this, so they cost the same work as known ones.
  readonly #decoy = randomBytes(32).toString("hex");

  constructor(
    hooks: ReadonlyMap<string, WebhookConfig>,
    store: Pick<MessageStore, "rememberWebhookSignature">,
    logger: ServerLogger,
    now: () => number = Date.now,
  ) {
    this.#hooks = hooks;
    this.#store = store;
    this.#logger = logger;
    this.#now = now;
  }

  /**
   * Checks the delivery to hook `name` and records its signature as used.
   * @throws HttpProblem `invalid_signature` (the same for an unknown hook) or `replayed_signature` (401).
   */
  async verify(
    name: string,
    header: (name: string) => string | undefined,
    body: Uint8Array,
  ): Promise<VerifiedDelivery & { scheme: WebhookScheme }> {
    const hook = this.#hooks.get(name);
    const now = this.#now();
    let delivery: VerifiedDelivery;
    try {
      delivery = verifyScheme(hook?.scheme ?? "cairn", {
        secrets: hook?.secrets ?? [this.#decoy],
        header,
        body,
        nowSeconds: Math.floor(now / 1000),
        toleranceSeconds: hook?.toleranceSeconds ?? signatureToleranceSeconds,
      });
      if (hook === undefined) throw new SignatureRefused(`No webhook named "${name}".`);
    } catch (error) {
      if (!(error instanceof SignatureRefused)) throw error;
      this.#logger.warn({ hook: name, reason: error.message }, "webhook refused");
      throw new HttpProblem("invalid_signature", refusal);
    }
    // GitHub signs no timestamp, so no window bounds a replay ledger; its event id is the
    // body's MAC instead, which makes a replay a duplicate event (see webhook-schemes.ts).
    if (delivery.timestamp !== undefined) {
      const expiresAt = (delivery.timestamp + hook.toleranceSeconds) * 1000 + 1000;
      const fresh = await this.#store.rememberWebhookSignature(
        `${name}:${delivery.mac}`,
        expiresAt,
        now,
      );
      if (!fresh) {
        throw new HttpProblem(
          "replayed_signature",
          "This signature was already used; sign each delivery anew (a fresh timestamp).",
        );
      }
    }
    return { ...delivery, scheme: hook.scheme };
  }
}
