import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Cairn } from "../sdk/cairn.ts";
import type { HealthState, RouteDeps } from "./api-route.ts";
import type { AppEnv } from "./app-env.ts";
import { errorHandler, notFoundHandler } from "./error-handler.ts";
import { allowedHostnames, hostGuard, originGuard, queryTokenGuard } from "./guards.ts";
import { createMetrics } from "./metrics.ts";
import { isLoopbackHost, resolveOptions, type ServerOptions } from "./options.ts";
import { HttpProblem } from "./problems.ts";
import { requestContext } from "./request-context.ts";
import { routeTable } from "./route-table.ts";
import { StoreReadiness } from "./store-readiness.ts";
import { StreamHub } from "./stream-hub.ts";
import { serverTokens } from "./token-store.ts";
import { TokenUsage } from "./token-usage.ts";
import { TokenWatch } from "./token-watch.ts";
import { defaultUiDir, serveUi } from "./ui-assets.ts";
import { WebhookVerifier } from "./webhook-verifier.ts";

/** What `startServer` needs to drive an app it did not build itself. */
export interface AppLifecycle {
  health: HealthState;
  /** Ends event streams and stops listening to the engine. */
  dispose(): void;
}

const lifecycles = new WeakMap<object, AppLifecycle>();

/** The lifecycle handle of an app made by {@link createApp}. */
export function appLifecycle(app: object): AppLifecycle | undefined {
  return lifecycles.get(app);
}

const targetNames: Record<string, string> = { json: "body", param: "path", query: "query" };

/** zod failures as one precise sentence: `body.workflow: expected string, received undefined`. */
function validationHook(
  result: {
    success: boolean;
    target: string;
    error?: { issues: readonly { path: PropertyKey[]; message: string }[] };
  },
  _c: Context<AppEnv>,
): void {
  if (result.success || !result.error) return;
  const where = targetNames[result.target] ?? result.target;
  const issues = result.error.issues.slice(0, 10).map((issue) => {
    const path = issue.path.map((p) => String(p).slice(0, 64)).join(".");
    return `${where}${path ? `.${path}` : ""}: ${issue.message}`;
  });
  throw new HttpProblem("invalid_request", issues.join("; "));
}

/**
 * Builds the HTTP API over `cairn`, and the web UI at `/`, without listening: test it with
 * `app.request(path)`, or serve it with {@link startServer}. Every route is declared with its
 * auth policy in `route-table.ts`; Host, Origin and query-token checks run before all of them.
 * Serving it yourself, pass the `host` it listens on: auth is off only for a loopback host
 * with no active token. Bearer tokens are checked against `options.tokens`, by default the
 * engine's store's own.
 * @example
 * const app = createApp(cairn);
 * const res = await app.request("/api/v1/workflows");
 */
export function createApp(cairn: Cairn, options: ServerOptions = {}): OpenAPIHono<AppEnv> {
  const resolved = resolveOptions(options);
  const tokens = serverTokens(options.tokens, cairn.store);
  const { logger } = resolved;
  const metrics = createMetrics(cairn, logger);
  const hub = new StreamHub(cairn, resolved.streamPollMs, logger);
  const readiness = new StoreReadiness(
    cairn.store,
    cairn.writer,
    metrics.registry,
    logger,
    options.readiness ?? {},
  );
  const unsubscribe = cairn.subscribe((event) => {
    metrics.observe(event);
    hub.observe(event);
    readiness.observe(event);
  });
  const health: HealthState = { ready: true };
  // Revoked tokens' streams end within this; a second is what operators are promised.
  const tokenWatch = new TokenWatch(tokens, () => cairn.clock.now(), 250, logger);

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook as never });
  app.onError(errorHandler(logger));
  // The web UI answers what no route matched (outside /api), so it adds no route of its own.
  const uiDir = resolved.ui === true ? defaultUiDir() : resolved.ui === false ? false : resolved.ui;
  app.notFound(async (c) =>
    uiDir === false ? notFoundHandler(c) : ((await serveUi(c, uiDir)) ?? notFoundHandler(c)),
  );
  app.use(
    "*",
    requestContext(logger),
    hostGuard(allowedHostnames(resolved)),
    originGuard(resolved.allowedOrigins),
    queryTokenGuard(),
  );
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API token (`cairn tokens create`): `Authorization: Bearer cairn_…`",
  });

  let document: object | undefined;
  const deps: RouteDeps = {
    cairn,
    options: resolved,
    auth: {
      cairn,
      tokens,
      loopbackOnly: isLoopbackHost(resolved.host),
      usage: new TokenUsage(tokens, logger),
    },
    metrics,
    hub,
    readiness,
    tokenWatch,
    hooks: new WebhookVerifier(resolved.webhooks, cairn.store, logger),
    health,
    openapi: () => {
      document ??= app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "Cairn",
          version: "1",
          description: "Durable workflow engine: start and inspect runs, send events and signals.",
        },
      });
      return document;
    },
  };
  for (const route of routeTable) route.install(app, deps);

  lifecycles.set(app, {
    health,
    dispose() {
      unsubscribe();
      hub.close();
      metrics.close();
      tokenWatch.close();
      readiness.close();
    },
  });
  return app;
}
