interface Input {
  batch: { rows: { id: number; amount: number }[]; count: number };
}

/** Pretends to load the transformed rows into a warehouse; returns what it loaded. */
export default async function load({ batch }: Input): Promise<{ loaded: number; total: number }> {
  const total = batch.rows.reduce((sum, row) => sum + row.amount, 0);
  console.log(`loading ${batch.count} rows`);
  return { loaded: batch.count, total };
}
