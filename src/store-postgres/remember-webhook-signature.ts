import type { Sql } from "postgres";
import type { Store } from "../store/store.ts";

/**
 * The PostgreSQL side of webhook replay protection. The insert decides alone (its unique
 * key serialises concurrent servers); a copy that expired is taken over, not refused.
 * Purging the expired rest comes after, in a statement of its own.
 */
export function postgresRememberWebhookSignature(
  sql: () => Sql,
): Store["rememberWebhookSignature"] {
  return async (key, expiresAt, now) => {
    const inserted = await sql()`INSERT INTO webhook_replays (key, expires_at)
      VALUES (${key}, ${expiresAt})
      ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
        WHERE webhook_replays.expires_at <= ${now}
      RETURNING 1`;
    // SKIP LOCKED: servers purging at once split the rows instead of waiting on each other.
    await sql()`DELETE FROM webhook_replays WHERE key IN (SELECT key FROM webhook_replays
      WHERE expires_at <= ${now} LIMIT 500 FOR UPDATE SKIP LOCKED)`;
    return inserted.length > 0;
  };
}
