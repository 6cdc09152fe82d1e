/**
 * Limits of the SQL columns values end up in, so validators at the door refuse what a column would
 * refuse later (after the order was acknowledged, or the SMS sent). The migrations keep their own
 * literal widths (a migration never changes after it ran); test/integration/db/limits.test.ts and
 * test/unit/mssql-schema.test.ts check that these numbers are the columns' in every dialect.
 *
 * Lengths are counted as JavaScript counts them, in UTF-16 code units (`string.length`). SQL Server's
 * nvarchar(n) counts the same units and PostgreSQL's varchar(n) counts code points (never more), so a
 * value within `.length` fits both. SQLite enforces no width at all: the repositories check these
 * limits themselves, so SQLite refuses what the other two would (db/column-limits.ts).
 */

/** The largest 32-bit `int`, the same in every dialect. */
export const INT_MAX = 2_147_483_647;
/** `VenueID` is an `int` in every dialect. */
export const VENUE_ID_MAX = INT_MAX;

/** E.164 is at most 16 characters ("+" and 15 digits); the columns hold 20. */
export const PHONE_NUMBER_MAX = 20;
/** SmsSendHistory.OrderNumber */
export const ORDER_NUMBER_MAX = 50;
/** SmsSendHistory.CorrelationID, SmsConsentChanges.CorrelationID */
export const CORRELATION_ID_MAX = 100;
/** SmsSendHistory.Message: a rendered message longer than this is refused, never truncated. */
export const MESSAGE_MAX = 500;
/**
 * SmsSendHistory.ProviderMessageID, SmsConsent.LastProviderMessageID, SmsConsentChanges.ProviderMessageID,
 * SmsPendingDeliveryReports.ProviderMessageID
 */
export const PROVIDER_MESSAGE_ID_MAX = 100;
/** SmsSendHistory.ErrorCode, SmsSendHistory.DeliveryErrorCode, SmsPendingDeliveryReports.DeliveryErrorCode */
export const ERROR_CODE_MAX = 50;
/** SmsSendHistory.ErrorMessage */
export const ERROR_MESSAGE_MAX = 500;

/**
 * Not stored: they only appear inside the message, which must fit MESSAGE_MAX. Bounded so one long
 * field is refused at the door (with its name) rather than as MessageTooLong after the order started.
 */
export const CUSTOMER_NAME_MAX = 100;
export const EVENT_NAME_MAX = 200;

/**
 * Every width-limited column the service writes, by table, as the migrations create them: `n` is an
 * nvarchar(n) / varchar(n), `'int'` a 32-bit integer. Repositories check rows against this before
 * writing (db/column-limits.ts), and the schema tests compare it with the migrated database.
 */
export const COLUMN_LIMITS = {
  SmsSendHistory: {
    OrderNumber: ORDER_NUMBER_MAX,
    VenueID: 'int',
    VenuePhoneNumberID: 'int',
    CustomerPhoneNumber: PHONE_NUMBER_MAX,
    Message: MESSAGE_MAX,
    ProviderMessageID: PROVIDER_MESSAGE_ID_MAX,
    ErrorCode: ERROR_CODE_MAX,
    ErrorMessage: ERROR_MESSAGE_MAX,
    CorrelationID: CORRELATION_ID_MAX,
    IdempotencyKey: 200,
    DeliveryStatus: 20,
    DeliveryErrorCode: ERROR_CODE_MAX,
  },
  SmsConsent: {
    VenueID: 'int',
    PhoneNumber: PHONE_NUMBER_MAX,
    LastProviderMessageID: PROVIDER_MESSAGE_ID_MAX,
  },
  SmsConsentChanges: {
    VenueID: 'int',
    PhoneNumber: PHONE_NUMBER_MAX,
    ProviderMessageID: PROVIDER_MESSAGE_ID_MAX,
    CorrelationID: CORRELATION_ID_MAX,
    ChangeID: 200,
  },
  SmsOrderClaims: {
    OrderID: 36,
    VenueID: 'int',
    WorkflowID: 200,
    RunID: 64,
    ProviderMessageID: PROVIDER_MESSAGE_ID_MAX,
    FromNumber: PHONE_NUMBER_MAX,
  },
  SmsRecipientLeases: {
    SenderNumber: PHONE_NUMBER_MAX,
    RecipientNumber: PHONE_NUMBER_MAX,
    OrderID: 36,
    WorkflowID: 200,
    RunID: 64,
  },
  SmsPendingDeliveryReports: {
    ProviderMessageID: PROVIDER_MESSAGE_ID_MAX,
    DeliveryStatus: 20,
    DeliveryErrorCode: ERROR_CODE_MAX,
  },
  VenuePhoneNumbers: {
    VenueID: 'int',
    PhoneNumber: PHONE_NUMBER_MAX,
    ProviderID: 100,
    FriendlyName: 100,
  },
} as const satisfies Record<string, Record<string, number | 'int'>>;

export type LimitedTable = keyof typeof COLUMN_LIMITS;

/**
 * The send activity's start-to-close timeout: every provider call of one attempt fits inside it,
 * and failover may not be configured shorter (it would switch while an attempt may still send).
 */
export const SEND_ATTEMPT_TIMEOUT_MS = 30_000;
