/** One deployed version of a flow document. */
export interface FlowVersionRecord {
  name: string;
  /** 1, 2, 3… per flow: each deploy of a changed document adds one. */
  version: number;
  /** sha256 of the normalized document: an unchanged document deploys as a no-op. */
  hash: string;
  /** The text as deployed (YAML or JSON), kept for display and diff. */
  source: string;
  format: "yaml" | "json";
  /** The parsed document as JSON text. */
  document: string;
  description: string | null;
  author: string | null;
  createdAt: number;
}

/** The flows part of a store: versioned flow documents. */
export interface FlowStore {
  /**
   * Adds a version unless the latest one has the same hash (then returns it with
   * `created: false`). Safe when two processes deploy at once: versions stay dense.
   */
  deploy(
    flow: Omit<FlowVersionRecord, "version" | "createdAt">,
    at: number,
  ): Promise<{ record: FlowVersionRecord; created: boolean }>;
  /** The latest version of every flow, by name. */
  latest(): Promise<FlowVersionRecord[]>;
  /** One version, or the latest when `version` is omitted. */
  get(name: string, version?: number): Promise<FlowVersionRecord | undefined>;
  /** Every version of a flow, newest first, without `source` and `document`. */
  versions(name: string): Promise<Omit<FlowVersionRecord, "source" | "document">[]>;
  /** Changes whenever any flow is deployed: workers compare it to reload cheaply. */
  stamp(): Promise<string>;
}
