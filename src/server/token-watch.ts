import type { ServerLogger } from "./options.ts";
import type { TokenStore } from "./token-store.ts";
import { tokenExpired } from "./tokens.ts";

/**
 * Ends open event streams whose token was revoked or expired. A revocation may come from
 * another process (`cairn tokens revoke` writes the database directly), so open streams'
 * tokens are re-read on a timer, only while some stream is open: one query per tick for all
 * streams, and a revoked token's streams end within one tick.
 */
export class TokenWatch {
  readonly #tokens: Pick<TokenStore, "list">;
  readonly #now: () => number;
  readonly #logger: ServerLogger;
  readonly #checkMs: number;
  readonly #streams = new Map<() => void, string>();
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(
    tokens: Pick<TokenStore, "list">,
    now: () => number,
    checkMs: number,
    logger: ServerLogger,
  ) {
    this.#tokens = tokens;
    this.#now = now;
    this.#checkMs = checkMs;
    this.#logger = logger;
  }

  /** Calls `end` once token `tokenId` stops being valid. Returns the function that stops watching. */
  watch(tokenId: string, end: () => void): () => void {
    this.#streams.set(end, tokenId);
    this.#timer ??= setInterval(() => void this.#check(), this.#checkMs).unref();
    return () => {
      this.#streams.delete(end);
      if (this.#streams.size === 0) this.close();
    };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      const tokens = new Map((await this.#tokens.list()).map((t) => [t.id, t]));
      const now = this.#now();
      for (const [end, tokenId] of this.#streams) {
        const token = tokens.get(tokenId);
        if (token && token.revokedAt === null && !tokenExpired(token, now)) continue;
        this.#streams.delete(end);
        end();
      }
    } catch (error) {
      // A store that cannot answer keeps streams open: readiness reports that outage.
      this.#logger.warn({ err: error }, "could not re-check the tokens of open streams");
    } finally {
      this.#checking = false;
    }
  }
}
