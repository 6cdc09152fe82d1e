import { WorkflowFailedError } from '@temporalio/client';
import { orderWorkflowId } from '../../../temporal/ids';
import { rerunOrder } from '../../../temporal/rerun';
import { useFake } from '../../support/provider-fakes/fake-server';
import { startTwilioFake, twilioEnv } from '../../support/provider-fakes/twilio-fake';
import { waitFor } from '../../support/temporal';
import { useTimeSkippingEnvironment } from '../../support/time-skipping';
import { startOptedInOrder, useTestWorkers } from '../../support/workers';

// A provider outage only fails an order after a day of send retries (SEND_ACTIVITY's
// scheduleToClose). The production workers and activities (real SQL claims, the Twilio SDK against
// the fake) run here on the time-skipping server, which jumps over the retry backoffs: the day of
// retries takes seconds, and the failed run is a real one, failed the way an outage fails it.

const UNAVAILABLE = { status: 503, message: 'Service Unavailable' };

const env = useTimeSkippingEnvironment();
const twilio = useFake(startTwilioFake);
const { w, taskQueue } = useTestWorkers('rerun-outage', {
  env: () => ({ ...twilioEnv(twilio), TEMPORAL_ADDRESS: env.address }),
});

const sentTo = (phone: string) => twilio.messages().filter((m) => m.to === phone);

/** Waits (skipping time) for the run to end; the failure, or null when it completed. */
async function failureOf(workflowId: string, runId?: string): Promise<WorkflowFailedError | null> {
  return env.client.workflow
    .getHandle(workflowId, runId)
    .result()
    .then(
      () => null,
      (err: unknown) => {
        if (err instanceof WorkflowFailedError) return err;
        throw err;
      },
    );
}

test('failed by a day-long provider outage, rerun after it: sent, exactly one message at the provider', async () => {
  const phone = '+14155550711';
  twilio.fail({ to: phone, times: 1_000_000 }, UNAVAILABLE);
  const e = await startOptedInOrder(w, taskQueue, { PhoneNumber: phone });
  const workflowId = orderWorkflowId(e.orderId);

  expect(await failureOf(workflowId)).toBeInstanceOf(WorkflowFailedError);
  expect(sentTo(phone)).toHaveLength(0);
  expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
    expect.objectContaining({ status: 'failed', errorCode: 'HTTP_503' }),
  ]);

  twilio.resetFaults(); // the outage is over
  const rerun = await rerunOrder(w.client, e.orderId, 'ops-cli');
  if (!rerun.rerun) throw new Error(`rerun refused: ${rerun.message}`);
  expect(rerun.rerunOf.status).toBe('FAILED');
  expect(rerun.runId).not.toBe(rerun.rerunOf.runId);

  expect(await env.client.workflow.getHandle(workflowId, rerun.runId).result()).toMatchObject({
    outcome: 'sent',
    providerMessageId: sentTo(phone)[0]?.sid,
  });
  expect(sentTo(phone)).toHaveLength(1);
  expect((await w.repos.history.findByOrderId(e.orderId)).map((h) => h.status).sort()).toEqual([
    'failed',
    'sent',
  ]);
  const description = await w.client.workflow.getHandle(workflowId).describe();
  expect(description.memo).toMatchObject({ rerunOf: { runId: rerun.rerunOf.runId, status: 'FAILED' } });

  // Completed now: a second rerun is refused with the reason, and nothing new is started or sent.
  expect(await rerunOrder(w.client, e.orderId, 'ops-cli')).toMatchObject({
    rerun: false,
    reason: 'completed',
    message: expect.stringMatching(/completed \(outcome sent\)/),
  });
  expect((await w.client.workflow.getHandle(workflowId).describe()).runId).toBe(rerun.runId);
  expect(sentTo(phone)).toHaveLength(1);
}, 240_000);

test('the failed run had reached the provider (accepted, answer lost, then the outage): the rerun sends nothing', async () => {
  const phone = '+14155550712';
  twilio.acceptThenDrop(1);
  const e = await startOptedInOrder(w, taskQueue, { PhoneNumber: phone });
  const workflowId = orderWorkflowId(e.orderId);
  // The provider took the message but the answer never came back; from now on it is down for every
  // Messages call, sends and the retries' look-ups alike, so the run cannot find out and fails.
  await waitFor(async () => sentTo(phone).length === 1, { description: 'the fake accepted the message' });
  twilio.fail({ path: '/Messages', times: 1_000_000 }, UNAVAILABLE);
  expect(await failureOf(workflowId)).toBeInstanceOf(WorkflowFailedError);
  const [accepted] = sentTo(phone);
  expect(await w.repos.orderClaims.find(e.orderId)).toMatchObject({ providerMessageId: null });

  twilio.resetFaults();
  const rerun = await rerunOrder(w.client, e.orderId, 'api');
  if (!rerun.rerun) throw new Error(`rerun refused: ${rerun.message}`);
  // The claim says a send was attempted: the rerun's send reconciles first and adopts the message.
  expect(await env.client.workflow.getHandle(workflowId, rerun.runId).result()).toEqual({
    outcome: 'duplicate',
    providerMessageId: accepted.sid,
  });
  expect(sentTo(phone)).toHaveLength(1);
  expect(await w.repos.history.findByOrderId(e.orderId)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ status: 'failed' }),
      expect.objectContaining({ status: 'duplicate', providerMessageId: accepted.sid }),
    ]),
  );
}, 240_000);
