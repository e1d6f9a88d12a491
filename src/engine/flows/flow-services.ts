import type { StepRunInfo, Workflow } from "../../core/workflow.ts";
import type { InterpreterPaths } from "../../worker/script/interpreters.ts";

export { interpreterFor } from "../../worker/script/interpreters.ts";

import type { PythonRequirementsOptions } from "../../worker/script/python-env.ts";
import type { OutputSink } from "../../worker/script/run-script.ts";
import type { HttpPolicy } from "./http-step.ts";

/** A TypeScript function a worker offers to flows' `action` steps; gets the step's `with`. */
export type FlowAction = (input: Record<string, unknown>, info: StepRunInfo) => unknown;

/** Settings of flow execution in a process. */
export interface FlowOptions {
  /** Interpreter executables; unset ones come from CAIRN_PYTHON/CAIRN_BASH/CAIRN_NODE or PATH. */
  interpreters?: InterpreterPaths;
  /** Installing Python scripts' `requirements` into cached virtualenvs. (Default: off) */
  pythonRequirements?: PythonRequirementsOptions;
  /** Bytes of a script's stdout+stderr kept as its logs. (Default: 1 MiB) */
  maxLogBytes?: number;
  /** Between SIGTERM and SIGKILL of a script's process group. (Default: 2_000) */
  killGraceMs?: number;
  /** SSRF guard and limits of `http` steps. */
  http?: HttpPolicy;
  /** Receives every script's output, e.g. to store it as step logs. */
  onOutput?: (runId: string, step: string, stream: "stdout" | "stderr", chunk: string) => void;
  /** How often a worker looks for newly deployed flows, in ms. (Default: 1_000) */
  refreshMs?: number;
}

/** What the flow interpreter needs from the engine around it. */
export interface FlowServices {
  options: FlowOptions;
  action(name: string): FlowAction | undefined;
  actionNames(): string[];
  /** A workflow (code or flow) by name, for `workflow` steps and `onFailure`. */
  workflow(name: string): Workflow<unknown, unknown>;
}

export type { OutputSink };
