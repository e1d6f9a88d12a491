/**
 * `npm start`: runs every example against a real SQLite file and prints what happened.
 * Set CAIRN_DB to use another database (e.g. `CAIRN_DB=sqlite:/tmp/demo.db npm start`).
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Cairn, type RunInfo, type RunStatus, type StepInfo } from "../src/index.ts";
import { expenseApproval } from "./approval.ts";
import { syncContact } from "./debounced-webhook.ts";
import { inventoryReport, publishReport, sampleSkus } from "./fan-out.ts";
import { hourlyEtl } from "./hourly-etl.ts";
import { customerExport } from "./per-customer.ts";
import { processOrder, serviceCalls } from "./process-order.ts";

const db = process.env.CAIRN_DB ?? "sqlite:.cairn/examples.db";
const workflows = [
  processOrder,
  expenseApproval,
  inventoryReport,
  publishReport,
  hourlyEtl,
  customerExport,
  syncContact,
];
// Run ids are the idempotency keys of starts: a fresh suffix lets `npm start` run again and
// again on the same database, where reusing an id would return the earlier run (see below).
const stamp = Date.now().toString(36);

console.log(`Cairn examples · database ${db}`);
const cairn = await Cairn.open({ db, workflows });
await cairn.worker({ concurrency: 50 });

// ---- 1. process-order: charge → ship (fails once, retried) → email ----
heading("process-order", "charge → ship → email; the carrier fails once, the retry is journaled");
const order = {
  id: "1001",
  total: 129.9,
  email: "ada@example.com",
  items: [
    { sku: "SKU-001", qty: 2 },
    { sku: "SKU-017", qty: 1 },
  ],
};
const orderRun = await cairn.start(processOrder, order, { id: `order-1001-${stamp}` });
const orderOutput = await orderRun.result();
await report(orderRun.id);

heading("process-order (declined)", "a NonRetryableError fails the step at once, no retries");
const declined = await cairn.start(
  processOrder,
  { ...order, id: "1002", total: 9_999 },
  { id: `order-1002-${stamp}` },
);
await declined.result().catch(() => {}); // the failure is the point: report() prints it
await report(declined.id);

// ---- 2. expense-approval: wait for an event ----
heading("expense-approval", "waits up to a day for `expense.approved`, holding no worker slot");
const expenseId = `exp-${stamp}`;
const approval = await cairn.start(
  expenseApproval,
  { expenseId, amount: 420, submitter: "ada" },
  { id: `expense-${stamp}` },
);
await waitForStatus(approval.id, "waiting");
console.log(`    run is waiting; sending expense.approved { expenseId: "${expenseId}" }`);
const eventId = `review-${stamp}`;
await cairn.sendEvent(
  "expense.approved",
  { expenseId, approved: true, reviewer: "grace" },
  { id: eventId }, // the id makes a re-sent event a no-op
);
await approval.result();
await report(approval.id);

// ---- 3. inventory-report: 40 parallel steps, an aggregate, a child workflow ----
heading("inventory-report", "fan-out to 40 parallel steps, aggregate, then a child workflow");
const inventory = await cairn.start(
  inventoryReport,
  { warehouse: "lyon-2", skus: sampleSkus },
  { id: `inventory-${stamp}` },
);
await inventory.result();
await report(inventory.id);
for (const child of await cairn.listRuns({ parentId: inventory.id })) {
  console.log("  child run:");
  await report(child.id);
}

// ---- 4. schedules and flow control ----
heading(
  "hourly-etl",
  "a cron trigger; backfill of the last three hours, each run with its interval",
);
const hour = 3_600_000;
const thisHour = Math.floor(Date.now() / hour) * hour;
const etlSchedule = "hourly-etl@0 * * * *@UTC";
const backfill = await cairn.schedules.backfill(etlSchedule, {
  from: thisHour - 3 * hour,
  to: thisHour,
});
console.log(
  `    backfill created ${backfill.created.length} run(s) (existing slots are left alone)`,
);
for (const runId of backfill.created) {
  const output = await cairn.handle(runId).result();
  console.log(`  run     ${runId}  → ${JSON.stringify(output)}`);
}
const next = await cairn.schedules.preview(etlSchedule, 2);
console.log(`    next fires: ${next.map((d) => d.toISOString()).join(", ")}`);

heading("customer-export", "at most two exports at once per customer; the rest wait in the store");
const exports = [];
for (const [i, customer] of ["acme", "acme", "acme", "acme", "globex"].entries()) {
  exports.push(
    await cairn.start(
      customerExport,
      { customer, report: `r${i}` },
      { id: `export-${i}-${stamp}` },
    ),
  );
}
for (const run of exports) console.log(`  run     ${run.id}  → ${await run.result()}`);

heading(
  "sync-contact",
  "a burst of three webhook events, debounced into one run with the last data",
);
for (const email of ["a@old.example", "b@mid.example", "c@new.example"]) {
  await cairn.sendEvent("contact.updated", { contactId: `c-${stamp}`, email });
}
const [debounced] = await cairn.listRuns({ workflow: "sync-contact", limit: 1 });
console.log(`    one run queued for the burst; it starts after 5 s of quiet …`);
if (debounced)
  console.log(`  run     ${debounced.id}  → ${await cairn.handle(debounced.id).result()}`);

// ---- flows: a YAML document on the same engine (Python extract, Bash transform, TS load) ----
heading("etl (flow)", "examples/flows/etl.flow.yaml: each script step is a checkpoint");
const flowFile = new URL("./flows/etl.flow.yaml", import.meta.url);
const deployed = await cairn.flows.deploy(readFileSync(flowFile, "utf8"), {
  baseDir: dirname(fileURLToPath(flowFile)),
});
console.log(
  `    deployed ${deployed.name} v${deployed.version}${deployed.created ? "" : " (unchanged)"}`,
);
const etlRun = await cairn.start("etl", { day: "2026-12-01", rows: 4 }, { id: `etl-${stamp}` });
await etlRun.result();
await report(etlRun.id);

await cairn.close(); // drains in-flight work and releases leases; the process can now exit

// ---- 5. durability: a new engine on the same file ----
heading("durability", "a second engine opens the same file, as after a restart or a deploy");
const callsBefore = { ...serviceCalls };
const reopened = await Cairn.open({ db, workflows });
await reopened.worker(); // a live worker: it would re-execute anything left to do
const again = await reopened.start(processOrder, order, { id: orderRun.id });
const sameOutput = JSON.stringify(await again.result()) === JSON.stringify(orderOutput);
const resent = await reopened.sendEvent(
  "expense.approved",
  { expenseId, approved: true, reviewer: "grace" },
  { id: eventId },
);
await reopened.close();
const unchanged = JSON.stringify(serviceCalls) === JSON.stringify(callsBefore);
console.log(
  `    start(process-order, { id: "${orderRun.id}" }) again → created: ${again.created}, ` +
    `same output: ${sameOutput}`,
);
console.log(
  `    service calls ${JSON.stringify(serviceCalls)} → ${unchanged ? "unchanged: no step ran again" : "CHANGED"}`,
);
console.log(`    sendEvent(id "${eventId}") again → duplicate: ${resent.duplicate}`);
console.log("\nAll examples done.");

// ---- printing ----

function heading(name: string, what: string): void {
  console.log(`\n▸ ${name} — ${what}`);
}

async function report(runId: string): Promise<void> {
  const run = await cairn.getRun(runId);
  const took = run.finishedAt ? `${run.finishedAt.getTime() - run.createdAt.getTime()} ms` : "-";
  console.log(`  run     ${run.id}  ${run.workflow}  ${run.status} in ${took}`);
  printSteps(run.steps);
  if (run.status === "completed") console.log(`  output  ${JSON.stringify(run.output)}`);
  if (run.error) console.log(`  error   ${run.error.name}: ${run.error.message}`);
}

function printSteps(steps: StepInfo[]): void {
  const label = (s: StepInfo) => (s.kind === "step" ? s.key : `${s.key} (${s.kind})`);
  const width = Math.min(24, Math.max(...steps.map((s) => label(s).length)));
  const line = (s: StepInfo, first: boolean) => {
    const attempts = `${s.attempt} attempt${s.attempt === 1 ? " " : "s"}`;
    const duration = s.durationMs === null ? "" : `${s.durationMs} ms`;
    console.log(
      `  ${first ? "steps" : "     "}   ${label(s).padEnd(width)}  ${s.status.padEnd(9)}  ${attempts}  ${duration}`,
    );
  };
  // Long fan-outs are summarized: the first few, a one-line digest, then the tail.
  const shown = steps.length > 8 ? [...steps.slice(0, 3), ...steps.slice(-2)] : steps;
  shown.forEach((s, i) => {
    if (shown !== steps && i === 3) console.log(`          … ${digest(steps.slice(3, -2))}`);
    line(s, i === 0);
  });
}

function digest(steps: StepInfo[]): string {
  const durations = steps.map((s) => s.durationMs ?? 0);
  const statuses = [...new Set(steps.map((s) => s.status))].join("/");
  const attempts = Math.max(...steps.map((s) => s.attempt));
  return (
    `${steps.length} more: ${statuses}, at most ${attempts} attempt${attempts === 1 ? "" : "s"}, ` +
    `${Math.min(...durations)}–${Math.max(...durations)} ms each`
  );
}

/** Polls until the run reaches `status`; the approval example sends its event then. */
async function waitForStatus(runId: string, status: RunStatus): Promise<RunInfo> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const run = await cairn.getRun(runId);
    if (run.status === status) return run;
    if (Date.now() > deadline) throw new Error(`Run ${runId} is ${run.status}, not ${status}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
