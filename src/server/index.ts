/**
 * Cairn's HTTP API: `createApp` builds it, `startServer` serves it; token helpers
 * are for the CLI (`cairn tokens create|list|revoke`).
 */
export type { AppEnv, Principal } from "./app-env.ts";
export type { Policy } from "./auth.ts";
export { createApp } from "./create-app.ts";
export type { ServerLogger, ServerOptions } from "./options.ts";
export {
  type HttpProblemCode,
  type ProblemBody,
  type ProblemCode,
  problemTable,
} from "./problems.ts";
export { routeTable } from "./route-table.ts";
export { type RunningServer, startServer } from "./start-server.ts";
export type { NewTokenRecord, TokenRecord, TokenRole, TokenStore } from "./token-store.ts";
export { createToken, listTokens, revokeToken, type TokenInfo } from "./tokens.ts";
export { signWebhook } from "./webhook-verifier.ts";
