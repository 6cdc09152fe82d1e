import type { Config } from '../config';
import type { Logger } from '../config/logger';
import type { Repositories } from '../db';
import type { ProviderName } from '../domain/enums';
import type { SmsProvider } from '../providers/sms-provider';
import type { RolloutControl } from '../rollout/control';
import type { ConsentChangeSignal } from '../temporal/contracts';

/** Everything activities touch, handed in by the worker so tests can build them against real parts. */
export interface ActivityDeps {
  repos: Repositories;
  providers: Partial<Record<ProviderName, SmsProvider>>;
  config: Pick<Config, 'sms' | 'api'>;
  logger: Logger;
  /** The SMS flag per venue and the pauses in force, at most ROLLOUT_CACHE_MS behind SQL (issue 21). */
  rollout: RolloutControl;
  /** Acknowledged changes the (venue, phone) consent workflow has not written to SQL yet. */
  pendingConsentChanges(venueId: number, phoneNumber: string): Promise<ConsentChangeSignal[]>;
  /** Routes a consent change through the consent entity workflow (signalWithStart). */
  signalConsentChange(venueId: number, phoneNumber: string, change: ConsentChangeSignal): Promise<void>;
  /**
   * When a workflow run closed (any way: completed, failed, terminated, timed out; the epoch when it
   * is gone from Temporal); null while it runs or when Temporal cannot say. Asked only about another
   * order's run that holds this customer's recipient hold (db/order-claims-repository.ts holdRecipient).
   */
  runClosedAt(workflowId: string, runId: string): Promise<Date | null>;
  /** Names an order workflow to the (venue, provider) provisioning workflow, which signals it the answer. */
  requestVenueNumber(venueId: number, provider: ProviderName, waiterWorkflowId: string): Promise<void>;
}
