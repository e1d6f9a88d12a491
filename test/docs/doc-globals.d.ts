/**
 * What the documentation's TypeScript examples use without defining: stand-ins for the
 * reader's own services, and vitest's `expect`. Everything Cairn provides is imported by the
 * examples themselves, so a renamed or retyped API fails the docs test.
 */
type Order = {
  id: string;
  total: number;
  email: string;
  customerId: string;
  vip?: boolean;
};
declare function charge(order: { id: string; total: number }): Promise<{ chargeId: string }>;
declare function ship(
  payment: { chargeId: string },
  options: { signal: AbortSignal; idempotencyKey: string },
): Promise<{ trackingNumber: string }>;
declare const sendReceipt: import("../../src/index.ts").Workflow<{ to: string }, string>;
declare const reminder: import("../../src/index.ts").Workflow<{ to: string }, string>;
declare function build(from: Date, to: Date): Promise<unknown>;
declare const expect: typeof import("vitest").expect;
/** An engine opened earlier on the page. */
declare const cairn: import("../../src/index.ts").Cairn;
/** A reader's own store, checked by the conformance suite (docs/guide/testing.md). */
declare const MyStore: {
  open(options: { database: string }): Promise<import("../../src/index.ts").Store>;
};
declare function freshDatabaseName(): string;
