/** A bench phase's measurements, and how the whole-path bench puts its batches together. */

export const rounded = (v: number) => Math.round(v * 100) / 100;
export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export interface Phase {
  perSecond: number;
  workflows: number;
  seconds: number;
  /** CPU ms per workflow of each process over the phase (own stack; the bench itself always). */
  cpuMsPerWorkflow: Record<string, number>;
  /** Frontend requests per workflow by operation, from the server's metrics (own stack). */
  roundTripsPerWorkflow?: Record<string, number>;
  /** The server's own billable-action estimate per workflow by type (its `action` counter). */
  serverActionsPerWorkflow?: Record<string, number>;
}

/** `orders` indexes cut into `count` consecutive batches of (nearly) equal size. */
export function batches(orders: number, count: number): number[][] {
  const n = Math.min(count, orders);
  return Array.from({ length: n }, (_, b) =>
    Array.from(
      { length: Math.floor(((b + 1) * orders) / n) - Math.floor((b * orders) / n) },
      (_, i) => Math.floor((b * orders) / n) + i,
    ),
  );
}

/** One phase from its batches: rates over the summed time, costs per workflow weighted by size. */
export function mergePhases(parts: Phase[]): Phase {
  const workflows = sum(parts.map((p) => p.workflows));
  const seconds = sum(parts.map((p) => p.seconds));
  const weighted = (pick: (p: Phase) => Record<string, number> | undefined) => {
    const totals: Record<string, number> = {};
    for (const p of parts)
      for (const [key, v] of Object.entries(pick(p) ?? {}))
        totals[key] = (totals[key] ?? 0) + v * p.workflows;
    return Object.fromEntries(
      Object.entries(totals)
        .map(([key, v]) => [key, rounded(v / workflows)] as const)
        .sort((a, b) => b[1] - a[1]),
    );
  };
  return {
    perSecond: workflows / seconds,
    workflows,
    seconds: rounded(seconds),
    cpuMsPerWorkflow: weighted((p) => p.cpuMsPerWorkflow),
    ...(parts.every((p) => p.roundTripsPerWorkflow)
      ? {
          roundTripsPerWorkflow: weighted((p) => p.roundTripsPerWorkflow),
          serverActionsPerWorkflow: weighted((p) => p.serverActionsPerWorkflow),
        }
      : {}),
  };
}

/** The mean of each wait over the orders (0 where an order had no such pair), longest first. */
export function meanWaits(perOrder: Array<Record<string, number>>): Record<string, number> {
  const totals = new Map<string, number>();
  for (const waits of perOrder)
    for (const [key, ms] of Object.entries(waits)) totals.set(key, (totals.get(key) ?? 0) + ms);
  return Object.fromEntries(
    [...totals]
      .map(([key, ms]) => [key, rounded(ms / Math.max(perOrder.length, 1))] as const)
      .sort((a, b) => b[1] - a[1]),
  );
}
