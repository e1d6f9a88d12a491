import type { ApiRoute } from "./api-route.ts";
import { docs, openapiDocument } from "./routes/docs.ts";
import { getFlowFile, saveFlowFile } from "./routes/flow-files.ts";
import { testFlowStep } from "./routes/flow-step-tests.ts";
import {
  decideApproval,
  deployFlow,
  flowSchema,
  getFlow,
  getFlowVersion,
  listFlows,
  listFlowVersions,
} from "./routes/flows.ts";
import { receiveWebhook } from "./routes/hooks.ts";
import { sendEvent, sendSignal } from "./routes/messages.ts";
import { healthz, metrics, readyz } from "./routes/operations.ts";
import { purgeRuns } from "./routes/runs-purge.ts";
import { getRun, getRunResult, getRunSteps, listRuns, replayRun } from "./routes/runs-read.ts";
import { bulkRuns, getRunLogs, rerunRun } from "./routes/runs-ui.ts";
import { cancelRun, retryRun, startRun } from "./routes/runs-write.ts";
import {
  backfillSchedule,
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  pauseSchedule,
  resumeSchedule,
} from "./routes/schedules.ts";
import { streamUpdates } from "./routes/stream.ts";
import { listEvents, listWorkers } from "./routes/ui-reads.ts";
import { listWorkflows } from "./routes/workflows.ts";

/**
 * Every route of the server with its auth policy, in one place:
 *
 * | route                                  | policy   |
 * | -------------------------------------- | -------- |
 * | GET  /healthz, /readyz                 | public   |
 * | GET  /api/openapi.json, /api/docs      | public   |
 * | POST /api/v1/hooks/{name}              | webhook (HMAC signature instead of a token) |
 * | GET  /metrics                          | viewer   |
 * | GET  /api/v1/runs, /runs/{id}, /runs/{id}/steps, /runs/{id}/result, /runs/{id}/logs, /workflows, /stream | viewer |
 * | GET  /api/v1/events, /workers          | viewer   |
 * | POST /api/v1/runs/{id}/replay          | viewer (no side effects) |
 * | POST /api/v1/runs, /runs/{id}/cancel, /runs/{id}/retry, /runs/{id}/signals/{name}, /events | operator |
 * | POST /api/v1/runs/bulk, /runs/{id}/rerun | operator |
 * | POST /api/v1/runs/purge (retention)    | admin    |
 * | GET  /api/v1/schedules, /schedules/{id} | viewer |
 * | POST /api/v1/schedules, /schedules/{id}/pause, /resume, /backfill; DELETE /schedules/{id} | operator |
 * | GET  /api/v1/flows, /flows/schema, /flows/{name}, /flows/{name}/versions, /versions/{v} | viewer |
 * | POST /api/v1/flows, /flows/{name}/steps/{step}/test, /runs/{id}/approvals/{step} | operator |
 * | GET  /api/v1/flows/{name}/file (cairn dev's flow files) | viewer |
 * | POST /api/v1/flows/{name}/file (save back to the file, then deploy) | operator |
 *
 * `test/server/auth.test.ts` fails when the app has a route this table does not declare.
 */
export const routeTable: readonly ApiRoute[] = [
  healthz,
  readyz,
  metrics,
  openapiDocument,
  docs,
  startRun,
  bulkRuns,
  purgeRuns,
  listRuns,
  getRun,
  getRunResult,
  getRunSteps,
  cancelRun,
  retryRun,
  replayRun,
  getRunLogs,
  rerunRun,
  listEvents,
  listWorkers,
  sendEvent,
  sendSignal,
  listWorkflows,
  flowSchema,
  listFlows,
  deployFlow,
  testFlowStep,
  getFlow,
  listFlowVersions,
  getFlowVersion,
  decideApproval,
  getFlowFile,
  saveFlowFile,
  listSchedules,
  createSchedule,
  getSchedule,
  pauseSchedule,
  resumeSchedule,
  backfillSchedule,
  deleteSchedule,
  streamUpdates,
  receiveWebhook,
];
