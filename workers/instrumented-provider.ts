import type { ProviderName } from '../domain/enums';
import { isSmsProviderError } from '../domain/errors';
import { errorLabel, PROVIDER_OPERATIONS, type Metrics, type ProviderOperation } from '../runtime/metrics';
import type { SmsProvider } from '../providers/sms-provider';

/**
 * The same providers, with every call counted by operation and result and timed: provider auth
 * errors and latency are visible whichever activity made the call. Number purchases are counted
 * here too, as `purchased`, `adopted` (acquireVenueNumber found a number the provider already holds
 * under the venue's name, so nothing was bought) or the failure.
 */
export function instrumentProviders(
  providers: Partial<Record<ProviderName, SmsProvider>>,
  metrics: Metrics,
): Partial<Record<ProviderName, SmsProvider>> {
  return Object.fromEntries(
    Object.entries(providers).map(([name, provider]) => [name, instrumentProvider(provider, metrics)]),
  );
}

export function instrumentProvider(provider: SmsProvider, metrics: Metrics): SmsProvider {
  const labels = { provider: provider.name };
  // Auth failures exported at 0 from the start, so the alert's increase() sees the first one.
  for (const operation of PROVIDER_OPERATIONS) {
    metrics.providerRequests.inc({ ...labels, operation, result: 'provider_auth' }, 0);
  }
  const timed = async <T>(operation: ProviderOperation, call: () => Promise<T>): Promise<T> => {
    const stop = metrics.providerRequestDuration.startTimer({ ...labels, operation });
    try {
      const result = await call();
      metrics.providerRequests.inc({ ...labels, operation, result: 'ok' });
      return result;
    } catch (err) {
      const result = isSmsProviderError(err) ? errorLabel(err.type) : 'error';
      metrics.providerRequests.inc({ ...labels, operation, result });
      if (operation === 'buy_number') metrics.numberPurchases.inc({ ...labels, result });
      throw err;
    } finally {
      stop();
    }
  };
  return {
    name: provider.name,
    send: (request) => timed('send', () => provider.send(request)),
    findAcceptedMessage: (query) => timed('find_accepted', () => provider.findAcceptedMessage(query)),
    buyNumber: async (request) => {
      const bought = await timed('buy_number', () => provider.buyNumber(request));
      metrics.numberPurchases.inc({ ...labels, result: 'purchased' });
      return bought;
    },
    findOwnedNumber: async (friendlyName, signal, candidates) => {
      const owned = await timed('find_owned_number', () =>
        provider.findOwnedNumber(friendlyName, signal, candidates),
      );
      if (owned) metrics.numberPurchases.inc({ ...labels, result: 'adopted' });
      return owned;
    },
    releaseNumber: (providerId, signal) =>
      timed('release_number', () => provider.releaseNumber(providerId, signal)),
  };
}
