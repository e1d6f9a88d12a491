/**
 * A human in the loop: an expense waits for a reviewer's decision for up to a day. While it
 * waits the run holds no worker slot and no memory, only a row; it survives restarts.
 */
import { z } from "zod";
import { defineWorkflow } from "../src/index.ts";

export const ExpenseInput = z.object({
  expenseId: z.string().min(1),
  amount: z.number().positive(),
  submitter: z.string().min(1),
});

/**
 * What the reviewer's tool sends as `expense.approved`. One event carries the decision
 * either way: `approved: false` rejects the expense.
 */
export interface ApprovalEvent {
  expenseId: string;
  approved: boolean;
  reviewer: string;
}

export type Decision = "approved" | "rejected" | "timed-out";

export const expenseApproval = defineWorkflow(
  { name: "expense-approval", input: ExpenseInput },
  async (ctx, expense) => {
    await ctx.step("request-review", () => ({
      notified: "finance-team",
      summary: `${expense.submitter} asks for $${expense.amount.toFixed(2)}`,
    }));

    // `match` picks this expense's event among all `expense.approved` events; `null` means
    // nobody answered within a day.
    const answer = await ctx.waitForEvent<ApprovalEvent>("approval", {
      event: "expense.approved",
      match: { expenseId: expense.expenseId },
      timeout: "1d",
    });
    const decision: Decision =
      answer === null ? "timed-out" : answer.data.approved ? "approved" : "rejected";

    // A step, not plain code: telling the submitter is a side effect that must happen once.
    await ctx.step("notify-submitter", () => ({
      to: expense.submitter,
      message: `Your expense ${expense.expenseId} was ${decision}.`,
    }));
    return { expenseId: expense.expenseId, decision, reviewer: answer?.data.reviewer ?? null };
  },
);
