import type { OpenAPIHono, RouteConfig, RouteHandler } from "@hono/zod-openapi";
import type { Cairn } from "../sdk/cairn.ts";
import type { AppEnv } from "./app-env.ts";
import { type AuthContext, authorize, type Policy } from "./auth.ts";
import type { Metrics } from "./metrics.ts";
import type { ResolvedOptions } from "./options.ts";
import { jsonBody } from "./request-body.ts";
import { Problem } from "./schemas.ts";
import type { StoreReadiness } from "./store-readiness.ts";
import type { StreamHub } from "./stream-hub.ts";
import type { TokenWatch } from "./token-watch.ts";
import type { WebhookVerifier } from "./webhook-verifier.ts";

/** Whether the server should receive traffic; `/readyz` reports it. */
export interface HealthState {
  ready: boolean;
}

/** What route handlers are built from. */
export interface RouteDeps {
  cairn: Cairn;
  options: ResolvedOptions;
  auth: AuthContext;
  metrics: Metrics;
  hub: StreamHub;
  /** Whether the store takes writes: half of what `/readyz` reports. */
  readiness: StoreReadiness;
  /** Ends event streams whose token was revoked or expired. */
  tokenWatch: TokenWatch;
  hooks: WebhookVerifier;
  health: HealthState;
  /** The OpenAPI document of the app. */
  openapi(): object;
}

/** One row of the route table: an OpenAPI route, who may call it, and how it is built. */
export interface ApiRoute {
  readonly method: string;
  /** OpenAPI form: `/api/v1/runs/{id}`. */
  readonly path: string;
  readonly policy: Policy;
  /** The route's OpenAPI definition: its request and response schemas. */
  readonly config: RouteConfig;
  install(app: OpenAPIHono<AppEnv>, deps: RouteDeps): void;
}

const problemContent = { "application/problem+json": { schema: Problem } };

/**
 * Declares a route. The policy is a required field, and `install` puts `authorize(policy)`
 * in front of the route's own validators, so no route can exist without its check.
 * `body` adds the streaming size limit and JSON checks of `request-body.ts`.
 */
export function apiRoute<R extends RouteConfig>(definition: {
  route: R;
  policy: Policy;
  body?: "required" | "optional";
  handler: (deps: RouteDeps) => RouteHandler<R, AppEnv>;
}): ApiRoute {
  const { route, policy, body } = definition;
  return {
    method: route.method.toUpperCase(),
    path: route.path,
    policy,
    config: route,
    install(app, deps) {
      const middleware = [
        authorize(policy, deps.auth),
        ...(body ? [jsonBody(deps.options.bodyLimitBytes, body)] : []),
      ];
      const documented = {
        ...route,
        middleware,
        security: policy === "public" || policy === "webhook" ? [] : [{ bearerAuth: [] }],
        "x-cairn-policy": policy,
        responses: {
          ...route.responses,
          default: {
            description: "An RFC 9457 problem: what went wrong and where",
            content: problemContent,
          },
        },
      };
      // The spread loses the literal type the handler was checked against; it is the same route.
      app.openapi(documented as unknown as R, definition.handler(deps) as never);
    },
  };
}
