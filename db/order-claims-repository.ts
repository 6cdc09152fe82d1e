import type { Knex } from 'knex';
import type { ProviderName } from '../domain/enums';
import { ProviderNameIds } from './enum-ids';
import { isUniqueViolation, toDate, toDateOrNull } from './knex';

/** An order's claim on its one SMS (SmsOrderClaims): who claimed it, when, and what was sent. */
export interface OrderClaim {
  orderId: string;
  venueId: number;
  /** The provider of the order's latest send attempt (the first claimer's until another is tried). */
  provider: ProviderName;
  workflowId: string;
  runId: string;
  /** The first send attempt of the order, by any run: reconciliation never looks before it. */
  claimedAt: Date;
  providerMessageId: string | null;
  sentAt: Date | null;
}

type Row = Record<string, unknown>;

export function createOrderClaimsRepository(knex: Knex) {
  const find = async (orderId: string): Promise<OrderClaim | null> => {
    const row = (await knex('SmsOrderClaims').where({ OrderID: orderId }).first()) as Row | undefined;
    return row ? toClaim(row) : null;
  };

  return {
    find,

    /**
     * Claims the order for this run, or finds the claim an earlier attempt or run made (the primary
     * key decides, so two racing attempts agree on one claim).
     */
    async claim(
      input: Omit<OrderClaim, 'providerMessageId' | 'sentAt'>,
    ): Promise<{ claim: OrderClaim; created: boolean }> {
      try {
        await knex('SmsOrderClaims').insert({
          OrderID: input.orderId,
          VenueID: input.venueId,
          ProviderNameID: ProviderNameIds.id(input.provider),
          WorkflowID: input.workflowId,
          RunID: input.runId,
          ClaimedAt: input.claimedAt,
        });
        return { claim: { ...input, providerMessageId: null, sentAt: null }, created: true };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      const existing = await find(input.orderId);
      if (!existing) throw new Error('order claim vanished after a unique violation');
      return { claim: existing, created: false };
    },

    /** The provider accepted the order's message (first writer wins; a later one changes nothing). */
    async markSent(orderId: string, providerMessageId: string, at: Date = new Date()): Promise<void> {
      await knex('SmsOrderClaims')
        .where({ OrderID: orderId })
        .whereNull('ProviderMessageID')
        .update({ ProviderMessageID: providerMessageId, SentAt: at });
    },

    /**
     * The order's next attempt goes through another provider (a failover, or a rerun after ops
     * switched providers): the claim names it from now on, so that a later rerun asks it whether the
     * message went out. Only while nothing is known to be sent.
     */
    async recordProvider(orderId: string, provider: ProviderName): Promise<void> {
      await knex('SmsOrderClaims')
        .where({ OrderID: orderId })
        .whereNull('ProviderMessageID')
        .update({ ProviderNameID: ProviderNameIds.id(provider) });
    },

    /** Of these provider message ids, those another order's claim holds: never adopt one of them. */
    async claimedByOthers(orderId: string, providerMessageIds: string[]): Promise<Set<string>> {
      if (providerMessageIds.length === 0) return new Set();
      const rows = (await knex('SmsOrderClaims')
        .whereIn('ProviderMessageID', providerMessageIds)
        .whereNot('OrderID', orderId)
        .select('ProviderMessageID')) as Row[];
      return new Set(rows.map((r) => String(r.ProviderMessageID)));
    },
  };
}

function toClaim(row: Row): OrderClaim {
  return {
    orderId: String(row.OrderID),
    venueId: Number(row.VenueID),
    provider: ProviderNameIds.name(Number(row.ProviderNameID)),
    workflowId: String(row.WorkflowID),
    runId: String(row.RunID),
    claimedAt: toDate(row.ClaimedAt),
    providerMessageId: row.ProviderMessageID == null ? null : String(row.ProviderMessageID),
    sentAt: toDateOrNull(row.SentAt),
  };
}

export type OrderClaimsRepository = ReturnType<typeof createOrderClaimsRepository>;
