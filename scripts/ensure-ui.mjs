// Builds the web UI into dist/ui when it is missing or older than its sources, so
// `npm start` and the browser tests always serve the current UI without a manual build.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const built = join(root, "dist/ui/index.html");

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

export function uiIsStale() {
  if (!existsSync(built)) return true;
  return newestMtime(join(root, "ui")) > statSync(built).mtimeMs;
}

export function ensureUi() {
  if (!uiIsStale()) return false;
  execFileSync(
    process.execPath,
    [join(root, "node_modules/vite/bin/vite.js"), "build", "--config", "ui/vite.config.ts"],
    {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      // Under vitest NODE_ENV is "test", which would make Vite emit React's development build.
      env: { ...process.env, NODE_ENV: "production" },
    },
  );
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!ensureUi()) console.log("dist/ui is up to date");
}
