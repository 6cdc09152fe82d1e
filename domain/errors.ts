/**
 * Provider-agnostic error taxonomy (DESIGN.md, Activities). Adapters translate provider codes into
 * these; activities turn them into Temporal failures whose `type` is the taxonomy name, so retry
 * policies and the workflow's failure checks name them with the compiler's help.
 */
export const SMS_ERROR_TYPES = [
  'InvalidPhone',
  'OptedOut',
  'RateLimited',
  'ProviderUnavailable',
  'ProviderAuth',
  'Misconfiguration',
] as const;
export type SmsErrorType = (typeof SMS_ERROR_TYPES)[number];

/**
 * Every failure type an activity raises: the provider taxonomy, the template's own (a message that
 * cannot fit), a consent change the database refuses, and any other row the database refuses
 * (`InvalidRecord`: a constraint, an overflow, a value too long; raised non-retryable, with a message
 * that names the table and the problem, never the values). Retry policies' `nonRetryableErrorTypes`
 * are written as `FailureType[]`.
 */
export const FAILURE_TYPES = [
  ...SMS_ERROR_TYPES,
  'MessageTooLong',
  'InvalidConsentChange',
  'InvalidRecord',
  'RecipientBusy',
] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

/** Provider error types a retry can never fix. */
export const NON_RETRYABLE_ERROR_TYPES = [
  'InvalidPhone',
  'OptedOut',
  'Misconfiguration',
] as const satisfies readonly SmsErrorType[];

/** Narrows a failure's `type` string to the taxonomy, so callers compare against checked names. */
export function isFailureType(type: string | undefined | null): type is FailureType {
  return (FAILURE_TYPES as readonly string[]).includes(type ?? '');
}

export class SmsProviderError extends Error {
  readonly type: SmsErrorType;
  /** The provider's own code (e.g. Twilio "21610", Plivo "200", HTTP "503"), kept for history. */
  readonly code: string;
  readonly httpStatus?: number;

  constructor(
    type: SmsErrorType,
    code: string,
    message: string,
    options?: { httpStatus?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SmsProviderError';
    this.type = type;
    this.code = code;
    this.httpStatus = options?.httpStatus;
  }

  get retryable(): boolean {
    return !(NON_RETRYABLE_ERROR_TYPES as readonly SmsErrorType[]).includes(this.type);
  }
}

export function isSmsProviderError(err: unknown): err is SmsProviderError {
  return err instanceof SmsProviderError;
}
