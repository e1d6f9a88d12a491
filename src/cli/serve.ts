import type pino from "pino";
import type { AnyWorkflow } from "../core/workflow.ts";
import type { FlowOptions } from "../engine/flows/flow-services.ts";
import { openStore } from "../engine/open-store.ts";
import { describeUncaught } from "../engine/uncaught-error-policy.ts";
import { Cairn } from "../sdk/cairn.ts";
import { startServer } from "../server/index.ts";
import type { CairnConfig } from "./config-keys.ts";
import { checkDatabasePath } from "./database-path.ts";
import { deployFlowFiles } from "./deploy-flow-files.ts";
import { createProcessLogger, type LogFormat, logProcess } from "./dev-log/process-logging.ts";
import { CommandFailedError } from "./errors.ts";
import { queuesOf } from "./queues-of.ts";
import { restartExitCode, supervisedVariable } from "./supervise.ts";

export interface ServeOptions {
  config: CairnConfig;
  workflows: readonly AnyWorkflow[];
  /** Flow execution settings (`cairn dev` lets http steps reach loopback). */
  flows?: FlowOptions;
  /** Flow files to deploy at start and redeploy on change (`cairn dev`). */
  flowFiles?: readonly string[];
  /** Run a worker in this process. */
  worker: boolean;
  /** Serve the HTTP API. */
  http: boolean;
  /** How logs look on stderr. (Default: "json") */
  logFormat?: LogFormat;
  /** Started once the engine runs (`cairn dev`'s watch mode); returns how to stop it. */
  watch?: (cairn: Cairn, logger: pino.Logger) => () => void;
  /** Prints what is running once everything is up; receives the API's URL. */
  ready(info: { url: string | undefined }): void;
}

/** How long closing the HTTP server may take after the engine drained, in ms. */
const serverCloseMs = 2_000;

/**
 * Runs an engine (worker and/or API) until SIGTERM or SIGINT, then shuts down gracefully:
 * readiness turns 503, the worker stops claiming, in-flight steps get `drainTimeout` to
 * finish (their runs are handed back either way), the store closes, the API closes.
 * Resolves to the exit code: 0 after a clean shutdown. A second signal exits at once with 1.
 */
export async function serve(options: ServeOptions): Promise<number> {
  const { config } = options;
  const format = options.logFormat ?? "json";
  const logger = createProcessLogger(config.logLevel, format);
  checkDatabasePath(config.db);
  // An uncaught error outside any step (or a supervisor gone) stops the process like a signal.
  let stop: ((reason: NodeJS.Signals | "uncaught error" | "supervisor gone") => void) | undefined;
  let stopEarly: Parameters<NonNullable<typeof stop>>[0] | undefined;
  const requestStop = (reason: NonNullable<typeof stopEarly>) => {
    stopEarly ??= reason;
    stop?.(reason);
  };
  // Opened here rather than by the engine: the engine takes it as its Store, the HTTP
  // server takes its API tokens (a port of the server's, not part of Store).
  const store = await openStore(config.db);
  const opening = Cairn.open({
    store,
    workflows: options.workflows,
    drainMs: config.drainTimeout,
    ...(config.retention ? { retention: config.retention } : {}),
    ...(options.flows ? { flows: options.flows } : {}),
    onError: (error, context) => logger.error({ err: error }, `error while ${context}`),
    onUncaughtError: (error, info) => {
      const fields = { err: error, ...info };
      if (info.attributed !== "none") return logger.warn(fields, describeUncaught(info));
      logger.error(fields, describeUncaught(info));
      requestStop("uncaught error");
    },
  });
  const cairn = await opening.catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  if (process.env[supervisedVariable])
    process.once("disconnect", () => requestStop("supervisor gone"));
  const stopLogging = logProcess(cairn, logger, format);
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let stopFlowWatching = () => {};
  try {
    if (options.flowFiles && options.flowFiles.length > 0) {
      stopFlowWatching = await deployFlowFiles(cairn, options.flowFiles, logger);
    }
    if (options.worker) {
      await cairn.worker({ concurrency: config.concurrency, queues: queuesOf(config.queue) });
    }
    if (options.http) {
      server = await startServer(cairn, {
        tokens: store.tokens,
        host: config.host,
        port: config.port,
        logger,
        ...(config.bodyLimitBytes ? { bodyLimitBytes: config.bodyLimitBytes } : {}),
        ...(config.allowedHosts ? { allowedHosts: config.allowedHosts } : {}),
        ...(config.allowedOrigins ? { allowedOrigins: config.allowedOrigins } : {}),
        ...(config.webhooks ? { webhooks: config.webhooks } : {}),
        ...(options.flowFiles ? { flowFiles: options.flowFiles } : {}),
        // `cairn server`: no worker, no workflow code, nothing of the user's beside the API.
        dedicatedProcess: !options.worker && options.workflows.length === 0,
      });
    }
  } catch (error) {
    await cairn.close();
    if ((error as { code?: unknown }).code === "EADDRINUSE") {
      throw new CommandFailedError(
        `${config.host}:${config.port} is already in use (another cairn dev?): choose another --port.`,
      );
    }
    throw error;
  }

  const stopWatching = options.watch?.(cairn, logger);
  const signal = await new Promise<NonNullable<typeof stopEarly>>((resolve) => {
    stop = resolve;
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
    options.ready({ url: server?.url });
    if (stopEarly) resolve(stopEarly);
  });
  const force = (second: NodeJS.Signals) => {
    logger.error({ signal: second }, "second signal: exiting without draining");
    process.exit(1);
  };
  process.once("SIGTERM", force);
  process.once("SIGINT", force);

  logger.info({ signal, drainTimeoutMs: config.drainTimeout }, "shutting down");
  stopFlowWatching();
  server?.setReady(false);
  stopWatching?.();
  // close() stops claiming, drains in-flight steps up to drainTimeout and then hands their
  // runs back; this timer only guards against a shutdown that hangs beyond that.
  const hung = setTimeout(() => {
    logger.error("shutdown did not finish in time: exiting");
    process.exit(1);
  }, config.drainTimeout + 10_000);
  hung.unref();
  await cairn.close();
  stopLogging();
  if (server) await withTimeout(server.close(), serverCloseMs);
  clearTimeout(hung);
  logger.info("stopped");
  flush(logger);
  return signal === "uncaught error" ? restartExitCode : 0;
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

function flush(logger: pino.Logger): void {
  try {
    logger.flush();
  } catch {
    // a synchronous destination has nothing to flush
  }
}
