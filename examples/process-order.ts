/**
 * The seed example: charge a card, ship the goods, email a receipt. Three side effects in
 * three different systems, each of which can fail on its own. Every completed step is a
 * checkpoint, so a retry or a crash never charges the card twice.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineWorkflow, NonRetryableError } from "../src/index.ts";

export const OrderInput = z.object({
  id: z.string().min(1),
  total: z.number().positive(),
  email: z.email(),
  items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })).min(1),
});
export type Order = z.infer<typeof OrderInput>;

export const processOrder = defineWorkflow(
  // The schema rejects bad input at `cairn.start`, before any run exists.
  { name: "process-order", input: OrderInput, retry: { maxAttempts: 3 }, timeout: "1h" },
  async (ctx, order) => {
    const payment = await ctx.step("charge", ({ idempotencyKey }) =>
      payments.charge(order, idempotencyKey),
    );
    const shipment = await ctx.step(
      "ship",
      // The default first retry waits 1s; 250ms keeps the demo's visible retry quick.
      {
        retry: { maxAttempts: 5, backoff: "exponential", initialInterval: "250ms" },
        timeout: "30s",
      },
      // `signal` aborts the call when the attempt times out; `idempotencyKey` is the same on
      // every attempt, so the carrier creates one shipment however often we ask.
      ({ signal, idempotencyKey }) =>
        shipping.createShipment(order, payment, { signal, idempotencyKey }),
    );
    const receipt = await ctx.step("email", ({ idempotencyKey }) =>
      mail.send(order.email, `Order ${order.id} is on its way: ${shipment.trackingNumber}`, {
        idempotencyKey,
      }),
    );
    return {
      orderId: order.id,
      chargeId: payment.chargeId,
      trackingNumber: shipment.trackingNumber,
      receiptId: receipt.messageId,
    };
  },
);

// ---- simulated services ----
// Stand-ins for a payment provider, a carrier API and a mail service. Like real ones they
// are slow, occasionally unavailable, and take an idempotency key: a repeated key returns
// the earlier result instead of charging or shipping again.

/** Where the fake services write what they do; tests silence it. */
export const serviceLog = { write: (line: string) => console.log(`    ${line}`) };

/** Orders above this total are declined: a permanent failure, so it is not retried. */
export const cardLimit = 5_000;

/** How often each service was called, to show that completed steps never run again. */
export const serviceCalls = { charge: 0, ship: 0, email: 0 };

const charges = new Map<string, { chargeId: string; amount: number }>();
const shipments = new Map<string, { trackingNumber: string; carrier: string }>();
const shipAttempts = new Map<string, number>();
const emails = new Map<string, { messageId: string }>();

const payments = {
  async charge(order: Order, idempotencyKey: string) {
    serviceCalls.charge++;
    await sleep(30);
    const earlier = charges.get(idempotencyKey);
    if (earlier) return earlier;
    if (order.total > cardLimit) {
      serviceLog.write(`[payments] card declined for order ${order.id} ($${order.total})`);
      // Retrying cannot turn a decline into an approval: fail the step at once.
      throw new NonRetryableError(`Card declined: $${order.total} is over the limit.`);
    }
    const charge = { chargeId: `ch_${1001 + charges.size}`, amount: order.total };
    charges.set(idempotencyKey, charge);
    serviceLog.write(`[payments] charged $${order.total.toFixed(2)} → ${charge.chargeId}`);
    return charge;
  },
};

const shipping = {
  async createShipment(
    order: Order,
    payment: { chargeId: string },
    { signal, idempotencyKey }: { signal: AbortSignal; idempotencyKey: string },
  ) {
    serviceCalls.ship++;
    const attempt = (shipAttempts.get(idempotencyKey) ?? 0) + 1;
    shipAttempts.set(idempotencyKey, attempt);
    await sleep(50, undefined, { signal }); // a timed-out attempt stops waiting here
    // The carrier's API is flaky: the first request for each shipment fails.
    if (attempt === 1) {
      serviceLog.write("[shipping] carrier API unavailable (503)");
      throw new Error("Carrier API unavailable (503).");
    }
    const earlier = shipments.get(idempotencyKey);
    if (earlier) return earlier;
    const units = order.items.reduce((sum, item) => sum + item.qty, 0);
    const shipment = { trackingNumber: `TRK${100_001 + shipments.size}`, carrier: "Cairnex" };
    shipments.set(idempotencyKey, shipment);
    serviceLog.write(
      `[shipping] ${units} unit(s) paid by ${payment.chargeId} shipped → ${shipment.trackingNumber}`,
    );
    return shipment;
  },
};

const mail = {
  async send(to: string, subject: string, { idempotencyKey }: { idempotencyKey: string }) {
    serviceCalls.email++;
    await sleep(15);
    const earlier = emails.get(idempotencyKey);
    if (earlier) return earlier;
    const message = { messageId: `msg_${1 + emails.size}` };
    emails.set(idempotencyKey, message);
    serviceLog.write(`[email] to ${to}: "${subject}"`);
    return message;
  },
};
