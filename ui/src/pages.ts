import type { ComponentType } from "react";

/**
 * Every page of the app in one list: its URL pattern, its sidebar entry (if any) and how
 * to load it. Pages other than the runs list load on demand, so the first page stays
 * small. A new page is one entry here and one file in `pages/`.
 */
export interface PageEntry {
  path: string;
  nav?: { label: string; icon: string };
  load: () => Promise<ComponentType>;
}

export const pages: readonly PageEntry[] = [
  {
    path: "runs",
    nav: { label: "Runs", icon: "▤" },
    load: () => import("./pages/runs-page.tsx").then((m) => m.RunsPage),
  },
  {
    path: "runs/:id",
    load: () => import("./pages/run-page.tsx").then((m) => m.RunPage),
  },
  {
    path: "workflows",
    nav: { label: "Workflows", icon: "⌘" },
    load: () => import("./pages/workflows-page.tsx").then((m) => m.WorkflowsPage),
  },
  {
    path: "workflows/:name",
    load: () => import("./pages/workflow-page.tsx").then((m) => m.WorkflowPage),
  },
  {
    path: "flows",
    nav: { label: "Flows", icon: "⑂" },
    load: () => import("./flow-editor/flows-page.tsx").then((m) => m.FlowsPage),
  },
  {
    path: "flows/:name",
    load: () => import("./flow-editor/flow-page.tsx").then((m) => m.FlowPage),
  },
  {
    path: "schedules",
    nav: { label: "Schedules", icon: "◷" },
    load: () => import("./pages/schedules-page.tsx").then((m) => m.SchedulesPage),
  },
  {
    path: "events",
    nav: { label: "Events", icon: "✉" },
    load: () => import("./pages/events-page.tsx").then((m) => m.EventsPage),
  },
  {
    path: "workers",
    nav: { label: "Workers", icon: "⚙" },
    load: () => import("./pages/workers-page.tsx").then((m) => m.WorkersPage),
  },
];
