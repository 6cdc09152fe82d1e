import { Context } from '@temporalio/activity';
import type { ConsentChange } from '../db/consent-repository';
import { readAcknowledgedConsent, type AcknowledgedConsent } from '../domain/consent';
import { maskPhone } from '../domain/phone';
import type { ProviderName } from '../domain/enums';
import type { ConsentChangeSignal, OrderContext } from '../temporal/contracts';
import { activityLogger } from './context';
import type { ActivityDeps } from './deps';
import { databaseFailure, nonRetryableFailure } from './failures';

export type ConsentState = 'opted_in' | 'opted_out' | 'none';

export interface CheckConsentInput extends OrderContext {
  venueId: number;
  phoneNumber: string;
  /** Read the venue's SMS flag first (rollout control; every order since issue 21). */
  rollout?: true;
}

export interface ApplyConsentChangeInput extends ConsentChangeSignal {
  venueId: number;
  phoneNumber: string;
}

export interface RecordProviderOptOutInput extends OrderContext {
  venueId: number;
  phoneNumber: string;
  /** The provider that answered "opted out" (recorded in the audit trail). */
  provider?: ProviderName;
  providerCode: string;
}

/**
 * The customer's consent at the venue as the service has acknowledged it: SQL plus the changes its
 * consent workflow holds but has not written yet. Throws (so the caller retries and sends nothing)
 * when either cannot answer.
 */
export function acknowledgedConsent(
  deps: ActivityDeps,
  venueId: number,
  phoneNumber: string,
): Promise<AcknowledgedConsent | null> {
  return readAcknowledgedConsent({
    pending: () => deps.pendingConsentChanges(venueId, phoneNumber),
    handled: (ids) => deps.repos.consent.handledMessageIds(venueId, phoneNumber, ids),
    stored: () => deps.repos.consent.get(venueId, phoneNumber),
  });
}

/**
 * The order's first gate reads SQL alone when SQL says opted in: the send step reads the
 * acknowledged consent right before the provider call (a STOP not yet in SQL is blocked there), so
 * asking the customer's consent entity here too would only cost a `describe` per order. Any other
 * row ends the order here, so it must see what the entity holds (a START not written yet), through
 * the full read, which reads the row again after the pending changes (its order is what keeps a
 * change written meanwhile), so the first row read cannot stand in for it.
 */
async function orderGateConsent(
  deps: ActivityDeps,
  venueId: number,
  phoneNumber: string,
): Promise<Pick<AcknowledgedConsent, 'status' | 'pending'> | null> {
  const stored = await deps.repos.consent.get(venueId, phoneNumber);
  if (stored?.status === 'opted_in') return { status: stored.status, pending: false };
  return acknowledgedConsent(deps, venueId, phoneNumber);
}

export function createConsentActivities(deps: ActivityDeps) {
  return {
    /**
     * The order's first gate: the venue's SMS flag (with `rollout`), then the customer's consent. A
     * venue switched off answers `disabled` before anything is provisioned or read for the customer.
     */
    async checkConsent(input: CheckConsentInput): Promise<ConsentState | 'disabled'> {
      if (input.rollout) {
        const flag = await deps.rollout.evaluate(input.venueId);
        if (!flag.enabled) {
          activityLogger(deps.logger, input).info(
            { venueId: input.venueId, flag: flag.reason },
            'SMS is off for this venue',
          );
          return 'disabled';
        }
      }
      const consent = await orderGateConsent(deps, input.venueId, input.phoneNumber).catch((err: unknown) => {
        throw databaseFailure(err);
      });
      const state = consent?.status ?? 'none';
      activityLogger(deps.logger, input).info(
        {
          venueId: input.venueId,
          customer: maskPhone(input.phoneNumber),
          consent: state,
          notYetInSql: consent?.pending,
        },
        'consent checked',
      );
      return state;
    },

    /**
     * The consent entity's only writer: ordering and staleness are decided by single conditional
     * statements, and the outcome is recorded in the audit trail (SmsConsentChanges). A change the
     * database can never take fails non-retryably, so the entity skips it instead of stalling.
     */
    async applyConsentChange(input: ApplyConsentChangeInput): Promise<{ applied: boolean; reason?: string }> {
      const change = toConsentChange(input);
      if (Number.isNaN(change.occurredAt.getTime()))
        throw nonRetryableFailure('InvalidConsentChange', 'occurredAt is not a real instant');
      const result = await deps.repos.consent.applyChange(change).catch(async (err: unknown) => {
        const failure = databaseFailure(err, 'InvalidConsentChange');
        // Refused for good: the entity skips it, and the audit trail says so (best effort: the audit
        // row's own values were checked first, but the database may refuse it too).
        if (failure !== err) await deps.repos.consent.recordRejected(change).catch(() => undefined);
        throw failure;
      });
      deps.logger.info(
        {
          workflowId: Context.current().info.workflowExecution?.workflowId,
          correlationId: input.correlationId,
          venueId: input.venueId,
          customer: maskPhone(input.phoneNumber),
          status: input.status,
          source: input.source,
          ...result,
        },
        result.applied ? 'consent change applied' : 'consent change ignored',
      );
      return result;
    },

    /** A webhook redelivered to the entity, which dropped it: the audit trail still shows it arrived. */
    async recordDuplicateConsentChange(
      input: ApplyConsentChangeInput,
    ): Promise<{ applied: boolean; reason?: string }> {
      return deps.repos.consent.recordDuplicate(toConsentChange(input));
    },

    /** A provider saying "opted out" (Twilio 21610) is a consent change like a STOP text. */
    async recordProviderOptOut(input: RecordProviderOptOutInput): Promise<void> {
      await deps.signalConsentChange(input.venueId, input.phoneNumber, {
        status: 'opted_out',
        source: 'provider_error',
        provider: input.provider,
        occurredAt: new Date().toISOString(),
        correlationId: input.correlationId,
      });
      activityLogger(deps.logger, input).warn(
        { venueId: input.venueId, customer: maskPhone(input.phoneNumber), providerCode: input.providerCode },
        'provider reports the customer opted out; consent updated',
      );
    },
  };
}

/** The repository's view of a change the consent entity hands over. */
function toConsentChange(input: ApplyConsentChangeInput): ConsentChange {
  const { info } = Context.current();
  const execution = info.workflowExecution;
  return {
    venueId: input.venueId,
    phoneNumber: input.phoneNumber,
    status: input.status,
    source: input.source,
    occurredAt: new Date(input.occurredAt),
    providerMessageId: input.providerMessageId,
    provider: input.provider,
    receivedAt: input.receivedAt ? new Date(input.receivedAt) : undefined,
    correlationId: input.correlationId,
    // The same for every attempt of this activity and unique per change the entity handles: a retry
    // after a crash finds the audit row its first attempt wrote.
    changeId: execution ? `${execution.workflowId}/${execution.runId}/${info.activityId}` : undefined,
  };
}
