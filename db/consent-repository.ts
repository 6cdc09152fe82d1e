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
  const get = async (db: Knex | Knex.Transaction, venueId: number, phoneNumber: string) =>
    (await db('SmsConsent').where({ VenueID: venueId, PhoneNumber: phoneNumber }).first()) as Row | undefined;

  const applyOnce = (change: ConsentChange): Promise<ApplyResult> =>
    knex.transaction(async (trx) => {
      const now = new Date();
      const stamp = change.status === 'opted_in' ? { OptedInAt: change.occurredAt } : { OptedOutAt: change.occurredAt };
      const values = {
        StatusID: ConsentStatusIds.id(change.status),
        ConsentSourceID: ConsentSourceIds.id(change.source),
        LastChangeAt: change.occurredAt,
        LastProviderMessageID: change.providerMessageId ?? null,
        UpdatedAt: now,
        ...stamp,
      };
      const row = await get(trx, change.venueId, change.phoneNumber);
      if (!row) {
        await trx('SmsConsent').insert({
          VenueID: change.venueId,
          PhoneNumber: change.phoneNumber,
          InitialConsentAt: change.occurredAt,
          CreatedAt: now,
          ...values,
        });
        return { applied: true };
      }
      if (change.providerMessageId && row.LastProviderMessageID === change.providerMessageId) {
        return { applied: false, reason: 'duplicate' };
      }
      if (change.occurredAt.getTime() < toDate(row.LastChangeAt).getTime()) return { applied: false, reason: 'stale' };
      await trx('SmsConsent').where({ ID: row.ID }).update(values);
      return { applied: true };
    });

  return {
    async get(venueId: number, phoneNumber: string): Promise<ConsentRecord | null> {
      const row = await get(knex, venueId, phoneNumber);
      return row ? toRecord(row) : null;
    },

    /**
     * Applies a change unless it is a redelivery or older than what the row already reflects. Two
     * first writes racing for one (venue, phone) meet at the unique index; the loser retries as an update.
     */
    async applyChange(change: ConsentChange): Promise<ApplyResult> {
      try {
        return await applyOnce(change);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        return applyOnce(change);
      }
    },
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
