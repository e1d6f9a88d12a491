import type { ServerLogger } from "./options.ts";
import type { TokenRecord, TokenStore } from "./token-store.ts";

/** How often a token's `lastUsedAt` is written at most, in ms. */
export const tokenUsageIntervalMs = 60_000;

/**
 * Records when tokens were last used, at most one write per token per interval: a busy
 * client must not turn every request into a database write. The stored value (as read by
 * the request's lookup) counts too, so several servers on one database coalesce as well.
 * The write is not awaited: a request never waits for, or fails because of, bookkeeping.
 */
export class TokenUsage {
  readonly #tokens: Pick<TokenStore, "touch">;
  readonly #logger: ServerLogger;
  readonly #written = new Map<string, number>();

  constructor(tokens: Pick<TokenStore, "touch">, logger: ServerLogger) {
    this.#tokens = tokens;
    this.#logger = logger;
  }

  record(token: TokenRecord, now: number): void {
    const last = Math.max(token.lastUsedAt ?? -Infinity, this.#written.get(token.id) ?? -Infinity);
    if (now - last < tokenUsageIntervalMs) return;
    this.#written.set(token.id, now);
    this.#tokens.touch(token.id, now).catch((error: unknown) => {
      this.#written.delete(token.id);
      this.#logger.warn({ err: error, tokenId: token.id }, "could not record a token's last use");
    });
  }
}
