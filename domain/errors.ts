/**
 * Provider-agnostic error taxonomy (DESIGN.md, Activities). Adapters translate provider codes into
 * these; activities turn them into Temporal failures whose `type` is the taxonomy name, so retry
 * policies can name the non-retryable ones.
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

/** Error types a retry can never fix. */
export const NON_RETRYABLE_ERROR_TYPES: readonly SmsErrorType[] = [
  'InvalidPhone',
  'OptedOut',
  'Misconfiguration',
];

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
    return !NON_RETRYABLE_ERROR_TYPES.includes(this.type);
  }
}

export function isSmsProviderError(err: unknown): err is SmsProviderError {
  return err instanceof SmsProviderError;
}
