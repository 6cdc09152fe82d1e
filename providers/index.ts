import type { Config } from '../config';
import type { SmsProvider } from './sms-provider';
import { SimulatorProvider } from './simulator/simulator-provider';
import { SimulatorStore } from './simulator/simulator-store';

export type { SmsProvider } from './sms-provider';

export interface ProviderHandle {
  provider: SmsProvider;
  close(): Promise<void>;
}

/** The configured provider. Twilio and Plivo adapters arrive with the providers issue. */
export function createProvider(config: Config): ProviderHandle {
  switch (config.sms.provider) {
    case 'simulator': {
      const store = new SimulatorStore(config.simulator.dbPath);
      const provider = new SimulatorProvider({ store, ...config.simulator });
      return { provider, close: () => store.close() };
    }
    case 'twilio':
    case 'plivo':
      throw new Error(`SMS_PROVIDER=${config.sms.provider} is not implemented yet; use simulator`);
  }
}
