import type { Knex } from 'knex';
import type { ConsentChangeOutcome, ConsentSource, ConsentStatus, ProviderName } from '../domain/enums';
import { decideConsentChange } from '../domain/consent';
import { ConsentChangeOutcomeIds, ConsentSourceIds, ConsentStatusIds, ProviderNameIds } from './enum-ids';
import { assertFits } from './column-limits';
import { DatabaseError, isUniqueViolation } from './errors';
import { nullable, toDate, toDateOrNull } from './knex';

export interface ConsentRecord {
  venueId: number;
  phoneNumber: string;
  status: ConsentStatus;
  source: ConsentSource | null;
  initialConsentAt: Date | null;
  optedInAt: Date | null;
  optedOutAt: Date | null;
  lastChangeAt: Date;
  lastProviderMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConsentChange {
  venueId: number;
  phoneNumber: string;
  status: ConsentStatus;
  source: ConsentSource;
  /** When the change happened at its source (the STOP text, the checkout), not when it reached us. */
  occurredAt: Date;
  providerMessageId?: string;
  /** The provider whose webhook or error carried the change; absent for checkout, the internal API… */
  provider?: ProviderName;
  /** When the service acknowledged the change (the API's 202, the webhook's 200); defaults to now. */
  receivedAt?: Date;
  correlationId?: string;
  /**
   * Stable per change across retries of the caller (the consent activity passes
   * `<workflowId>/<runId>/<activityId>`): the audit row is written once per id, and a retry returns
   * the outcome the first attempt recorded. Without it a retry after a crash may write a second
   * audit row for the same change.
   */
  changeId?: string;
}

export type ApplyResult =
  { applied: true } | { applied: false; reason: Exclude<ConsentChangeOutcome, 'applied'> };

/** One row of the audit trail (SmsConsentChanges): a change the service handled, applied or not. */
export interface ConsentChangeRecord {
  id: number;
  venueId: number;
  phoneNumber: string;
  status: ConsentStatus;
  source: ConsentSource;
  provider: ProviderName | null;
  providerMessageId: string | null;
  occurredAt: Date;
  receivedAt: Date;
  outcome: ConsentChangeOutcome;
  correlationId: string | null;
  changeId: string | null;
  createdAt: Date;
}

/** Where a page of the audit trail ends: the next page holds the rows strictly older than this. */
export interface ConsentChangeCursor {
  occurredAt: Date;
  id: number;
}

type Row = Record<string, unknown>;

export function createConsentRepository(knex: Knex) {
  const get = async (db: Knex, venueId: number, phoneNumber: string) =>
    (await db('SmsConsent').where({ VenueID: venueId, PhoneNumber: phoneNumber }).first()) as Row | undefined;

  /**
   * Single statements, no read-then-write transaction: SQLite would refuse the lock upgrade of a
   * concurrent writer ("database is locked"), and every dialect keeps each statement atomic. The
   * audit row is one more statement after the decision (applied, stale or duplicate).
   */
  const applyChange = async (change: ConsentChange): Promise<ApplyResult> => {
    // The audit row's own values are checked first: a change must not reach SmsConsent and then fail
    // to be recorded.
    assertFits(
      'SmsConsentChanges',
      {
        ProviderMessageID: change.providerMessageId,
        CorrelationID: change.correlationId,
        ChangeID: change.changeId,
      },
      'SmsConsentChanges insert',
    );
    const result = await applyToConsentRow(change);
    return recordChange(change, result);
  };

  /** Of these message ids, those the audit trail already holds for this (venue, phone). */
  const handledMessageIds = async (
    venueId: number,
    phoneNumber: string,
    messageIds: readonly string[],
  ): Promise<Set<string>> => {
    if (messageIds.length === 0) return new Set();
    const rows: Row[] = await knex('SmsConsentChanges')
      .where({ VenueID: venueId, PhoneNumber: phoneNumber })
      .whereIn('ProviderMessageID', [...new Set(messageIds)])
      .distinct('ProviderMessageID');
    return new Set(rows.map((r) => String(r.ProviderMessageID)));
  };

  /**
   * decideConsentChange against the row and the audit trail, then a write conditioned on the same
   * rule, so a writer racing this one (scripts, a second entity under another key) cannot slip a
   * change past it: a write that finds the row changed decides again.
   */
  const applyToConsentRow = async (change: ConsentChange): Promise<ApplyResult> => {
    const key = { VenueID: change.venueId, PhoneNumber: change.phoneNumber };
    const handled = change.providerMessageId
      ? await handledMessageIds(change.venueId, change.phoneNumber, [change.providerMessageId])
      : new Set<string>();
    const stamp =
      change.status === 'opted_in' ? { OptedInAt: change.occurredAt } : { OptedOutAt: change.occurredAt };
    // Each lost race means another write landed, so the loop ends: applied, or decided otherwise.
    for (;;) {
      const row = await get(knex, change.venueId, change.phoneNumber);
      const decision = decideConsentChange(row ? toRecord(row) : null, change, handled);
      if (decision !== 'applied') return { applied: false, reason: decision };
      const now = new Date();
      const values = {
        StatusID: ConsentStatusIds.id(change.status),
        ConsentSourceID: ConsentSourceIds.id(change.source),
        LastChangeAt: change.occurredAt,
        LastProviderMessageID: change.providerMessageId ?? null,
        UpdatedAt: now,
        ...stamp,
      };
      assertFits('SmsConsent', { ...key, ...values }, 'SmsConsent write');
      if (!row) {
        try {
          await knex('SmsConsent').insert({
            ...key,
            InitialConsentAt: change.occurredAt,
            CreatedAt: now,
            ...values,
          });
          return { applied: true };
        } catch (err) {
          // Another writer created the row first (the unique index said so): decide again.
          if (!isUniqueViolation(err)) throw err;
          continue;
        }
      }
      const updated = await knex('SmsConsent')
        .where(key)
        .where('LastChangeAt', '=', row.LastChangeAt as Date)
        .where((q) => {
          if (row.LastProviderMessageID == null) q.whereNull('LastProviderMessageID');
          else q.where('LastProviderMessageID', row.LastProviderMessageID as string);
        })
        .update(values);
      if (updated > 0) return { applied: true };
    }
  };

  /**
   * The audit row, written after the consent row (its own statement, see above). Idempotent on
   * changeId: a retry that finds the row returns the outcome recorded by the first attempt, which
   * saw the consent row before this change touched it. A crash between the consent write and this
   * insert leaves the retry to record what it sees itself (for a webhook change: `duplicate`, its
   * own provider message id being on the row already).
   */
  const recordChange = async (change: ConsentChange, result: ApplyResult): Promise<ApplyResult> => {
    const outcome: ConsentChangeOutcome = result.applied ? 'applied' : result.reason;
    const row = {
      VenueID: change.venueId,
      PhoneNumber: change.phoneNumber,
      StatusID: ConsentStatusIds.id(change.status),
      ConsentSourceID: ConsentSourceIds.id(change.source),
      ProviderNameID: change.provider ? ProviderNameIds.id(change.provider) : null,
      ProviderMessageID: change.providerMessageId ?? null,
      OccurredAt: change.occurredAt,
      ReceivedAt: change.receivedAt ?? new Date(),
      OutcomeID: ConsentChangeOutcomeIds.id(outcome),
      CorrelationID: change.correlationId ?? null,
      ChangeID: change.changeId ?? null,
      CreatedAt: new Date(),
    };
    assertFits('SmsConsentChanges', row, 'SmsConsentChanges insert');
    try {
      await knex('SmsConsentChanges').insert(row);
      return result;
    } catch (err) {
      if (!change.changeId || !isUniqueViolation(err)) throw err;
    }
    const first = (await knex('SmsConsentChanges').where({ ChangeID: change.changeId }).first()) as
      Row | undefined;
    if (!first) throw new DatabaseError('SmsConsentChanges insert', { problem: 'row_vanished' });
    const recorded = ConsentChangeOutcomeIds.name(Number(first.OutcomeID));
    return recorded === 'applied' ? { applied: true } : { applied: false, reason: recorded };
  };

  return {
    async get(venueId: number, phoneNumber: string): Promise<ConsentRecord | null> {
      const row = await get(knex, venueId, phoneNumber);
      return row ? toRecord(row) : null;
    },

    /**
     * Applies a change unless it is a redelivery or older than what the row already reflects, and
     * records what it did in the audit trail either way.
     */
    applyChange,

    handledMessageIds,

    /** A change the database refused for good (its entity skips it): only the audit trail records it. */
    recordRejected: (change: ConsentChange): Promise<ApplyResult> =>
      recordChange(change, { applied: false, reason: 'rejected' }),

    /** A redelivery its consent workflow recognised itself: only the audit trail records it. */
    recordDuplicate: (change: ConsentChange): Promise<ApplyResult> =>
      recordChange(change, { applied: false, reason: 'duplicate' }),

    /** The audit trail of one (venue, phone), newest first (by when each change happened, then id). */
    async changes(
      venueId: number,
      phoneNumber: string,
      page: { limit: number; before?: ConsentChangeCursor },
    ): Promise<{ items: ConsentChangeRecord[]; next: ConsentChangeCursor | null }> {
      const { before } = page;
      const rows: Row[] = await knex('SmsConsentChanges')
        .where({ VenueID: venueId, PhoneNumber: phoneNumber })
        .where((q) => {
          if (before) {
            q.where('OccurredAt', '<', before.occurredAt).orWhere((same) =>
              same.where('OccurredAt', '=', before.occurredAt).where('ID', '<', before.id),
            );
          }
        })
        .orderBy([
          { column: 'OccurredAt', order: 'desc' },
          { column: 'ID', order: 'desc' },
        ])
        // One more than asked: whether it exists says whether there is a next page.
        .limit(page.limit + 1);
      const items = rows.slice(0, page.limit).map(toChangeRecord);
      const last = items[items.length - 1];
      return {
        items,
        next: rows.length > page.limit && last ? { occurredAt: last.occurredAt, id: last.id } : null,
      };
    },
  };
}

function toChangeRecord(row: Row): ConsentChangeRecord {
  return {
    id: Number(row.ID),
    venueId: Number(row.VenueID),
    phoneNumber: String(row.PhoneNumber),
    status: ConsentStatusIds.name(Number(row.StatusID)),
    source: ConsentSourceIds.name(Number(row.ConsentSourceID)),
    provider: row.ProviderNameID == null ? null : ProviderNameIds.name(Number(row.ProviderNameID)),
    providerMessageId: nullable(row.ProviderMessageID),
    occurredAt: toDate(row.OccurredAt),
    receivedAt: toDate(row.ReceivedAt),
    outcome: ConsentChangeOutcomeIds.name(Number(row.OutcomeID)),
    correlationId: nullable(row.CorrelationID),
    changeId: nullable(row.ChangeID),
    createdAt: toDate(row.CreatedAt),
  };
}

function toRecord(row: Row): ConsentRecord {
  return {
    venueId: Number(row.VenueID),
    phoneNumber: String(row.PhoneNumber),
    status: ConsentStatusIds.name(Number(row.StatusID)),
    source: row.ConsentSourceID == null ? null : ConsentSourceIds.name(Number(row.ConsentSourceID)),
    initialConsentAt: toDateOrNull(row.InitialConsentAt),
    optedInAt: toDateOrNull(row.OptedInAt),
    optedOutAt: toDateOrNull(row.OptedOutAt),
    lastChangeAt: toDate(row.LastChangeAt),
    lastProviderMessageId: row.LastProviderMessageID == null ? null : String(row.LastProviderMessageID),
    createdAt: toDate(row.CreatedAt),
    updatedAt: toDate(row.UpdatedAt),
  };
}

export type ConsentRepository = ReturnType<typeof createConsentRepository>;
