import type { Workflow } from "../api/types.ts";
import { formatDuration } from "../lib/format.ts";

/** A workflow's options as label/value pairs, skipping unset ones. */
export function optionEntries(workflow: Workflow): [string, string][] {
  const entries: [string, string][] = [];
  const options = workflow.options ?? {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === null) continue;
    entries.push([key, describe(value)]);
  }
  if (!("timeout" in options) && workflow.timeoutMs !== null) {
    entries.push(["timeout", formatDuration(workflow.timeoutMs)]);
  }
  return entries;
}

function describe(value: unknown): string {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  if (value && typeof value === "object") {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
      .join(", ");
  }
  return JSON.stringify(value);
}

/** `cron 0 * * * * (UTC)`, `event order.created`, or the trigger's JSON. */
export function triggerText(trigger: unknown): string {
  if (trigger && typeof trigger === "object") {
    const t = trigger as Record<string, unknown>;
    if (typeof t.cron === "string") return `cron ${t.cron}${t.tz ? ` (${String(t.tz)})` : ""}`;
    if (typeof t.event === "string") return `event ${t.event}`;
    if (typeof t.webhook === "string") return `webhook ${t.webhook}`;
    if (typeof t.type === "string") return `${t.type} ${String(t.name ?? t.value ?? "")}`.trim();
  }
  return JSON.stringify(trigger);
}
