import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";
import type { AppEnv } from "./app-env.ts";

/** Paths that belong to the API or operations and never fall back to the web UI. */
const apiPrefixes = ["/api/", "/healthz", "/readyz", "/metrics"];

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/**
 * The UI's own policy: scripts and styles from this origin only (Vite emits no inline
 * script), API calls to this origin only, never framed.
 */
const uiHeaders = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/**
 * Where the built UI lives: `dist/ui` beside the compiled server (`dist/server/…` → `dist/ui`),
 * or, running from source with tsx, the repository's `dist/ui`.
 */
export function defaultUiDir(): string | undefined {
  const here = fileURLToPath(new URL(".", import.meta.url));
  for (const candidate of [join(here, "../ui"), join(here, "../../dist/ui")]) {
    if (existsSync(join(candidate, "index.html"))) return resolve(candidate);
  }
  return undefined;
}

export function isApiPath(rawPath: string): boolean {
  // `//api/v1/runs` or `/API/V1/RUNS` are no UI pages either: they get the API's JSON 404.
  const path = rawPath.toLowerCase().replace(/\/{2,}/g, "/");
  return (
    path === "/api" || apiPrefixes.some((p) => path === p.replace(/\/$/, "") || path.startsWith(p))
  );
}

const notBuiltPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cairn</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Cairn</h1><p>The web UI is not built. Run <code>npm run build</code> (or <code>npm run build:ui</code>)
in the Cairn repository, then reload. The API is served at <a href="/api/docs">/api/docs</a>.</p></body></html>`;

/**
 * Serves the web UI for GET/HEAD requests no API route matched: a file of the build when
 * one exists (hashed `assets/*` cached for a year), else `index.html` for client-side
 * routes. Returns undefined for API paths and other methods, which get the JSON 404.
 */
export async function serveUi(
  c: Context<AppEnv>,
  dir: string | undefined,
): Promise<Response | undefined> {
  const method = c.req.method;
  if (method !== "GET" && method !== "HEAD") return undefined;
  let path: string;
  try {
    path = decodeURIComponent(new URL(c.req.url).pathname);
  } catch {
    return undefined;
  }
  if (isApiPath(path)) return undefined;
  if (dir === undefined) {
    return c.html(notBuiltPage, 503, { ...uiHeaders, "Cache-Control": "no-store" });
  }
  const file = resolve(dir, `.${path}`);
  if (file !== dir && !file.startsWith(dir + sep)) return undefined;
  const extension = extname(file);
  if (extension !== "" && file !== dir) {
    const body = await readIfFile(file);
    if (body === undefined) return undefined;
    const hashed = path.startsWith("/assets/");
    return c.body(new Uint8Array(body), 200, {
      ...uiHeaders,
      "Content-Type": contentTypes[extension] ?? "application/octet-stream",
      "Cache-Control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
    });
  }
  // A client-side route (/runs/abc): the app shell, never cached so a new build shows at once.
  const index = await readIfFile(join(dir, "index.html"));
  if (index === undefined)
    return c.html(notBuiltPage, 503, { ...uiHeaders, "Cache-Control": "no-store" });
  return c.body(new Uint8Array(index), 200, {
    ...uiHeaders,
    "Content-Type": contentTypes[".html"] as string,
    "Cache-Control": "no-cache",
  });
}

async function readIfFile(file: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(file)).isFile()) return undefined;
    return await readFile(file);
  } catch {
    return undefined;
  }
}
