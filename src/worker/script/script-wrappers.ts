/**
 * The small programs that call a user's script: they read the input (JSON) on stdin, call
 * `main(**input)` (Python) or the default export (JS/TS), and write the return value as
 * JSON on file descriptor 3, so the script's own prints stay logs and never mix with its
 * output.
 */
export const pythonWrapper = `
import inspect, json, os, runpy, sys
path = sys.argv[1]
args = json.loads(sys.stdin.read() or "{}")
namespace = runpy.run_path(path, run_name="cairn_script")
main = namespace.get("main")
if not callable(main):
    sys.stderr.write("The script defines no main(...) function.\\n")
    sys.exit(2)
params = inspect.signature(main).parameters
if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
    args = {k: v for k, v in args.items() if k in params}
result = main(**args)
if inspect.iscoroutine(result):
    import asyncio
    result = asyncio.run(result)
with os.fdopen(3, "w") as out:
    json.dump(result, out, default=str)
`;

export const javascriptWrapper = `
import { readFileSync, writeSync, closeSync } from "node:fs";
import { pathToFileURL } from "node:url";
const text = readFileSync(0, "utf8");
const input = text === "" ? {} : JSON.parse(text);
const mod = await import(pathToFileURL(process.argv[2]).href);
const fn = typeof mod.default === "function" ? mod.default : mod.main;
if (typeof fn !== "function") {
  process.stderr.write("The script has no default export function (or main).\\n");
  process.exit(2);
}
const result = await fn(input);
const json = JSON.stringify(result === undefined ? null : result);
let offset = 0;
const bytes = Buffer.from(json);
while (offset < bytes.length) offset += writeSync(3, bytes, offset);
closeSync(3);
process.exit(0);
`;
