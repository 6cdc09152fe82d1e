import type { Knex } from 'knex';
import type { ConsentSource, ConsentStatus } from '../domain/enums';
import { ConsentSourceIds, ConsentStatusIds } from './enum-ids';
import { isUniqueViolation, toDate, toDateOrNull } from './knex';

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
}

export type ApplyResult = { applied: true } | { applied: false; reason: 'stale' | 'duplicate' };

type Row = Record<string, unknown>;

export function createConsentRepository(knex: Knex) {
  const get = async (db: Knex, venueId: number, phoneNumber: string) =>
    (await db('SmsConsent').where({ VenueID: venueId, PhoneNumber: phoneNumber }).first()) as Row | undefined;

  /**
   * Single statements, no read-then-write transaction: SQLite would refuse the lock upgrade of a
   * concurrent writer ("database is locked"), and every dialect keeps each statement atomic.
   */
  const applyChange = async (change: ConsentChange): Promise<ApplyResult> => {
    const now = new Date();
    const stamp =
      change.status === 'opted_in' ? { OptedInAt: change.occurredAt } : { OptedOutAt: change.occurredAt };
    const values = {
      StatusID: ConsentStatusIds.id(change.status),
      ConsentSourceID: ConsentSourceIds.id(change.source),
      LastChangeAt: change.occurredAt,
      LastProviderMessageID: change.providerMessageId ?? null,
      UpdatedAt: now,
      ...stamp,
    };
    const key = { VenueID: change.venueId, PhoneNumber: change.phoneNumber };
    try {
      await knex('SmsConsent').insert({
        ...key,
        InitialConsentAt: change.occurredAt,
        CreatedAt: now,
        ...values,
      });
      return { applied: true };
    } catch (err) {
      // The first write for this (venue, phone) happened already: the unique index said so.
      if (!isUniqueViolation(err)) throw err;
    }
    const updated = await knex('SmsConsent')
      .where(key)
      .where('LastChangeAt', '<=', change.occurredAt)
      .where((q) => {
        if (change.providerMessageId) {
          q.whereNull('LastProviderMessageID').orWhereNot('LastProviderMessageID', change.providerMessageId);
        }
      })
      .update(values);
    if (updated > 0) return { applied: true };
    const row = await get(knex, change.venueId, change.phoneNumber);
    const duplicate =
      change.providerMessageId !== undefined && row?.LastProviderMessageID === change.providerMessageId;
    return { applied: false, reason: duplicate ? 'duplicate' : 'stale' };
  };

  return {
    async get(venueId: number, phoneNumber: string): Promise<ConsentRecord | null> {
      const row = await get(knex, venueId, phoneNumber);
      return row ? toRecord(row) : null;
    },

    /** Applies a change unless it is a redelivery or older than what the row already reflects. */
    applyChange,
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
