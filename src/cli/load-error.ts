import { relative } from "node:path";

/** Node's codes for a CommonJS module that cannot `require` an ES module package. */
const esmFromCommonJs = new Set([
  "ERR_REQUIRE_ESM",
  "ERR_REQUIRE_ASYNC_MODULE",
  "ERR_PACKAGE_PATH_NOT_EXPORTED",
]);

/**
 * One line that says why a user module did not load and what to change. A CommonJS project
 * (no `"type": "module"`) on a Node.js without `require(esm)` gets the fix, not Node's
 * stack; any other error keeps its message and the line of user code that threw.
 * `CAIRN_DEBUG=1` adds the whole stack.
 */
export function describeLoadError(file: string, error: unknown): string {
  const shown = relative(process.cwd(), file) || file;
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && esmFromCommonJs.has(code) && /cairn/.test(e.message)) {
    return (
      `Cannot load ${shown}: it is compiled as CommonJS (its package.json has no "type": "module") ` +
      `and Node.js ${process.version} cannot require the cairnjs ES module: add "type": "module" ` +
      `to package.json (or name the file .mts), or use Node.js >= 20.19.`
    );
  }
  if (process.env.CAIRN_DEBUG) return `Cannot load ${shown}: ${e.stack ?? e.message}`;
  const where = e.stack
    ?.split("\n")
    .find((line) => line.includes(file) || line.includes(shown))
    ?.trim();
  return `Cannot load ${shown}: ${e.name}: ${e.message}${where ? ` (${where})` : ""}`;
}
