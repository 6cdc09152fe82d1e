import { proxyActivities } from '@temporalio/workflow';
import { QUICK_CALL_ACTIVITY } from '../../workflows/activity-options';
import type { CeilingActivities, CeilingInput } from './activities';

// The order workflow's options for its quick calls: the same retry and timeout shape.
const { stepOne, stepTwo, stepThree, stepFour, stepFive } =
  proxyActivities<CeilingActivities>(QUICK_CALL_ACTIVITY);

/** The order workflow's shape with nothing in it: five sequential regular activities. */
export async function ceilingWorkflow(input: CeilingInput): Promise<void> {
  await stepOne(input);
  await stepTwo(input);
  await stepThree(input);
  await stepFour(input);
  await stepFive(input);
}
