import { createHash } from "node:crypto";
import { isBuiltin } from "node:module";
import { dirname } from "node:path";

/**
 * TypeScript scripts are transpiled here, in the worker, and run by plain `node`: starting
 * Node with the tsx loader costs ~400 ms a script (the loader, then its own esbuild), while
 * esbuild stays warm in the worker and answers in a few ms, and the same text is compiled
 * once per process.
 *
 * Only a script that imports nothing but Node's built-in modules (and has no `import.meta` or
 * `import()` whose meaning depends on where the file lives) runs this way: the compiled code
 * runs from a temporary directory, where a relative import or a package would not resolve.
 * For any other script, null: the caller runs it with tsx from where it is.
 */
export async function compileTypeScript(text: string, file?: string): Promise<string | null> {
  const key = createHash("sha256")
    .update(file ?? "")
    .update("\0")
    .update(text)
    .digest("hex");
  const known = compiled.get(key);
  if (known !== undefined) return known;
  const code = await compile(text, file);
  if (compiled.size >= maxRemembered) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, code);
  return code;
}

const maxRemembered = 500;
const compiled = new Map<string, string | null>();

async function compile(text: string, file: string | undefined): Promise<string | null> {
  const esbuild = await import("esbuild");
  let result: Awaited<ReturnType<typeof esbuild.build>>;
  try {
    result = await esbuild.build({
      stdin: {
        contents: text,
        loader: "ts",
        sourcefile: file ?? "script.ts",
        ...(file ? { resolveDir: dirname(file) } : {}),
      },
      // Bundling with every import external only parses this one file, and lists its imports.
      bundle: true,
      plugins: [
        {
          name: "external",
          setup(build) {
            build.onResolve({ filter: /.*/ }, (args) =>
              args.kind === "entry-point" ? undefined : { path: args.path, external: true },
            );
          },
        },
      ],
      format: "esm",
      platform: "node",
      target: "node20",
      tsconfigRaw: {},
      sourcemap: "inline",
      metafile: true,
      write: false,
      logLevel: "silent",
    });
  } catch {
    // A syntax error: tsx reports it in the script's own words.
    return null;
  }
  const imports = Object.values(result.metafile?.inputs ?? {}).flatMap((input) => input.imports);
  if (!imports.every((i) => i.kind === "import-statement" && isBuiltin(i.path))) return null;
  const code = result.outputFiles?.[0]?.text;
  if (code === undefined) return null;
  const body = code.slice(0, code.lastIndexOf("//# sourceMappingURL="));
  if (/\bimport\s*\.\s*meta\b|\bimport\s*\(/.test(body)) return null;
  return code;
}
