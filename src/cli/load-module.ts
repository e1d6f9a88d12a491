import { pathToFileURL } from "node:url";
import { UsageError } from "./errors.ts";

type ScopedImport = (specifier: string, parentURL: string) => Promise<Record<string, unknown>>;

const scoped = new Map<number, Promise<ScopedImport | undefined>>();

/**
 * Imports a user module (TypeScript or JavaScript) by path. TypeScript goes through tsx's
 * ESM loader, registered once per `generation` in its own namespace so every file loaded by
 * one command shares the same module instances (a workflow re-exported by two files stays one
 * object); a new generation (`cairn dev` after a file changed) gets fresh instances of every
 * file. tsx is only loaded when user code is: `cairn runs list` never pays for it. Without
 * tsx installed, JavaScript still loads with a plain `import()`.
 */
export async function importUserModule(
  path: string,
  generation = 0,
): Promise<Record<string, unknown>> {
  let register = scoped.get(generation);
  if (!register) {
    register = import("tsx/esm/api").then(
      ({ register }) =>
        register({ namespace: `cairn-cli-${process.pid}-${generation}` }).import as ScopedImport,
      () => undefined,
    );
    scoped.set(generation, register);
  }
  const load = await register;
  const url = pathToFileURL(path).href;
  if (!load && /\.[cm]?tsx?$/.test(path)) {
    throw new UsageError(
      `Loading TypeScript (${path}) needs tsx: install it with \`npm install tsx\`.`,
    );
  }
  const namespace = load
    ? await load(url, import.meta.url)
    : ((await import(generation === 0 ? url : `${url}?generation=${generation}`)) as Record<
        string,
        unknown
      >);
  // A .ts file outside an ESM package is compiled to CommonJS: its exports then sit on
  // `default`, marked `__esModule`. Unwrap them so both kinds of file look the same.
  const cjs = namespace.default as { __esModule?: unknown } | undefined;
  return cjs?.__esModule === true ? (cjs as Record<string, unknown>) : namespace;
}
