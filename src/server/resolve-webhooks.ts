import { standardKey, type WebhookScheme, webhookSchemes } from "./webhook-schemes.ts";
import { signatureToleranceSeconds, type WebhookConfig } from "./webhook-verifier.ts";

/** One hook as configured: a secret, several (a rotation), or a scheme with its secrets. */
export type WebhookOptions =
  | string
  | string[]
  | {
      /** How the sender signs. (Default: "cairn") */
      scheme?: WebhookScheme;
      secrets: string | string[];
      /** How far a signed timestamp may be from now, in s. (Default: 300) */
      toleranceSeconds?: number;
    };

/** @throws TypeError naming the hook and what is wrong with it. */
export function resolveWebhooks(
  options: Readonly<Record<string, WebhookOptions>>,
): Map<string, WebhookConfig> {
  const webhooks = new Map<string, WebhookConfig>();
  for (const [name, given] of Object.entries(options)) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
      throw new TypeError(`Webhook name "${name}" must be 1-64 letters, digits, ".", "_" or "-".`);
    }
    const spec = typeof given === "string" || Array.isArray(given) ? { secrets: given } : given;
    const unknown = Object.keys(spec).filter(
      (key) => !["scheme", "secrets", "toleranceSeconds"].includes(key),
    );
    if (unknown.length > 0) {
      throw new TypeError(
        `Webhook "${name}": unknown key(s) ${unknown.join(", ")} (known: scheme, secrets, toleranceSeconds).`,
      );
    }
    const scheme = spec.scheme ?? "cairn";
    if (!webhookSchemes.includes(scheme)) {
      throw new TypeError(
        `Webhook "${name}": scheme must be one of ${webhookSchemes.join(", ")}, got "${scheme}".`,
      );
    }
    const secrets = (Array.isArray(spec.secrets) ? spec.secrets : [spec.secrets]).filter(
      (s) => typeof s === "string" && s !== "",
    );
    if (secrets.length === 0) throw new TypeError(`Webhook "${name}" needs at least one secret.`);
    if (scheme === "standard") {
      for (const secret of secrets) {
        try {
          standardKey(secret);
        } catch (error) {
          throw new TypeError(`Webhook "${name}": ${(error as Error).message}.`);
        }
      }
    }
    const toleranceSeconds = spec.toleranceSeconds ?? signatureToleranceSeconds;
    if (!Number.isInteger(toleranceSeconds) || toleranceSeconds < 1 || toleranceSeconds > 86_400) {
      throw new TypeError(
        `Webhook "${name}": toleranceSeconds must be an integer from 1 to 86400, got ${toleranceSeconds}.`,
      );
    }
    webhooks.set(name, { scheme, secrets, toleranceSeconds });
  }
  return webhooks;
}
