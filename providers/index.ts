import type { Config } from '../config';
import type { ProviderName } from '../domain/enums';
import { PlivoProvider } from './plivo/plivo-provider';
import type { SmsProvider } from './sms-provider';
import { SimulatorProvider } from './simulator/simulator-provider';
import { SimulatorStore } from './simulator/simulator-store';
import { TwilioProvider } from './twilio/twilio-provider';

export type { SmsProvider } from './sms-provider';

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
