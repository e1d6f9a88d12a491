import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { parseFlowText } from "../core/flow/validate-flow.ts";

/**
 * The flow files `cairn dev` loaded, found by flow name, so the web editor can save an edited
 * flow back to the file it came from (the file stays the source of truth in dev mode).
 * Files are read at each lookup: a rename of a flow inside its file is seen at once.
 */
export class FlowFileWriter {
  readonly #files: readonly string[];

  constructor(files: readonly string[]) {
    this.#files = files;
  }

  /** The file whose document is named `name`, or undefined. */
  find(name: string): string | undefined {
    for (const file of this.#files) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        continue;
      }
      const parsed = parseFlowText(text);
      const value = parsed.ok ? (parsed.value as { name?: unknown } | null) : null;
      if (value && typeof value === "object" && value.name === name) return file;
    }
    return undefined;
  }

  /** The path as shown to users: relative to the working directory when inside it. */
  display(file: string): string {
    const rel = relative(process.cwd(), file);
    return rel.startsWith("..") ? file : rel;
  }

  /**
   * Replaces the file's text in one rename, so the dev watcher never reads a half-written
   * file and a crash leaves the old text or the new one.
   */
  write(file: string, source: string): void {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, source, "utf8");
    renameSync(temp, file);
  }
}
