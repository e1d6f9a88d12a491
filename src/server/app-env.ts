import type { TokenRole } from "./token-store.ts";

/** Who made a request, once `authorize` has run. */
export interface Principal {
  /** The token's id, or `local` when auth is off (loopback, no tokens). */
  id: string;
  name: string;
  role: TokenRole;
}

/** Hono environment of the app: what middleware leaves on the context for handlers. */
export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
  };
}
