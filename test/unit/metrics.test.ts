import { SmsProviderError } from '../../domain/errors';
import { createMetrics, errorLabel } from '../../runtime/metrics';
import type { SmsProvider } from '../../providers/sms-provider';
import { instrumentProvider } from '../../workers/instrumented-provider';
import { metricValue } from '../support/metrics';

function fakeProvider(overrides: Partial<SmsProvider> = {}): SmsProvider {
  return {
    name: 'twilio',
    send: async () => ({ providerMessageId: 'SM1', status: 'queued', acceptedAt: new Date() }),
    findAcceptedMessage: async () => null,
    buyNumber: async () => ({ phoneNumber: '+14155550100', providerId: 'PN1', friendlyName: 'venue-1' }),
    findOwnedNumber: async () => null,
    releaseNumber: async () => undefined,
    ...overrides,
  };
}

const authError = () => new SmsProviderError('ProviderAuth', '20003', 'Authenticate');

test('failure types map to bounded snake-case labels; anything else is `error`', () => {
  expect(errorLabel('ProviderAuth')).toBe('provider_auth');
  expect(errorLabel('RateLimited')).toBe('rate_limited');
  expect(errorLabel('ProviderUnavailable')).toBe('provider_unavailable');
  expect(errorLabel('InvalidRecord')).toBe('error');
  expect(errorLabel('+14155550100')).toBe('error');
  expect(errorLabel(undefined)).toBe('error');
});

test('provider calls are counted by operation and result; auth failures start at 0 and count', async () => {
  const metrics = createMetrics();
  const provider = instrumentProvider(
    fakeProvider({ send: async () => Promise.reject(authError()) }),
    metrics,
  );
  const auth = { provider: 'twilio', operation: 'send', result: 'provider_auth' };
  let text = await metrics.registry.metrics();
  // Present before any failure, so an alert's increase() sees the first one.
  expect(text).toContain(
    'sms_provider_requests_total{provider="twilio",operation="send",result="provider_auth"} 0',
  );

  await expect(provider.send({ to: '+14155550101', from: '+14155550100', body: 'hi' })).rejects.toThrow(
    SmsProviderError,
  );
  await provider.findAcceptedMessage({
    to: '+14155550101',
    from: '+14155550100',
    body: 'hi',
    sentAfter: new Date(),
  });
  text = await metrics.registry.metrics();
  expect(metricValue(text, 'sms_provider_requests_total', auth)).toBe(1);
  expect(metricValue(text, 'sms_provider_requests_total', { operation: 'find_accepted', result: 'ok' })).toBe(
    1,
  );
  expect(metricValue(text, 'sms_provider_request_duration_seconds_count', { operation: 'send' })).toBe(1);
  expect(text).not.toContain('4155550101');
});

test('number purchases: purchased, adopted (found under the venue name) or the failure', async () => {
  const metrics = createMetrics();
  const owned = { phoneNumber: '+14155550100', providerId: 'PN9', friendlyName: 'venue-1' };
  await instrumentProvider(fakeProvider(), metrics).buyNumber({ friendlyName: 'venue-1', country: 'US' });
  await instrumentProvider(fakeProvider({ findOwnedNumber: async () => owned }), metrics).findOwnedNumber(
    'venue-1',
  );
  await instrumentProvider(fakeProvider(), metrics).findOwnedNumber('venue-2');
  const failing = instrumentProvider(
    fakeProvider({ buyNumber: async () => Promise.reject(authError()) }),
    metrics,
  );
  await expect(failing.buyNumber({ friendlyName: 'venue-3', country: 'US' })).rejects.toThrow('Authenticate');
  const text = await metrics.registry.metrics();
  expect(metricValue(text, 'sms_number_purchases_total', { result: 'purchased' })).toBe(1);
  expect(metricValue(text, 'sms_number_purchases_total', { result: 'adopted' })).toBe(1);
  expect(metricValue(text, 'sms_number_purchases_total', { result: 'provider_auth' })).toBe(1);
  expect(metricValue(text, 'sms_number_purchases_total')).toBe(3);
});
