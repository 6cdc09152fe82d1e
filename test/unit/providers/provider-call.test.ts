import type { ActivityOptions } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import { SmsProviderError } from '../../../domain/errors';
import {
  BUY_NUMBER_BUDGET_MS,
  FIND_NUMBER_BUDGET_MS,
  RECONCILE_BUDGET_MS,
  REQUEST_TIMEOUT_MS,
  SEND_BUDGET_MS,
  providerCall,
} from '../../../providers/provider-call';
import { SEND_ACTIVITY, VENUE_NUMBER_PURCHASE_ACTIVITY } from '../../../workflows/activity-options';

const startToClose = (options: ActivityOptions) => msToNumber(options.startToCloseTimeout ?? 0);

describe('provider time budgets fit the activities that spend them', () => {
  test("a send attempt's reconciliation and send end 5 s or more before its startToClose", () => {
    expect(RECONCILE_BUDGET_MS + SEND_BUDGET_MS + 5_000).toBeLessThanOrEqual(startToClose(SEND_ACTIVITY));
    expect(REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(Math.min(RECONCILE_BUDGET_MS, SEND_BUDGET_MS));
  });

  test("a number purchase's look-up and purchase end 5 s or more before its startToClose", () => {
    expect(FIND_NUMBER_BUDGET_MS + BUY_NUMBER_BUDGET_MS + 5_000).toBeLessThanOrEqual(
      startToClose(VENUE_NUMBER_PURCHASE_ACTIVITY),
    );
  });
});

describe('providerCall', () => {
  const mapError = (err: unknown) => new SmsProviderError('ProviderUnavailable', 'MAPPED', String(err));
  const never = () => new Promise<never>(() => undefined);

  test('work that outlasts its budget fails as ETIMEDOUT when the budget runs out', async () => {
    const started = Date.now();
    await expect(
      providerCall({ provider: 'twilio', what: 'send', budgetMs: 50 }, never, mapError),
    ).rejects.toMatchObject({ type: 'ProviderUnavailable', code: 'ETIMEDOUT' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test("the caller's abort ends it at once as ABORTED, with the caller's reason", async () => {
    const controller = new AbortController();
    const call = providerCall(
      { provider: 'plivo', what: 'send', budgetMs: 60_000, signal: controller.signal },
      never,
      mapError,
    );
    controller.abort(new Error('activity timed out'));
    await expect(call).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'plivo: send aborted: activity timed out',
    });
  });

  test('other failures go through the adapter mapping', async () => {
    await expect(
      providerCall(
        { provider: 'twilio', what: 'send', budgetMs: 1_000 },
        () => Promise.reject(new Error('x')),
        mapError,
      ),
    ).rejects.toMatchObject({ code: 'MAPPED' });
  });
});
