import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeViolations,
  runHeadingShows,
  seriousA11yViolations,
  startUi,
  type UiHarness,
} from "./support/ui-harness.ts";

interface Run {
  id: string;
  status: string;
}

let h: UiHarness;
beforeAll(async () => {
  h = await startUi();
});
afterAll(async () => {
  await h?.close();
});

const checkout = (orderId: string) => ({
  workflow: "checkout",
  input: { orderId, quantity: 2, express: false, currency: "EUR" },
});

describe("runs page", () => {
  it("shows a run started elsewhere appear and finish live, with no a11y violations", async () => {
    const page = await h.newPage();
    await page.goto("/runs");
    await page.getByText("No runs yet.").waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");

    const run = await h.api<Run>("/api/v1/runs", { method: "POST", body: checkout("live-1") });
    const row = page.locator(`tr[data-run-id="${run.id}"]`);
    await row.waitFor();
    await row.locator('[data-status="completed"]').waitFor();
    expect(await row.textContent()).toContain("checkout");
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    h.assertNoConsoleErrors();
    await page.close();
  });

  it("filters by status in the URL", async () => {
    const failed = await h.api<Run>("/api/v1/runs", {
      method: "POST",
      body: { workflow: "flaky", input: { fail: true } },
    });
    const page = await h.newPage();
    await page.goto("/runs?status=failed");
    await page.locator(`tr[data-run-id="${failed.id}"] [data-status="failed"]`).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    await page.getByLabel("Status").selectOption("completed");
    await page.waitForURL(/status=completed/);
    await page.locator(`tr[data-run-id="${failed.id}"]`).waitFor({ state: "detached" });
    await page.close();
  });
});

describe("tags and search", () => {
  it("filters by a tag and by a value in the input, from the URL and the fields", async () => {
    for (const [id, orderId, channel] of [
      ["find-1", "o-17", "web"],
      ["find-2", "o-18", "web"],
      ["find-3", "o-17", "shop"],
    ] as const) {
      await h.api("/api/v1/runs", {
        method: "POST",
        body: { ...checkout(orderId), id, tags: { channel } },
      });
    }
    const page = await h.newPage();
    await page.goto("/runs?idPrefix=find-&tag=channel:web");
    await page.locator('tr[data-run-id="find-2"]').waitFor();
    expect(await page.locator("tbody tr").count()).toBe(2);

    await page.getByLabel("Input/output has").fill("input.orderId:o-17");
    await page.waitForURL(/where=input.orderId/);
    await page.locator('tr[data-run-id="find-2"]').waitFor({ state: "detached" });
    expect(await page.locator("tbody tr").count()).toBe(1);
    await page.locator('tr[data-run-id="find-1"]').waitFor();
    // Bulk by filter cannot honour a search: only selected runs can be acted on.
    expect(await page.getByRole("button", { name: "Cancel all matching…" }).isDisabled()).toBe(
      true,
    );
    h.assertNoConsoleErrors();
    await page.close();
  });
});

describe("bulk actions", () => {
  it("cancels selected runs, and every run of a filter after a dry-run count", async () => {
    for (const id of ["sel-1", "sel-2", "bulk-1", "bulk-2", "bulk-3"]) {
      await h.api("/api/v1/runs", {
        method: "POST",
        body: { workflow: "approval", id, input: { id } },
      });
    }
    const page = await h.newPage();
    await page.goto("/runs?workflow=approval&idPrefix=sel-");
    await page.locator('tr[data-run-id="sel-2"] [data-status="waiting"]').waitFor();
    await page.getByLabel("Select run sel-1").check();
    await page.getByLabel("Select run sel-2").check();
    await page.getByRole("button", { name: "Cancel selected" }).click();
    await page.getByText("Cancelled 2 of 2 selected runs.").waitFor();
    await page.locator('tr[data-run-id="sel-1"] [data-status="cancelled"]').waitFor();
    await page.locator('tr[data-run-id="sel-2"] [data-status="cancelled"]').waitFor();

    await page.getByLabel("Run id starts with").fill("bulk-");
    await page.waitForURL(/idPrefix=bulk-/);
    await page.locator('tr[data-run-id="bulk-3"] [data-status="waiting"]').waitFor();
    await page.getByRole("button", { name: "Cancel all matching…" }).click();
    const dialog = page.getByRole("dialog", { name: "Cancel all matching runs" });
    await dialog
      .getByTestId("bulk-preview")
      .getByText(/3\s+runs match, 3 would be cancelled/)
      .waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    await dialog.getByRole("button", { name: "Cancel 3 runs" }).click();
    await dialog.getByText("Cancelled 3 of 3 matching runs.").waitFor();
    await dialog.getByRole("button", { name: "Done" }).click();
    for (const id of ["bulk-1", "bulk-2", "bulk-3"]) {
      await page.locator(`tr[data-run-id="${id}"] [data-status="cancelled"]`).waitFor();
    }
    h.assertNoConsoleErrors();
    await page.close();
  });
});

describe("run page", () => {
  it("draws the waterfall with the failed attempt, and a step's output", async () => {
    const run = await h.api<Run>("/api/v1/runs", { method: "POST", body: checkout("wf-1") });
    const page = await h.newPage();
    await page.goto(`/runs/${run.id}`);
    await page.locator('h1 [data-status="completed"]').waitFor();
    for (const key of ["reserve", "charge", "ship"]) {
      await page.locator(`button[data-step="${key}"]`).waitFor();
    }
    const charge = page.locator('button[data-step="charge"]');
    await charge.getByText("1 failed attempt").waitFor();
    await charge.click();
    const detail = page.getByRole("region", { name: "Step charge" });
    await detail.getByText('"chargeId": "ch_wf-1"').waitFor();
    // Both attempts, the first with its error, and the console output of each.
    const attempts = detail.getByRole("table", { name: "Attempts" });
    await attempts.getByText("failed (see the logs below)").waitFor();
    expect(await attempts.locator("tbody tr").count()).toBe(2);
    const logs = detail.getByRole("list", { name: "Step logs" });
    await logs.getByText("charging wf-1, attempt 1").waitFor();
    await logs.getByText("charging wf-1, attempt 2").waitFor();
    await charge.locator(".wf-seg-backoff").waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    h.assertNoConsoleErrors();
    await page.close();
  });

  it("cancels a waiting run", async () => {
    const run = await h.api<Run>("/api/v1/runs", {
      method: "POST",
      body: { workflow: "approval", input: { id: "a-1" } },
    });
    const page = await h.newPage();
    await page.goto(`/runs/${run.id}`);
    await page.locator('h1 [data-status="waiting"]').waitFor();
    await page.locator('button[data-step="approved"]').getByText("waits for event").waitFor();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator('h1 [data-status="cancelled"]').waitFor();
    expect((await h.api<Run>(`/api/v1/runs/${run.id}`)).status).toBe("cancelled");
    await page.close();
  });

  it("retries a failed run until it completes", async () => {
    const run = await h.api<Run>("/api/v1/runs", {
      method: "POST",
      body: { workflow: "flaky", input: { fail: true } },
    });
    const page = await h.newPage();
    await page.goto(`/runs/${run.id}`);
    await page.locator('h1 [data-status="failed"]').waitFor();
    await page
      .getByRole("region", { name: "Run error" })
      .getByText("transform failed on purpose", { exact: true })
      .waitFor();
    await page.getByRole("button", { name: "Retry run" }).click();
    await page.locator('h1 [data-status="completed"]').waitFor();
    await page.close();
  });

  it("reruns from a step into a new run", async () => {
    const run = await h.api<Run>("/api/v1/runs", { method: "POST", body: checkout("rr-1") });
    const page = await h.newPage();
    await page.goto(`/runs/${run.id}`);
    await page.locator('h1 [data-status="completed"]').waitFor();
    await page.locator('button[data-step="ship"]').click();
    await page.getByRole("button", { name: "Rerun from this step…" }).click();
    const dialog = page.getByRole("dialog", { name: "Rerun from step ship" });
    await dialog.getByRole("button", { name: "Rerun" }).click();
    await page.waitForURL(
      (url) => url.pathname.startsWith("/runs/") && !url.pathname.endsWith(run.id),
    );
    const rerunId = decodeURIComponent(new URL(page.url()).pathname.slice("/runs/".length));
    await runHeadingShows(page, rerunId, "completed");
    const rerun = await h.api<{ steps: { key: string }[]; output: unknown }>(
      `/api/v1/runs/${rerunId}`,
    );
    expect(rerun.steps.map((s) => s.key)).toEqual(["reserve", "charge", "ship"]);
    expect(rerun.output).toMatchObject({ charge: { chargeId: "ch_rr-1" } });
    await page.close();
  });

  it("links a run that continued as new to the next run of its chain, and back", async () => {
    await h.api<Run>("/api/v1/runs", {
      method: "POST",
      body: { workflow: "count-on", input: { n: 1, to: 2 }, id: "chain-1" },
    });
    const page = await h.newPage();
    await page.goto("/runs/chain-1");
    await page.locator('h1 [data-status="completed"]').waitFor();
    await page.getByText("Continued as new: the result is the last run's").waitFor();
    await page.locator("header").getByRole("link", { name: "chain-1~2" }).click();
    await page.waitForURL("**/runs/chain-1~2");
    await runHeadingShows(page, "chain-1~2", "completed");
    await page.locator("header").getByRole("link", { name: "chain-1", exact: true }).waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    h.assertNoConsoleErrors();
    await page.close();
  });

  it("says so for a run id that does not exist, without a script error", async () => {
    const page = await h.newPage();
    await page.goto("/runs/no-such-run");
    await page.getByText('There is no run with id "no-such-run"').waitFor();
    h.assertNoConsoleErrors();
    await page.close();
  });
});

describe("a run of 5,000 steps", () => {
  it("renders only the visible rows of the waterfall and scrolls to the last step", async () => {
    const run = await h.api<Run>("/api/v1/runs", {
      method: "POST",
      body: { workflow: "many-steps", input: { n: 5_000 } },
    });
    const page = await h.newPage();
    // The runs list follows the run live until it completes (executing 5,000 steps takes a while).
    await page.goto("/runs?workflow=many-steps");
    await page
      .locator(`tr[data-run-id="${run.id}"] [data-status="completed"]`)
      .waitFor({ timeout: 100_000 });
    await page.goto(`/runs/${run.id}`);
    await page.locator('h1 [data-status="completed"]').waitFor();
    await page.locator('button[data-step="item-0"]').waitFor();
    const drawn = await page.locator("button[data-step]").count();
    expect(drawn).toBeLessThan(60);
    await page.locator(".wf-scroll").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.locator('button[data-step="item-4999"]').click();
    await page.getByRole("region", { name: "Step item-4999" }).getByText("4999").first().waitFor();
    await page.close();
  }, 150_000);
});
