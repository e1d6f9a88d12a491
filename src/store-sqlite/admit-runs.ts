import type { AdmissionOutcome, RunAdmission } from "../store/store.ts";
import { flowControlParams, toRun } from "./rows.ts";
import type { Statements } from "./statements.ts";

/**
 * Admits runs started without their workflow's code, or fails them, inside the caller's
 * immediate transaction. A run with a `claim`, no delay and no journal is also taken in the
 * same UPDATE, as the claim statement would take it; the others wait for a claim.
 */
export function admitRuns(
  sql: Statements,
  admissions: readonly RunAdmission[],
  at: number,
): AdmissionOutcome {
  const outcome: AdmissionOutcome = { claimed: [], unclaimed: 0, failed: [] };
  for (const { id, admission, claim } of admissions) {
    if ("error" in admission) {
      if (sql.rejectAdmission.run(admission.error, at, at, id).changes > 0) outcome.failed.push(id);
      continue;
    }
    const { fields, delayMs } = admission;
    const admit = {
      id,
      at,
      ...flowControlParams(fields),
      deadline_at: fields.deadlineAt ?? null,
      available_at: at + delayMs,
      workflow_version: fields.workflowVersion ?? 1,
    };
    // Admitted now (not by another worker before), so never claimed: no crash to count and,
    // without a journal, no wait to resolve. A run with a journal (a copy), or not taken
    // for another reason, is only admitted and left to the claim, as on PostgreSQL.
    if (claim && delayMs === 0) {
      const row = sql.admitAndTake.get({
        ...admit,
        owner: claim.owner,
        lease_until: claim.leaseUntil,
      });
      if (row) {
        const run = toRun(row);
        outcome.claimed.push({
          run,
          token: run.fencingToken,
          takeover: false,
          crashes: 0,
          journalEmpty: true,
        });
        continue;
      }
    }
    outcome.unclaimed += sql.admit.run(admit).changes;
  }
  return outcome;
}
