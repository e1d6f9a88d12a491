import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeViolations,
  seriousA11yViolations,
  startUi,
  type UiHarness,
} from "./support/ui-harness.ts";

let h: UiHarness;
beforeAll(async () => {
  h = await startUi();
});
afterAll(async () => {
  await h?.close();
});

describe("schedules page", () => {
  it("previews a backfill's slots before creating them, pauses and resumes", async () => {
    const page = await h.newPage();
    // The browser's zone differs from the schedule's: fire times show in Europe/Paris.
    await page.emulateMedia({ reducedMotion: "reduce" });
    await page.goto("/schedules");
    const row = page.locator("tr", { hasText: "nightly-report" });
    await row.waitFor();
    expect(await row.textContent()).toContain("0 2 * * *");
    await row
      .getByText(/GMT\+1|CET|GMT\+2|CEST/)
      .first()
      .waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");

    await row.getByRole("button", { name: "Backfill…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("From (your time)").fill("2026-01-01T00:00");
    await dialog.getByLabel("To (your time)").fill("2026-01-04T00:00");
    const preview = dialog.getByTestId("backfill-preview");
    await preview.getByText("3 slots in range").waitFor();
    expect(await preview.locator("li").count()).toBe(3);
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    await dialog.getByRole("button", { name: "Create 3 runs" }).click();
    await dialog.getByText("3 runs created for 3 slots.").waitFor();
    await dialog.getByRole("button", { name: "Done" }).click();

    await row.getByRole("button", { name: "Pause" }).click();
    await row.getByText("paused", { exact: true }).first().waitFor();
    await row.getByRole("button", { name: "Resume" }).click();
    await row.getByText("active", { exact: true }).waitFor();
    h.assertNoConsoleErrors();
    await page.close();
  });
});
