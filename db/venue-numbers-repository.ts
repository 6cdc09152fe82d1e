import type { Knex } from 'knex';
import type { ProviderName, VenueNumberStatus } from '../domain/enums';
import { ProviderNameIds, VenueNumberStatusIds } from './enum-ids';
import { assertFits } from './column-limits';
import { DatabaseError, isUniqueViolation } from './errors';
import { toDate, toDateOrNull } from './knex';

export interface VenueNumber {
  id: number;
  venueId: number;
  provider: ProviderName;
  phoneNumber: string;
  providerId: string;
  status: VenueNumberStatus;
  friendlyName: string | null;
  assignedAt: Date;
  releasedAt: Date | null;
}

type Row = Record<string, unknown>;
const ACTIVE = VenueNumberStatusIds.id('active');

export function createVenueNumbersRepository(knex: Knex) {
  const findActive = async (venueId: number, provider: ProviderName): Promise<VenueNumber | null> => {
    const row: Row | undefined = await knex('VenuePhoneNumbers')
      .where({ VenueID: venueId, ProviderNameID: ProviderNameIds.id(provider), StatusID: ACTIVE })
      .first();
    return row ? toVenueNumber(row) : null;
  };

  return {
    findActive,

    /**
     * Stores a purchased number as the venue's active one. The filtered unique index allows one
     * active number per (venue, provider): a concurrent loser gets the winner's row, inserted false.
     */
    async insertActive(input: {
      venueId: number;
      provider: ProviderName;
      phoneNumber: string;
      providerId: string;
      friendlyName?: string;
    }): Promise<{ number: VenueNumber; inserted: boolean }> {
      const now = new Date();
      const row = {
        VenueID: input.venueId,
        PhoneNumber: input.phoneNumber,
        ProviderID: input.providerId,
        ProviderNameID: ProviderNameIds.id(input.provider),
        StatusID: ACTIVE,
        FriendlyName: input.friendlyName ?? null,
        AssignedAt: now,
        CreatedAt: now,
        UpdatedAt: now,
      };
      assertFits('VenuePhoneNumbers', row, 'VenuePhoneNumbers insert');
      try {
        await knex('VenuePhoneNumbers').insert(row);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const winner = await findActive(input.venueId, input.provider);
        if (winner) return { number: winner, inserted: false };
        throw err;
      }
      const stored = await findActive(input.venueId, input.provider);
      if (!stored) throw new DatabaseError('VenuePhoneNumbers insert', { problem: 'row_vanished' });
      return { number: stored, inserted: true };
    },

    /**
     * The venue a number belongs to, for a webhook: only an active number, and only at the provider
     * that called (the same digits at another provider are another line). Should two venues ever hold
     * one number, the most recently assigned wins.
     */
    async findActiveByPhoneNumber(phoneNumber: string, provider?: ProviderName): Promise<VenueNumber | null> {
      const query = knex('VenuePhoneNumbers').where({ PhoneNumber: phoneNumber, StatusID: ACTIVE });
      if (provider) query.andWhere({ ProviderNameID: ProviderNameIds.id(provider) });
      const row: Row | undefined = await query
        .orderBy([
          { column: 'AssignedAt', order: 'desc' },
          { column: 'ID', order: 'desc' },
        ])
        .first();
      return row ? toVenueNumber(row) : null;
    },

    /**
     * Every active number, most recently assigned first (so a reader keeping the first of each
     * number agrees with findActiveByPhoneNumber), at most `limit`: what the webhooks' directory
     * (api/venue-number-directory.ts) holds for a database outage.
     */
    async listActive(
      limit: number,
    ): Promise<Array<Pick<VenueNumber, 'venueId' | 'provider' | 'phoneNumber'>>> {
      const rows: Row[] = await knex('VenuePhoneNumbers')
        .where({ StatusID: ACTIVE })
        .select('VenueID', 'ProviderNameID', 'PhoneNumber')
        .orderBy([
          { column: 'AssignedAt', order: 'desc' },
          { column: 'ID', order: 'desc' },
        ])
        .limit(limit);
      return rows.map((row) => ({
        venueId: Number(row.VenueID),
        provider: ProviderNameIds.name(Number(row.ProviderNameID)),
        phoneNumber: String(row.PhoneNumber),
      }));
    },

    async release(id: number, at: Date = new Date()): Promise<void> {
      await knex('VenuePhoneNumbers')
        .where({ ID: id })
        .update({ StatusID: VenueNumberStatusIds.id('released'), ReleasedAt: at, UpdatedAt: at });
    },
  };
}

function toVenueNumber(row: Row): VenueNumber {
  return {
    id: Number(row.ID),
    venueId: Number(row.VenueID),
    provider: ProviderNameIds.name(Number(row.ProviderNameID)),
    phoneNumber: String(row.PhoneNumber),
    providerId: String(row.ProviderID),
    status: VenueNumberStatusIds.name(Number(row.StatusID)),
    friendlyName: row.FriendlyName == null ? null : String(row.FriendlyName),
    assignedAt: toDate(row.AssignedAt),
    releasedAt: toDateOrNull(row.ReleasedAt),
  };
}

export type VenueNumbersRepository = ReturnType<typeof createVenueNumbersRepository>;
