import { batches, meanWaits, mergePhases, type Phase } from '../../../bench/support/phases';

describe('batches', () => {
  test('cuts every index into consecutive turns of nearly equal size, none lost or repeated', () => {
    expect(batches(10, 3)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8, 9],
    ]);
    const all = batches(300, 7).flat();
    expect(all).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  test('never more turns than orders', () => {
    expect(batches(2, 3)).toEqual([[0], [1]]);
  });
});

describe('mergePhases', () => {
  const phase = (workflows: number, seconds: number, serverMs: number, polls?: number): Phase => ({
    perSecond: workflows / seconds,
    workflows,
    seconds,
    cpuMsPerWorkflow: { server: serverMs },
    ...(polls === undefined
      ? {}
      : { roundTripsPerWorkflow: { Poll: polls }, serverActionsPerWorkflow: { start: 1 } }),
  });

  test('the rate is over the summed time, not the mean of the batches’ rates', () => {
    // 100 in 10 s and 100 in 40 s: 200 in 50 s is 4/s (the mean of 10/s and 2.5/s would be 6.25).
    expect(mergePhases([phase(100, 10, 1), phase(100, 40, 1)]).perSecond).toBe(4);
  });

  test('costs per workflow are weighted by each batch’s size', () => {
    const merged = mergePhases([phase(100, 10, 30, 2), phase(300, 10, 50, 4)]);
    expect(merged.cpuMsPerWorkflow).toEqual({ server: 45 });
    expect(merged.roundTripsPerWorkflow).toEqual({ Poll: 3.5 });
    expect(merged).toMatchObject({ workflows: 400, seconds: 20 });
  });

  test('no server counts unless every batch had them', () => {
    expect(mergePhases([phase(10, 1, 1, 2), phase(10, 1, 1)]).roundTripsPerWorkflow).toBeUndefined();
  });
});

test('meanWaits: means over all orders (a pair an order lacks counts 0), longest first', () => {
  expect(meanWaits([{ 'A→B': 10, 'B→C': 2 }, { 'A→B': 30 }])).toEqual({ 'A→B': 20, 'B→C': 1 });
  expect(Object.keys(meanWaits([{ short: 1, long: 9 }]))).toEqual(['long', 'short']);
});
