// `node --import ./record-loads.mjs …`: appends the URL of every ES module the process loads
// to the file named by CAIRN_RECORD_LOADS, for tests of what a command imports.
import { register } from "node:module";

register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(process.env.CAIRN_RECORD_LOADS)}, url + "\\n");
  return next(url, context);
}`)}`,
);
