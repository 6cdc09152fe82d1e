import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freePort } from '../../../scripts/temporal-cli';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../support/otlp-receiver';
import { startTwilioFake, twilioEnv, type TwilioFake } from '../../support/provider-fakes/twilio-fake';
import { uniqueTaskQueue, waitFor } from '../../support/temporal';
import { exited, workerProcessEnv } from '../../support/worker-process';
import { tracingWorkflowBundle } from '../../support/workflow-bundle';
import { sampleEvent, tempSimulatorPath } from '../../support/workers';

/**
 * One order followed across processes: the real API and worker entry points, each its own process
 * with tracing switched on by the standard OTEL_* variables, exporting OTLP/HTTP to a receiver the
 * test runs, the real Twilio SDK sending to the Twilio fake. The monolith's traceparent on the
 * request must come back as the one trace id of the HTTP request, the start, the workflow, every
 * activity and the provider's HTTP call.
 */
const ROOT = path.resolve(__dirname, '../../..');
const API_TOKEN = `tracing-token-${randomBytes(8).toString('hex')}`;

interface Proc {
  child: ChildProcess;
  output: () => string;
}

function spawnRole(entry: string, env: Record<string, string>): Proc {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

async function stop(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
  await exited(proc.child);
  clearTimeout(timer);
}

const withOutput = (proc: Proc | undefined) => (err: unknown) => {
  throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- output ---\n${proc?.output()}`);
};

let receiver: OtlpReceiver;
let twilio: TwilioFake;
let db: TestDatabase;
let worker: Proc | undefined;
let api: Proc | undefined;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  twilio = await startTwilioFake();
  db = await createTestDatabase();
  // Where a worker with tracing on looks for its bundle: beside WORKFLOW_BUNDLE_PATH.
  await tracingWorkflowBundle();
});

afterAll(async () => {
  await Promise.all([stop(worker), stop(api)]);
  await twilio?.stop();
  await receiver?.close();
  await db?.destroy();
});

test('one trace links the HTTP request, the start, the workflow, each activity and the provider call', async () => {
  const taskQueue = uniqueTaskQueue('tracing');
  const port = await freePort();
  const env: Record<string, string> = {
    ...workerProcessEnv({ taskQueue, databaseUrl: db.url, simulatorPath: tempSimulatorPath() }),
    ...twilioEnv(twilio),
    API_TOKEN,
    PORT: String(port),
    HOST: '127.0.0.1',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  };
  worker = spawnRole('workers/main.ts', env);
  api = spawnRole('api/main.ts', env);
  await waitFor(async () => worker!.output().includes('worker started'), {
    timeoutMs: 90_000,
    description: 'the worker process started',
  }).catch(withOutput(worker));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok === true, {
    timeoutMs: 90_000,
    description: 'the API ready',
  }).catch(withOutput(api));

  const event = sampleEvent();
  const phone = String(event.PhoneNumber);
  const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
  const consent = await fetch(`${base}/api/internal/consent`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      venueId: event.VenueId,
      phoneNumber: phone,
      status: 'opted_in',
      source: 'checkout',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
    }),
  });
  expect(consent.status).toBe(202);

  // The monolith's own trace: everything below must continue it.
  const traceId = randomBytes(16).toString('hex');
  const posted = await fetch(`${base}/api/events/send-order-confirmation-sms`, {
    method: 'POST',
    headers: {
      ...headers,
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      'x-correlation-id': 'corr-tracing-1',
    },
    body: JSON.stringify(event),
  });
  expect(posted.status).toBe(202);
  await waitFor(async () => twilio.messages().some((m) => m.to === phone), {
    timeoutMs: 90_000,
    description: 'the Twilio fake accepted the SMS',
  }).catch(withOutput(worker));

  const expected = [
    (s: ReceivedSpan) => s.service === 'sms-api' && s.kind === 2 && /POST/.test(s.name), // HTTP server
    (s: ReceivedSpan) => s.name === 'startOrderConfirmation',
    (s: ReceivedSpan) => s.name === 'StartWorkflow:orderConfirmationSms',
    (s: ReceivedSpan) => s.name === 'RunWorkflow:orderConfirmationSms',
    (s: ReceivedSpan) => s.name === 'StartActivity:sendSms',
    (s: ReceivedSpan) => s.name === 'RunActivity:sendSms',
    (s: ReceivedSpan) => s.name === 'RunActivity:recordHistory',
    (s: ReceivedSpan) => s.name === 'SmsSendHistory record',
    // The Twilio SDK's request to the fake, a client span inside the send.
    (s: ReceivedSpan) =>
      s.service === 'sms-worker' &&
      s.kind === 3 &&
      String(s.attributes['http.url']).startsWith(twilio.baseUrl),
  ];
  const trace = await waitFor(
    async () => {
      const spans = receiver.spans().filter((s) => s.traceId === traceId);
      return expected.every((match) => spans.some(match)) ? spans : undefined;
    },
    { timeoutMs: 30_000, description: 'every expected span exported in the request trace' },
  ).catch((err: unknown) => {
    const seen = receiver.spans().map((s) => `${s.traceId.slice(0, 8)} ${s.service} ${s.name}`);
    throw new Error(`${String(err)}\nspans seen:\n${seen.join('\n')}`);
  });

  // Every span the worker and API exported for this order is in the request's trace.
  const orderSpans = receiver.spans().filter((s) => s.attributes['sms.order_id'] === event.OrderId);
  expect(new Set(orderSpans.map((s) => s.traceId))).toEqual(new Set([traceId]));
  // The order's ids ride on the start, the workflow and its activities.
  for (const name of ['startOrderConfirmation', 'RunWorkflow:orderConfirmationSms', 'RunActivity:sendSms']) {
    expect(trace.find((s) => s.name === name)?.attributes).toMatchObject({
      'sms.order_id': event.OrderId,
      'sms.correlation_id': 'corr-tracing-1',
    });
  }
  // The provider call is the send's child: the trace reaches the SDK's HTTP request.
  // (The first order of a venue also buys its number: more Twilio calls, under other activities.)
  const send = trace.find((s) => s.name === 'RunActivity:sendSms')!;
  const calls = trace.filter((s) => expected[8](s) && s.parentSpanId === send.spanId);
  expect(calls.map((s) => String(s.attributes['http.url']).replace(twilio.baseUrl, ''))).toEqual([
    expect.stringMatching(/\/Messages\.json$/),
  ]);
  // The SQL writes are spans of the steps that make them: the claim in the send, the history row
  // in its step, named by table and method (no statement, no values).
  const childOf = (parent: string, name: string) => {
    const step = trace.find((s) => s.name === parent)!;
    return trace.find((s) => s.name === name && s.parentSpanId === step.spanId);
  };
  expect(childOf('RunActivity:sendSms', 'SmsOrderClaims claim')?.attributes).toMatchObject({
    'db.system': 'sqlite',
    'db.sql.table': 'SmsOrderClaims',
  });
  expect(childOf('RunActivity:recordHistory', 'SmsSendHistory record')).toBeDefined();

  // Nothing personal leaves in any export: not the number (any spelling), not the message text.
  const digits = phone.replace(/\D/g, '');
  const body = twilio.messages().find((m) => m.to === phone)!.body;
  for (const raw of receiver.rawBodies()) {
    expect(raw).not.toContain(digits);
    expect(raw).not.toContain(encodeURIComponent(phone));
    expect(raw).not.toContain(body);
    expect(raw).not.toContain(String(event.CustomerName));
  }
});
