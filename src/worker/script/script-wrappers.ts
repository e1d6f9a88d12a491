/**
 * The small programs that call a user's script: they read the input (JSON) on stdin, call
 * `main(**input)` (Python) or the default export (JS/TS), and write the return value as
 * JSON on file descriptor 3, so the script's own prints stay logs and never mix with its
 * output.
 */
export const pythonWrapper = `
import json, os, sys, types
path = sys.argv[1]
args = json.loads(sys.stdin.read() or "{}")
with open(path, "rb") as source:
    code = compile(source.read(), path, "exec")
# A real module, as runpy would make (dataclasses and pickle look the script up by name);
# runpy itself is skipped with inspect: together ~5 ms of every start.
module = types.ModuleType("cairn_script")
module.__file__ = path
sys.modules["cairn_script"] = module
exec(code, module.__dict__)
main = getattr(module, "main", None)
if not callable(main):
    sys.stderr.write("The script defines no main(...) function.\\n")
    sys.exit(2)
# Keyword parameters read from the code object rather than inspect.signature.
fn = getattr(main, "__func__", main)
co = getattr(fn, "__code__", None)
if co is not None and not co.co_flags & 0x08:  # no **kwargs: pass only what main names
    named = co.co_varnames[: co.co_argcount + co.co_kwonlyargcount]
    args = {k: v for k, v in args.items() if k in named}
result = main(**args)
if type(result).__name__ == "coroutine":
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
