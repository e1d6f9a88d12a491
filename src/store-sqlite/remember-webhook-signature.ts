import type Database from "better-sqlite3";
import type { Store } from "../store/store.ts";

/**
 * The SQLite side of webhook replay protection: one write transaction purges expired
 * signatures and inserts this one unless a live copy is there.
 */
export function sqliteRememberWebhookSignature(
  db: () => Database.Database,
  write: <T>(fn: () => T) => Promise<T>,
): Store["rememberWebhookSignature"] {
  return async (key, expiresAt, now) =>
    write(() => {
      db().prepare("DELETE FROM webhook_replays WHERE expires_at <= ?").run(now);
      const inserted = db()
        .prepare(
          "INSERT INTO webhook_replays (key, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        )
        .run(key, expiresAt);
      return inserted.changes > 0;
    });
}
