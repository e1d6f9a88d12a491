import { ApiError, api, authHeaders } from "../api/client.ts";

/** A deployed version of a flow, as `GET /api/v1/flows/{name}/versions` lists it. */
export interface FlowVersionSummary {
  name: string;
  version: number;
  hash: string;
  format: "yaml" | "json";
  description: string | null;
  author: string | null;
  createdAt: string;
}

export interface FlowVersion extends FlowVersionSummary {
  document: Record<string, unknown>;
  source: string;
}

export interface Deployed {
  name: string;
  version: number;
  hash: string;
  created: boolean;
}

/** A deploy the server refused: every error of the document, each `path: message`. */
export class FlowRejected extends Error {
  override name = "FlowRejected";
  readonly errors: string[];
  constructor(message: string, errors: string[]) {
    super(message);
    this.errors = errors;
  }
}

const enc = encodeURIComponent;

export const listFlows = () =>
  api<{ flows: FlowVersionSummary[] }>("/api/v1/flows").then((r) => r.flows);

export const listVersions = (name: string) =>
  api<{ versions: FlowVersionSummary[] }>(`/api/v1/flows/${enc(name)}/versions`).then(
    (r) => r.versions,
  );

export const getVersion = (name: string, version: number | "latest") =>
  version === "latest"
    ? api<FlowVersion>(`/api/v1/flows/${enc(name)}`)
    : api<FlowVersion>(`/api/v1/flows/${enc(name)}/versions/${version}`);

/** The `cairn dev` file a flow came from, or null when it was deployed otherwise. */
export const getFlowFile = (name: string) =>
  api<{ path: string }>(`/api/v1/flows/${enc(name)}/file`).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  });

/**
 * Deploys a document's text; a changed document becomes a new version. With `toFile`, the
 * text is also written back to the flow's `cairn dev` file (after it validated).
 */
export async function deployFlow(source: string, toFile?: string): Promise<Deployed> {
  // Not `api()`: a 422 carries the list of errors, which the editor puts on the nodes.
  const path = toFile === undefined ? "/api/v1/flows" : `/api/v1/flows/${enc(toFile)}/file`;
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders() },
    body: JSON.stringify({ source }),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.status === 422) {
    const errors = Array.isArray(body.errors) ? body.errors.map(String) : [String(body.detail)];
    throw new FlowRejected(String(body.detail ?? "Invalid flow document"), errors);
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      String(body.code ?? response.status),
      String(body.detail ?? response.statusText),
    );
  }
  return body as unknown as Deployed;
}

export const startRun = (workflow: string, input: unknown) =>
  api<{ id: string; status: string }>("/api/v1/runs", {
    method: "POST",
    body: { workflow, input },
  });

/** Runs one step of the latest deployed version alone over sample data (a `cairn.flow-step` run). */
export const testStep = (flow: string, step: string, sample: unknown) =>
  api<{ id: string; status: string }>(`/api/v1/flows/${enc(flow)}/steps/${enc(step)}/test`, {
    method: "POST",
    body: sample,
  });
