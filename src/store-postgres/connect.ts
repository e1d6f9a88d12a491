import postgres from "postgres";
import { quoteIdentifier } from "./migrate.ts";
import { reconnectDelayS } from "./recycling-pool.ts";

/** Opens one postgres.js client with the store's settings: its pool, or its `LISTEN` connection. */
export type Connect = (options: {
  max: number;
  fetchTypes?: boolean;
  /** Called when one of the client's connections closes. */
  onclose?: () => void;
}) => postgres.Sql;

/** The store's connection settings (`PostgresStoreOptions` has them). */
interface ConnectionSettings {
  connectTimeoutMs?: number;
  applicationName?: string;
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
}

/** The store's {@link Connect} on `url`, in `schema`. */
export function storeConnector(
  url: string,
  schema: string | undefined,
  options: ConnectionSettings,
): Connect {
  return ({ max, fetchTypes = true, onclose }) =>
    postgres(url, {
      max,
      ...(onclose ? { onclose } : {}),
      onnotice: () => {},
      // postgres.js needs the array types it fetches to send array parameters; the pool
      // fetches them once (RecyclingPool.typesKnown).
      fetch_types: fetchTypes,
      connect_timeout: Math.ceil((options.connectTimeoutMs ?? 10_000) / 1000),
      backoff: reconnectDelayS,
      // No connection is closed for its age: one that closes while reservations wait can
      // be stranded (see RecyclingPool.warm), and under load postgres.js's default 30-60
      // min lifetime would strand connections one by one.
      max_lifetime: 0,
      connection: {
        application_name: options.applicationName ?? "cairn",
        statement_timeout: options.statementTimeoutMs ?? 30_000,
        lock_timeout: options.lockTimeoutMs ?? 5_000,
        idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 60_000,
        ...(schema === undefined ? {} : { search_path: quoteIdentifier(schema) }),
      },
    });
}
