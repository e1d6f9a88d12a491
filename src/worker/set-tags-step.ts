import { checkTags } from "../core/tags.ts";
import type { RunId } from "../core/types.ts";
import type { WorkflowContext } from "../core/workflow.ts";
import type { UiStore } from "../store/ui-store.ts";

/**
 * `ctx.setTags`: a step named `setTags` whose body writes the tags, so a replay returns the
 * recorded outcome instead of writing again. Setting a tag is an upsert, so an attempt cut
 * short by a crash and run again leaves the same tags. The tags are checked (and copied)
 * before the step: bad ones throw at the call, deterministically, and record nothing.
 */
export function setTagsStep(
  ctx: Pick<WorkflowContext, "step">,
  store: Pick<UiStore, "tags">,
  runId: RunId,
  tags: Record<string, string>,
): Promise<void> {
  const checked = { ...checkTags(tags) };
  return ctx.step("setTags", async () => {
    await store.tags.set(runId, checked);
  });
}
