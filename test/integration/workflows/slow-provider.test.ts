import type { ProviderName } from '../../../domain/enums';
import { orderWorkflowId } from '../../../temporal/ids';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import type { FakeControls } from '../../support/provider-fakes/fake-server';
import { startPlivoFake, type PlivoFake } from '../../support/provider-fakes/plivo-fake';
import { startTwilioFake, type TwilioFake } from '../../support/provider-fakes/twilio-fake';
import { uniqueTaskQueue } from '../../support/temporal';
import { startOptedInOrder, startTestWorkers } from '../../support/workers';

// A timed-out attempt must not reach the provider after the next attempt started. The send's attempt
// here times out through its failover deadline (SMS_FAILOVER_AFTER_SECONDS: the send's
// scheduleToClose), a few seconds in, while the provider fake still holds its request; the workflow
// then sends again. The held request must be aborted on the wire, never handled: one SMS, not two.
// The fake holds it for less than the SDK's own send budget (10 s), so only the attempt's
// cancellation can stop it in time.

const FAILOVER_AFTER_SECONDS = 3;
const HOLD_MS = 9_000;

let twilio: TwilioFake;
let plivo: PlivoFake;
let db: TestDatabase;

beforeAll(async () => {
  twilio = await startTwilioFake();
  plivo = await startPlivoFake();
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.destroy();
  await twilio?.stop();
  await plivo?.stop();
});
afterEach(() => {
  twilio.resetFaults();
  plivo.resetFaults();
});

const credentials = () => ({
  TWILIO_ACCOUNT_SID: twilio.accountSid,
  TWILIO_AUTH_TOKEN: twilio.authToken,
  TWILIO_API_BASE_URL: twilio.baseUrl,
  PLIVO_AUTH_ID: plivo.authId,
  PLIVO_AUTH_TOKEN: plivo.authToken,
  PLIVO_API_BASE_URL: plivo.baseUrl,
});

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
  'a slow %s holding an attempt past its timeout: the held send is aborted, the order is sent once',
  async (primary, secondary, phone) => {
    const taskQueue = uniqueTaskQueue(`slow-${primary}`);
    const w = await startTestWorkers({
      knex: db.knex,
      taskQueue,
      env: {
        ...credentials(),
        SMS_PROVIDER: primary,
        SMS_FAILOVER_PROVIDER: secondary,
        SMS_FAILOVER_AFTER_SECONDS: String(FAILOVER_AFTER_SECONDS),
      },
    });
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
