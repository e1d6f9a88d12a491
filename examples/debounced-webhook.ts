import { defineWorkflow } from "../src/index.ts";

/**
 * A debounced webhook: a CRM sends a burst of `contact.updated` events for one contact;
 * one sync runs, 5 s after the last of them, with the last event's data.
 */
export const syncContact = defineWorkflow(
  {
    name: "sync-contact",
    triggers: [{ event: "contact.updated" }],
    debounce: { period: "5s", key: (input: { contactId: string }) => input.contactId },
  },
  async (ctx, input: { contactId: string; email: string }) =>
    ctx.step("push-to-mailer", () => `synced ${input.contactId} <${input.email}>`),
);
