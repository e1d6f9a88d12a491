import type { RemoteCairn } from "../client/remote-cairn.ts";
import { RemoteUnavailableError } from "../client/remote-error.ts";
import type { Clock } from "../core/clock.ts";
import { redactUrl } from "../core/redact.ts";
import type { Cairn } from "../sdk/cairn.ts";
import type { TokenStore } from "../server/token-store.ts";
import type { Store } from "../store/store.ts";
import type { ResolvedConfig } from "./config.ts";
import type { CairnConfig } from "./config-keys.ts";
import { checkDatabasePath } from "./database-path.ts";
import { note } from "./output.ts";

/**
 * Opens the engine on the configured database (no worker), runs `fn`, closes it. The engine
 * is imported here, not at start-up, so `--help` and API-only commands stay quick.
 * `readOnly` commands refuse a SQLite file that does not exist instead of creating it.
 */
export async function withEngine<T>(
  config: CairnConfig,
  fn: (cairn: Cairn) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  // A command that only reads must not leave an empty database behind a mistyped path.
  checkDatabasePath(config.db, { mustExist: options.readOnly === true });
  const { Cairn } = await import("../sdk/cairn.ts");
  const cairn = await Cairn.open({ db: config.db });
  try {
    return await fn(cairn);
  } finally {
    await cairn.close();
  }
}

/**
 * Opens the configured database's API tokens (the HTTP server's `TokenStore`), runs `fn`
 * with them and the engine's clock (the one the server checks expiry by: on PostgreSQL the
 * database's), closes it. `readOnly` as for {@link withEngine}.
 */
export async function withTokens<T>(
  config: CairnConfig,
  fn: (tokens: TokenStore, clock: Clock) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  checkDatabasePath(config.db, { mustExist: options.readOnly === true });
  const { openStore } = await import("../engine/open-store.ts");
  const { Cairn } = await import("../sdk/cairn.ts");
  const store = await openStore(config.db);
  const cairn = await Cairn.open({ store }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  try {
    return await fn(store.tokens, cairn.clock);
  } finally {
    await cairn.close();
  }
}

/**
 * Opens only the store of the configured database, runs `fn`, closes it: for commands that
 * just read, which then load neither the engine, the worker, flows nor tracing (a quick
 * `cairn runs list`). Refuses a SQLite file that does not exist instead of creating it.
 */
export async function withStore<T>(
  config: CairnConfig,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  checkDatabasePath(config.db, { mustExist: true });
  const { openStore } = await import("../engine/open-store.ts");
  const store = await openStore(config.db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

// A request the API takes longer than this to answer is an error, not a hang.
const apiTimeoutMs = 30_000;

/**
 * The client of the API at `url` (`cairnjs/client`, the one HTTP client). Imported here, not
 * at start-up, so commands that only read the database do not load it.
 */
export async function remoteCairn(config: CairnConfig): Promise<RemoteCairn> {
  const { RemoteCairn } = await import("../client/remote-cairn.ts");
  return new RemoteCairn(config.url, {
    ...(config.token ? { token: config.token } : {}),
    timeoutMs: apiTimeoutMs,
  });
}

/**
 * True when `error` proves the API never got the request (the connection never opened):
 * only then may a command do the same on the database without doing it twice.
 */
export function neverReachedApi(error: unknown): error is RemoteUnavailableError {
  return error instanceof RemoteUnavailableError && error.reason === "unreachable";
}

/**
 * Where a command that changes state goes: `--db` on the command line (without `--url`)
 * means that database; otherwise the API at `url`, so the process serving it reacts at once,
 * or the configured database when no API answers.
 */
export function wantsDatabase({ sources }: ResolvedConfig): boolean {
  return sources.db.layer === "flag" && sources.url.layer !== "flag";
}

/**
 * Runs `viaApi`, or `viaDatabase` when the command asks for the database or when no API
 * answers at a URL the user did not name with `--url` (a named URL that fails is an error).
 */
export async function apiOrDatabase<T>(
  resolved: ResolvedConfig,
  viaApi: (remote: RemoteCairn) => Promise<T>,
  viaDatabase: (cairn: Cairn) => Promise<T>,
): Promise<T> {
  if (!wantsDatabase(resolved)) {
    try {
      return await viaApi(await remoteCairn(resolved.values));
    } catch (error) {
      if (!neverReachedApi(error) || !mayFallBack(resolved)) throw error;
      note(`note: ${error.message} Using the database ${redactUrl(resolved.values.db)} directly.`);
    }
  }
  return withEngine(resolved.values, viaDatabase);
}

/** Whether a command may use the database when no API answers: not when `--url` named one. */
export function mayFallBack({ sources }: ResolvedConfig): boolean {
  return sources.url.layer !== "flag";
}
