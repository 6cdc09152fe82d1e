/** Five no-op activities: the ceiling measures Temporal and the worker, not our code. */
export interface CeilingInput {
  /** About the size of an order event, so payloads weigh what the order path's weigh. */
  event: Record<string, unknown>;
}

const noop = async (input: CeilingInput): Promise<{ ok: true; orderId: unknown }> => ({
  ok: true,
  orderId: input.event.OrderId,
});

export const ceilingActivities = {
  stepOne: noop,
  stepTwo: noop,
  stepThree: noop,
  stepFour: noop,
  stepFive: noop,
};
export type CeilingActivities = typeof ceilingActivities;
