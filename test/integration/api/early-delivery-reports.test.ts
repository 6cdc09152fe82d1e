import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import type { ProviderName } from '../../../domain/enums';
import { orderWorkflowId } from '../../../temporal/ids';
import { useTestApi } from '../../support/api';
import { historyEntry } from '../../support/db';
import { useResource } from '../../support/lifecycle';
import type { FakeControls } from '../../support/provider-fakes/fake-server';
import { plivoEnv, startPlivoFake } from '../../support/provider-fakes/plivo-fake';
import { startTwilioFake, twilioEnv } from '../../support/provider-fakes/twilio-fake';
import * as signing from '../../support/webhook-signing';
import { startOptedInOrder, useTestWorkers } from '../../support/workers';

/**
 * Issue 18: the provider posts "sent" / "delivered" before its create-message call has answered us,
 * so before the order's claim or history names the message. Those reports must end on the order's
 * history row. Workers send through the provider's real SDK to its local fake; the API sits behind
 * PUBLIC (what the provider calls and signs), listening on 127.0.0.1.
 */
const PUBLIC = 'https://sms.example.test/base';
const TOKEN = 'early-reports-test-token-0123456789';

interface Provider {
  fake: FakeControls & { readonly authToken: string };
  env: Record<string, string>;
  /** A delivery report for `messageId` exactly as the provider signs and posts it. */
  signedReport(messageId: string, status: string): { headers: Record<string, string>; body: string };
  /** An id in the provider's format, no message of which exists. */
  newMessageId(): string;
}

async function twilio(): Promise<Provider> {
  const fake = await startTwilioFake();
  return {
    fake,
    env: twilioEnv(fake),
    signedReport(messageId, status) {
      const fields = { MessageSid: messageId, MessageStatus: status, AccountSid: fake.accountSid };
      const url = `${PUBLIC}/webhooks/twilio/status`;
      return { headers: signing.twilioHeaders(fake.authToken, url, fields), body: signing.formBody(fields) };
    },
    newMessageId: () => `SM${randomUUID().replace(/-/g, '')}`,
  };
}

async function plivo(): Promise<Provider> {
  const fake = await startPlivoFake();
  return {
    fake,
    env: plivoEnv(fake),
    signedReport(messageId, status) {
      const fields = { MessageUUID: messageId, Status: status, ErrorCode: '', To: '14155550190' };
      const url = `${PUBLIC}/webhooks/plivo/status`;
      return { headers: signing.plivoV3Headers(fake.authToken, url, fields), body: signing.formBody(fields) };
    },
    newMessageId: () => randomUUID(),
  };
}

describe.each<[ProviderName, () => Promise<Provider>]>([
  ['twilio', twilio],
  ['plivo', plivo],
])('%s: delivery reports that outrun the API answer end in history', (provider, start) => {
  const p = useResource(start, (started) => started.fake.stop());
  afterEach(() => p.fake.resetFaults());
  const { w, db, taskQueue } = useTestWorkers(`early-reports-${provider}`, {
    env: () => ({ ...p.env, PUBLIC_BASE_URL: PUBLIC }),
  });
  const app = useTestApi(() => ({
    token: TOKEN,
    logName: 'early-reports-test',
    publicBaseUrl: PUBLIC,
    workers: w,
    config: { twilio: w.config.twilio, plivo: w.config.plivo },
    temporal: { client: w.client, taskQueue, workflowIdHashKey: w.config.temporal.workflowIdHashKey },
  }));
  let direct: string;

  beforeAll(async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    direct = `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`;
  });

  const postReport = async (messageId: string, status: string) => {
    const { headers, body } = p.signedReport(messageId, status);
    return (await fetch(`${direct}/webhooks/${provider}/status`, { method: 'POST', headers, body })).status;
  };
  const order = async (orderId: string) => {
    const res = await fetch(`${direct}/api/orders/${orderId}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { outcome: string | null; history: Array<Record<string, unknown>> };
  };

  test('signed reports for a message no row names yet: 200, then on the row the history write creates', async () => {
    const messageId = p.newMessageId();
    for (const status of ['sent', 'delivered', 'queued'])
      expect(await postReport(messageId, status)).toBe(200);

    // What the order's recordHistory writes once its send returned.
    const entry = historyEntry({ provider, providerMessageId: messageId });
    await w.repos.history.record(entry);
    expect((await order(entry.orderId)).history).toEqual([
      expect.objectContaining({ providerMessageId: messageId, deliveryStatus: 'delivered' }),
    ]);
  });

  test(`end to end through ${provider}'s SDK: the fake calls back "sent" and "delivered" before it answers the send`, async () => {
    p.fake.callbacksBeforeAnswer({
      statuses: ['sent', 'delivered'],
      reach: (url) => url.replace(PUBLIC, direct),
    });
    const e = await startOptedInOrder(w, taskQueue, { PhoneNumber: '+14155550191' });
    expect(await w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result()).toMatchObject({
      outcome: 'sent',
    });
    // Both callbacks were answered 200 before the provider's answer reached the worker.
    expect(p.fake.postedCallbacks).toEqual([
      { url: `${PUBLIC}/webhooks/${provider}/status`, status: 'sent', answer: 200 },
      { url: `${PUBLIC}/webhooks/${provider}/status`, status: 'delivered', answer: 200 },
    ]);
    const { outcome, history } = await order(e.orderId);
    expect(outcome).toBe('sent');
    expect(history).toEqual([
      expect.objectContaining({ status: 'sent', deliveryStatus: 'delivered', deliveryErrorCode: null }),
    ]);
    expect(await db.knex('SmsPendingDeliveryReports')).toEqual([]);
  });
});
