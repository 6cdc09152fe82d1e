import type { ProviderName } from '../../../domain/enums';
import { orderWorkflowId } from '../../../temporal/ids';
import { useTestDatabase } from '../../support/db';
import { useFake, type FakeControls } from '../../support/provider-fakes/fake-server';
import { plivoEnv, startPlivoFake } from '../../support/provider-fakes/plivo-fake';
import { startTwilioFake, twilioEnv } from '../../support/provider-fakes/twilio-fake';
import { uniqueTaskQueue, waitFor } from '../../support/temporal';
import { startOptedInOrder, startTestWorkers } from '../../support/workers';

// A cancelled attempt must not reach the provider after the next attempt started. The provider fake
// holds the send's request while the worker is stopped with a one-second grace: the attempt is
// cancelled, and its held request must be aborted on the wire, never handled; the replacement
// worker's attempt then sends: one SMS, not two. The fake holds it for less than the SDK's own send
// budget (10 s), so only the attempt's cancellation can stop it in time. (The same cancellation
// reaches an attempt whose startToClose or heartbeat timeout passed.)

const HOLD_MS = 9_000;

const twilio = useFake(startTwilioFake);
const plivo = useFake(startPlivoFake);
const db = useTestDatabase();

// Both fakes configured; Twilio is the default provider unless a test says otherwise.
const credentials = () => ({ ...plivoEnv(plivo), ...twilioEnv(twilio) });

interface Side {
  controls: FakeControls;
  /** Ids of the messages the fake accepted for `to`. */
  sentTo(to: string): string[];
}

const sides = (): Record<ProviderName, Side | undefined> => ({
  twilio: {
    controls: twilio,
    sentTo: (to) =>
      twilio
        .messages()
        .filter((m) => m.to === to)
        .map((m) => m.sid),
  },
  plivo: {
    controls: plivo,
    sentTo: (to) =>
      plivo
        .messages()
        .filter((m) => `+${m.dst}` === to)
        .map((m) => m.uuid),
  },
  simulator: undefined,
});

test.each<[ProviderName, ProviderName, string]>([
  ['twilio', 'plivo', '+14155550601'],
  ['plivo', 'twilio', '+14155550602'],
])(
  'a slow %s holding a cancelled attempt: the held send is aborted, the order is sent once',
  async (primary, secondary, phone) => {
    const taskQueue = uniqueTaskQueue(`slow-${primary}`);
    const env = { ...credentials(), SMS_PROVIDER: primary, WORKER_SHUTDOWN_GRACE_SECONDS: '1' };
    let w = await startTestWorkers({ knex: db.knex, taskQueue, env });
    const fake = sides()[primary] as Side;
    const other = sides()[secondary] as Side;
    try {
      const result = (orderId: string) => w.client.workflow.getHandle(orderWorkflowId(orderId)).result();
      // The venue's first order buys its number, so the next order's first provider call is its send.
      const warmUp = await startOptedInOrder(w, taskQueue, { PhoneNumber: '+14155550600' });
      expect(await result(warmUp.orderId)).toMatchObject({ outcome: 'sent' });
      fake.controls.resetFaults();

      fake.controls.delay(HOLD_MS, 1);
      const e = await startOptedInOrder(w, taskQueue, { PhoneNumber: phone, VenueId: warmUp.venueId });
      await waitFor(async () => fake.controls.requests.length > 0, { description: 'the send held' });
      await w.shutdown(); // cancels the attempt after the grace time
      w = await startTestWorkers({ knex: db.knex, taskQueue, env, simulatorPath: w.simulatorPath });
      const outcome = await result(e.orderId);
      await fake.controls.settled(); // the held send: aborted by then, or handled

      const sent = fake.sentTo(phone);
      expect(sent).toHaveLength(1);
      const [held] = fake.controls.requests;
      expect(held).toMatchObject({ method: 'POST', outcome: 'abandoned' });
      expect(other.sentTo(phone)).toHaveLength(0);
      expect(outcome).toMatchObject({ outcome: 'sent', providerMessageId: sent[0] });
      expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
        expect.objectContaining({ status: 'sent', provider: primary, providerMessageId: sent[0] }),
      ]);
    } finally {
      await w.shutdown();
    }
  },
  60_000,
);
