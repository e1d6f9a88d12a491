import { problemTable } from "./problems.ts";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * A self-contained page rendering `/api/openapi.json` (the machine may have no internet, so
 * no CDN). The spec is put into the page with `textContent` only, never as HTML; the
 * inline script and style run under a per-response CSP nonce.
 */
export function docsPage(nonce: string): string {
  const problems = Object.entries(problemTable)
    .map(
      ([code, { status, title }]) =>
        `<tr id="problem-${escapeHtml(code)}"><td><code>${escapeHtml(code)}</code></td><td>${status}</td><td>${escapeHtml(title)}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cairn HTTP API</title>
<style nonce="${nonce}">
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0; } code, pre { font: 13px ui-monospace, monospace; }
.op { border: 1px solid #ddd; border-radius: 6px; margin: .75rem 0; padding: .5rem .75rem; }
.method { display: inline-block; min-width: 4.5rem; font-weight: 700; text-transform: uppercase; }
.policy { float: right; font-size: 12px; background: #eef; border-radius: 4px; padding: 0 .4rem; }
pre { background: #f6f6f6; padding: .5rem; overflow: auto; max-height: 24rem; }
table { border-collapse: collapse; } td { border-bottom: 1px solid #eee; padding: .2rem .6rem; }
</style>
</head>
<body>
<h1>Cairn HTTP API</h1>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>. Authenticate with
<code>Authorization: Bearer &lt;token&gt;</code> when auth is on; the badge on each operation names the least role it needs.</p>
<div id="ops">Loading…</div>
<h2 id="problems">Problems</h2>
<p>Errors are <code>application/problem+json</code> documents whose <code>type</code> points here and whose <code>code</code> is one of:</p>
<table>${problems}</table>
<script nonce="${nonce}">
(async () => {
  const root = document.getElementById("ops");
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  try {
    const spec = await (await fetch("/api/openapi.json")).json();
    root.textContent = "";
    root.append(el("p", (spec.info && spec.info.title || "") + " " + (spec.info && spec.info.version || "")));
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const [method, op] of Object.entries(item)) {
        const box = el("details", undefined, "op");
        const summary = el("summary");
        summary.append(el("span", method, "method"), el("code", path), el("span", op["x-cairn-policy"] || "", "policy"));
        if (op.summary) summary.append(el("div", op.summary));
        box.append(summary);
        if (op.description) box.append(el("p", op.description));
        const details = { parameters: op.parameters, requestBody: op.requestBody, responses: op.responses };
        box.append(el("pre", JSON.stringify(details, null, 2)));
        root.append(box);
      }
    }
    const schemas = el("details", undefined, "op");
    schemas.append(el("summary", "Schemas"), el("pre", JSON.stringify((spec.components || {}).schemas || {}, null, 2)));
    root.append(schemas);
  } catch (error) {
    root.textContent = "Could not load /api/openapi.json: " + error;
  }
})();
</script>
</body>
</html>`;
}
