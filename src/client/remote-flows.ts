import type { Transport } from "./transport.ts";
import type { FlowDeployed, FlowSummary, FlowVersion } from "./wire-operations.ts";

const flowPath = (name: string) => `/api/v1/flows/${encodeURIComponent(name)}`;

/**
 * Deployed flows (YAML/JSON DAGs) of a Cairn server: `remote.flows`, as `cairn.flows` is in
 * the embedded API. @throws CairnError `FLOW_INVALID` (every problem listed), `NOT_FOUND`, …
 */
export class RemoteFlows {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Deploys a flow document (YAML or JSON text) with the script files it names, by path;
   * a changed document becomes a new version, an unchanged one is reported `created: false`.
   */
  async deploy(
    source: string,
    options: { files?: Record<string, string> } = {},
  ): Promise<FlowDeployed> {
    const body = { source, ...(options.files === undefined ? {} : { files: options.files }) };
    return (await this.#transport.request<FlowDeployed>("POST", "/api/v1/flows", body)).body;
  }

  /** The latest version of every deployed flow. */
  async list(): Promise<FlowSummary[]> {
    return (await this.#transport.request<{ flows: FlowSummary[] }>("GET", "/api/v1/flows")).body
      .flows;
  }

  /** A flow's latest version, or the one given, with its text and parsed document. */
  async get(name: string, version?: number): Promise<FlowVersion> {
    const path = `${flowPath(name)}${version === undefined ? "" : `/versions/${version}`}`;
    return (await this.#transport.request<FlowVersion>("GET", path)).body;
  }

  /** Every version of a flow, newest first. */
  async versions(name: string): Promise<FlowSummary[]> {
    const path = `${flowPath(name)}/versions`;
    return (await this.#transport.request<{ versions: FlowSummary[] }>("GET", path)).body.versions;
  }
}
