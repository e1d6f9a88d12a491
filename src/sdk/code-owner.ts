// For the CLI's console labels: the CLI may not reach into the worker's modules.
export { type CodeOwner, currentCodeOwner } from "../worker/step-scope.ts";
