import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const flowFile = /\.flow\.(ya?ml|json)$/;

/** Every `*.flow.yaml|yml|json` under a folder (recursively; node_modules and dot folders skipped). */
export function findFlowFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (flowFile.test(name)) out.push(path);
    }
  };
  if (statSync(folder).isDirectory()) walk(folder);
  return out;
}
