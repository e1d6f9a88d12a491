/**
 * `cairnjs/client`: a Cairn server over HTTP, with the shape of the embedded API.
 * @example
 * import { connect } from "cairnjs/client";
 * const cairn = connect("http://127.0.0.1:7420", { token: process.env.CAIRN_TOKEN });
 * const run = await cairn.start("process-order", { id: "o1", total: 10 }, { id: "order-o1" });
 * console.log(await run.result());
 * @module cairnjs/client
 */
import { type ConnectOptions, RemoteCairn } from "./remote-cairn.ts";

export { type ConnectOptions, RemoteCairn, type RemoteRunFilter } from "./remote-cairn.ts";
export {
  RemoteCairnError,
  RemoteUnavailableError,
  type UnavailableReason,
} from "./remote-error.ts";
export type { RemoteFlows } from "./remote-flows.ts";
export type { RunPage, RunSummary } from "./wire.ts";
export type {
  BulkResult,
  FlowDeployed,
  FlowSummary,
  FlowVersion,
  LogLine,
  LogPage,
  PurgeResult,
  RemoteBulkRequest,
  RemoteRunSelection,
  RemoteUpdate,
} from "./wire-operations.ts";

/**
 * A client of the Cairn server at `url`. Nothing is sent until the first call; errors come
 * back as `CairnError`s carrying the server's code (and `status`), no answer at all as a
 * `RemoteUnavailableError`.
 */
export function connect(url: string, options: ConnectOptions = {}): RemoteCairn {
  return new RemoteCairn(url, options);
}
