import { afterAll, beforeAll, describe, it } from "vitest";
import { startUi, type UiHarness } from "./support/ui-harness.ts";

let h: UiHarness;
beforeAll(async () => {
  h = await startUi();
});
afterAll(async () => {
  await h?.close();
});

describe("a server restart under an open page", () => {
  it("shows the reconnecting banner, then resumes live updates without a reload", async () => {
    const page = await h.newPage();
    await page.goto("/runs");
    await page.getByText("No runs yet.").waitFor();

    const restart = await h.crash();
    const banner = page.getByRole("status").filter({ hasText: "reconnecting" });
    await banner.waitFor();
    await restart();
    await banner.waitFor({ state: "detached", timeout: 30_000 });

    // The same page, never reloaded, shows a run started after the restart.
    const run = await h.api<{ id: string }>("/api/v1/runs", {
      method: "POST",
      body: { workflow: "flaky", input: { fail: false } },
    });
    await page.locator(`tr[data-run-id="${run.id}"] [data-status="completed"]`).waitFor();
    await page.close();
  });
});
