import { describe, expect, it } from "vitest";
import { BatchQueue } from "./batch-queue.ts";

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("BatchQueue", () => {
  it("flushes what one turn wrote as one batch, in order", async () => {
    const batches: number[][] = [];
    const queue = new BatchQueue<number>(async (batch) => {
      batches.push(batch);
    });
    queue.push(1);
    queue.push(2);
    await queue.idle();
    queue.push(3);
    await queue.idle();
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it("holds a flush across turns while told to, then flushes everything at once", async () => {
    const batches: number[][] = [];
    let holding = true;
    const queue = new BatchQueue<number>(
      async (batch) => {
        batches.push(batch);
      },
      { holdWhile: () => holding, maxHoldMs: 60_000 },
    );
    for (let i = 1; i <= 5; i++) {
      queue.push(i);
      await turn();
      await turn();
    }
    expect(batches).toEqual([]);
    holding = false;
    await queue.idle();
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
  });

  it("never holds longer than maxHoldMs", async () => {
    const batches: number[][] = [];
    const queue = new BatchQueue<number>(
      async (batch) => {
        batches.push(batch);
      },
      { holdWhile: () => true, maxHoldMs: 5 },
    );
    queue.push(1);
    await queue.idle();
    expect(batches).toEqual([[1]]);
  });
});
