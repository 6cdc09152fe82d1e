import {
  FlagNotFoundError,
  InvalidContextError,
  StandardResolutionReasons,
  TargetingKeyMissingError,
  TypeMismatchError,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { VENUE_ID_MAX } from '../domain/limits';
import { ORDER_CONFIRMATION_SMS_FLAG, type FlagReason, type RolloutControl } from './control';

/** How the OpenFeature reasons read ours: the switch is DISABLED, an override a TARGETING_MATCH, a bucket a SPLIT. */
const REASONS: Record<FlagReason, string> = {
  global_off: StandardResolutionReasons.DISABLED,
  venue_override_on: StandardResolutionReasons.TARGETING_MATCH,
  venue_override_off: StandardResolutionReasons.TARGETING_MATCH,
  in_rollout: StandardResolutionReasons.SPLIT,
  outside_rollout: StandardResolutionReasons.SPLIT,
};

/**
 * Our flag behind the OpenFeature server provider interface, so code that asks
 * `client.getBooleanValue('order-confirmation-sms', true, { targetingKey: String(venueId) })` keeps
 * working when a team swaps this provider for Azure App Configuration's or LaunchDarkly's. The venue
 * is the targeting key, or a `venueId` attribute. The variant is our own reason (in_rollout…), also
 * in flagMetadata. A failure to read the state is thrown: the SDK then answers the caller's default
 * with reason ERROR, so the caller chooses fail-open or fail-closed by the default it passes.
 */
export class RolloutFlagProvider implements Provider {
  readonly metadata = { name: 'sms-rollout-control' } as const;
  readonly runsOn = 'server';

  constructor(private readonly control: Pick<RolloutControl, 'evaluate'>) {}

  async resolveBooleanEvaluation(
    flagKey: string,
    _defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    if (flagKey !== ORDER_CONFIRMATION_SMS_FLAG) throw new FlagNotFoundError(`no flag "${flagKey}" here`);
    const result = await this.control.evaluate(venueOf(context));
    return {
      value: result.enabled,
      variant: result.reason,
      reason: REASONS[result.reason],
      flagMetadata: { reason: result.reason },
    };
  }

  resolveStringEvaluation(flagKey: string): Promise<ResolutionDetails<string>> {
    return Promise.reject(notBoolean(flagKey));
  }

  resolveNumberEvaluation(flagKey: string): Promise<ResolutionDetails<number>> {
    return Promise.reject(notBoolean(flagKey));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string): Promise<ResolutionDetails<T>> {
    return Promise.reject(notBoolean(flagKey));
  }
}

function notBoolean(flagKey: string): Error {
  return flagKey === ORDER_CONFIRMATION_SMS_FLAG
    ? new TypeMismatchError(`"${flagKey}" is a boolean flag`)
    : new FlagNotFoundError(`no flag "${flagKey}" here`);
}

function venueOf(context: EvaluationContext): number {
  const raw = context.targetingKey ?? context.venueId;
  if (raw === undefined || raw === null || raw === '') {
    throw new TargetingKeyMissingError('the venue id is the targeting key (or a venueId attribute)');
  }
  const venueId =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(venueId) || venueId < 1 || venueId > VENUE_ID_MAX) {
    throw new InvalidContextError('the venue id must be a positive integer');
  }
  return venueId;
}
