import { randomUUID } from 'node:crypto';
import { orderWorkflowId } from '../../../temporal/ids';
import { SEND_ATTEMPT_TIMEOUT_MS } from '../../../domain/limits';
import { runClosedAt } from '../../../temporal/order-runs';
import { useFake } from '../../support/provider-fakes/fake-server';
import { startTwilioFake, twilioEnv } from '../../support/provider-fakes/twilio-fake';
import { pendingAttempt, waitFor } from '../../support/temporal';
import { startOptedInOrder, useTestWorkers } from '../../support/workers';

// A customer's send in doubt holds them (docs/adr/0012) until it is resolved. An order an operator
// terminates mid-send never resolves it and writes no history row; the customer's next order must
// not wait out the two-hour abandoned-hold fallback because of it.

const twilio = useFake(startTwilioFake);
const { w, taskQueue } = useTestWorkers('terminated-holder', { env: () => twilioEnv(twilio) });

test(
  "an order terminated while its send was in doubt: the customer's next order takes the hold and sends",
  async () => {
    const phone = '+14155550177';
    twilio.fail({ to: phone, times: 1_000 }, { status: 503, message: 'Service Unavailable' });
    const first = await startOptedInOrder(w, taskQueue, { PhoneNumber: phone });
    const firstHandle = w.client.workflow.getHandle(orderWorkflowId(first.orderId));
    // Each 503 may have reached the provider: the first order keeps the hold while it retries.
    await waitFor(async () => ((await pendingAttempt(firstHandle, 'sendSms')) ?? 0) >= 2, {
      description: "the first order's send retrying with the hold",
    });
    expect(await w.repos.orderClaims.find(first.orderId)).toMatchObject({ providerMessageId: null });
    // What the next order's send asks Temporal about the holder's run.
    const { runId } = await firstHandle.describe();
    expect(await runClosedAt(w.client, firstHandle.workflowId, runId)).toBeNull();
    const terminatedAt = Date.now();
    await firstHandle.terminate('stopped by ops');
    const closedAt = await runClosedAt(w.client, firstHandle.workflowId, runId);
    expect(closedAt?.getTime()).toBeGreaterThanOrEqual(terminatedAt - 1_000);
    expect(await runClosedAt(w.client, firstHandle.workflowId, randomUUID())).toEqual(new Date(0)); // gone
    twilio.resetFaults();

    const next = await startOptedInOrder(w, taskQueue, { PhoneNumber: phone, VenueId: first.venueId });
    const nextHandle = w.client.workflow.getHandle(orderWorkflowId(next.orderId));
    await waitFor(async () => (await nextHandle.describe()).status.name === 'COMPLETED', {
      timeoutMs: SEND_ATTEMPT_TIMEOUT_MS + 45_000,
      description: 'the next order to finish (it would wait up to 2 h behind the terminated hold)',
    });
    expect(await nextHandle.result()).toMatchObject({ outcome: 'sent' });
    const texts = twilio.messages().filter((m) => m.to === phone);
    expect(texts).toHaveLength(1);
    // Not before an attempt the terminated run had on its way could have reached the provider.
    expect(texts[0].dateCreated.getTime()).toBeGreaterThanOrEqual(
      (closedAt?.getTime() ?? 0) + SEND_ATTEMPT_TIMEOUT_MS,
    );
  },
  SEND_ATTEMPT_TIMEOUT_MS + 90_000,
);
