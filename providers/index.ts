import type { Config } from '../config';
import type { ProviderName } from '../domain/enums';
import { PlivoProvider } from './plivo/plivo-provider';
import { PlivoWebhook } from './plivo/plivo-webhook';
import type { SmsProvider } from './sms-provider';
import { SimulatorProvider } from './simulator/simulator-provider';
import { SimulatorStore } from './simulator/simulator-store';
import { SimulatorWebhook } from './simulator/simulator-webhook';
import { TwilioProvider } from './twilio/twilio-provider';
import { TwilioWebhook } from './twilio/twilio-webhook';
import type { ProviderWebhook } from './webhook';

export type { SmsProvider } from './sms-provider';
export type { ProviderWebhook } from './webhook';

export interface ProvidersHandle {
  /** One client per provider in use (the default, per-venue overrides, the failover provider). */
  providers: Partial<Record<ProviderName, SmsProvider>>;
  close(): Promise<void>;
}

/** The configured providers; config validation has already checked their credentials. */
export function createProviders(config: Config): ProvidersHandle {
  const providers: Partial<Record<ProviderName, SmsProvider>> = {};
  const closers: Array<() => Promise<void>> = [];
  for (const name of config.sms.providers) {
    switch (name) {
      case 'simulator': {
        const store = new SimulatorStore(config.simulator.dbPath);
        providers.simulator = new SimulatorProvider({ store, ...config.simulator });
        closers.push(() => store.close());
        break;
      }
      case 'twilio':
        if (!config.twilio)
          throw new Error('twilio is in use but TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are missing');
        providers.twilio = new TwilioProvider(config.twilio);
        break;
      case 'plivo':
        if (!config.plivo) throw new Error('plivo is in use but PLIVO_AUTH_ID/PLIVO_AUTH_TOKEN are missing');
        providers.plivo = new PlivoProvider(config.plivo);
        break;
    }
  }
  return {
    providers,
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/**
 * The webhook verifier/parser of every provider whose secret is configured, whether or not it sends
 * today: a customer can still text STOP to a number bought while a provider was in use.
 */
export function createProviderWebhooks(config: {
  twilio?: Pick<NonNullable<Config['twilio']>, 'authToken'>;
  plivo?: Pick<NonNullable<Config['plivo']>, 'authToken'>;
  simulator?: Pick<Config['simulator'], 'webhookSecret'>;
}): ProviderWebhook[] {
  const webhooks: ProviderWebhook[] = [];
  if (config.twilio) webhooks.push(new TwilioWebhook(config.twilio.authToken));
  if (config.plivo) webhooks.push(new PlivoWebhook(config.plivo.authToken));
  if (config.simulator?.webhookSecret) webhooks.push(new SimulatorWebhook(config.simulator.webhookSecret));
  return webhooks;
}
