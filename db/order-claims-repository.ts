import type { Knex } from 'knex';
import type { ProviderName } from '../domain/enums';
import { SEND_ATTEMPT_TIMEOUT_MS } from '../domain/limits';
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
  /** The venue number of the order's latest send attempt: reconciliation looks from there. */
  fromNumber: string | null;
  providerMessageId: string | null;
  sentAt: Date | null;
}

type Row = Record<string, unknown>;

/** The holder of (venue number, customer) while its send is unresolved (SmsRecipientLeases). */
export interface RecipientHold {
  orderId: string;
  workflowId: string;
  runId: string;
  from: string;
  to: string;
}

/** When a workflow run closed, null while it runs (activities/deps.ts ActivityDeps.runClosedAt). */
export type RunClosedAt = (workflowId: string, runId: string) => Promise<Date | null>;

/** Held: by this order, and since when reconciliation may look (null: since the claim). */
export type HoldResult = { held: true; notBefore: Date | null } | { held: false; holderOrderId: string };

/**
 * A hold nobody touched for this long is abandoned: longer than any gap between two attempts of a
 * live holder (ProviderAuth backs off up to 30 minutes). The fallback for a holder whose run is over
 * when Temporal cannot say so (`runClosedAt`): an order terminated mid-send writes no history row.
 */
export const ABANDONED_HOLD_MS = 2 * 60 * 60_000;

export function createOrderClaimsRepository(knex: Knex) {
  const find = async (orderId: string): Promise<OrderClaim | null> => {
    const row = (await knex('SmsOrderClaims').where({ OrderID: orderId }).first()) as Row | undefined;
    return row ? toClaim(row) : null;
  };

  /** The holder resolved its send, finished its run, or has not been seen for hours. */
  const holdIsStale = async (hold: Row, now: Date, runClosedAt?: RunClosedAt): Promise<boolean> => {
    if (now.getTime() - toDate(hold.HeldAt).getTime() > ABANDONED_HOLD_MS) return true;
    const resolved = await knex('SmsOrderClaims')
      .where({ OrderID: hold.OrderID })
      .whereNotNull('ProviderMessageID')
      .first('OrderID');
    if (resolved) return true;
    // The holder's run wrote its history row: it is over, and no attempt of it is in flight.
    const finished = await knex('SmsSendHistory')
      .where({ IdempotencyKey: `${String(hold.WorkflowID)}/${String(hold.RunID)}` })
      .first('ID');
    if (finished) return true;
    // Closed without a history row (terminated, timed out): nothing of it will resolve the hold. An
    // attempt running when it closed may still reach the provider until its own timeout has passed.
    const closedAt = await runClosedAt?.(String(hold.WorkflowID), String(hold.RunID));
    return closedAt != null && now.getTime() - closedAt.getTime() >= SEND_ATTEMPT_TIMEOUT_MS;
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
          FromNumber: input.fromNumber,
        });
        return { claim: { ...input, providerMessageId: null, sentAt: null }, created: true };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      const existing = await find(input.orderId);
      if (!existing) throw new Error('order claim vanished after a unique violation');
      return { claim: existing, created: false };
    },

    /**
     * The provider accepted the order's message (first writer wins; a later one changes nothing), and
     * with that the order's send is resolved: its hold on the recipient ends in the same transaction.
     */
    async markSent(orderId: string, providerMessageId: string, at: Date = new Date()): Promise<void> {
      await knex.transaction(async (trx) => {
        await trx('SmsOrderClaims')
          .where({ OrderID: orderId })
          .whereNull('ProviderMessageID')
          .update({ ProviderMessageID: providerMessageId, SentAt: at });
        await trx('SmsRecipientLeases').where({ OrderID: orderId }).delete();
      });
    },

    /**
     * The order's next attempt: the run, provider and number it goes out from. A later rerun or
     * failover then asks that provider, from that number, whether the message went out; and a rerun
     * that sends owns the claim, so its own retry reads "sent", not "duplicate". Only while nothing
     * is known to be sent.
     */
    async recordAttempt(
      orderId: string,
      attempt: { provider: ProviderName; fromNumber: string; runId: string },
    ): Promise<void> {
      await knex('SmsOrderClaims')
        .where({ OrderID: orderId })
        .whereNull('ProviderMessageID')
        .update({
          ProviderNameID: ProviderNameIds.id(attempt.provider),
          FromNumber: attempt.fromNumber,
          RunID: attempt.runId,
        });
    },

    /**
     * Holds (venue number, customer) for this order until its send is resolved, or finds who holds
     * it. Re-entrant for the same order (any run). A hold whose holder is done, or that nobody has
     * touched for ABANDONED_HOLD_MS, is taken over, and the taker's reconciliation starts at the
     * takeover (`notBefore`): whatever was accepted before is the old holder's. `runClosedAt` asks
     * Temporal about a holder the database cannot call done.
     */
    async holdRecipient(
      hold: RecipientHold,
      { now = new Date(), runClosedAt }: { now?: Date; runClosedAt?: RunClosedAt } = {},
    ): Promise<HoldResult> {
      const key = { SenderNumber: hold.from, RecipientNumber: hold.to };
      let takeover: Date | null = null;
      for (let tries = 0; tries < 3; tries++) {
        try {
          await knex('SmsRecipientLeases').insert({
            ...key,
            OrderID: hold.orderId,
            WorkflowID: hold.workflowId,
            RunID: hold.runId,
            AcquiredAt: now,
            HeldAt: now,
            NotBefore: takeover,
          });
          return { held: true, notBefore: takeover };
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
        }
        const current = (await knex('SmsRecipientLeases').where(key).first()) as Row | undefined;
        if (!current) continue; // released meanwhile: try again
        if (String(current.OrderID) === hold.orderId) {
          await knex('SmsRecipientLeases')
            .where({ ...key, OrderID: hold.orderId })
            .update({ HeldAt: now, WorkflowID: hold.workflowId, RunID: hold.runId });
          return { held: true, notBefore: toDateOrNull(current.NotBefore) };
        }
        if (!(await holdIsStale(current, now, runClosedAt)))
          return { held: false, holderOrderId: String(current.OrderID) };
        // Only the stale hold as read: a racing taker that got there first wins the insert below.
        await knex('SmsRecipientLeases')
          .where({ ...key, OrderID: current.OrderID, RunID: current.RunID })
          .delete();
        takeover = now;
      }
      throw new Error('recipient hold kept changing hands');
    },

    /** The order's send is resolved without a message (a definite refusal, or no send after all). */
    async releaseRecipient(orderId: string): Promise<void> {
      await knex('SmsRecipientLeases').where({ OrderID: orderId }).delete();
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
    fromNumber: row.FromNumber == null ? null : String(row.FromNumber),
    providerMessageId: row.ProviderMessageID == null ? null : String(row.ProviderMessageID),
    sentAt: toDateOrNull(row.SentAt),
  };
}

export type OrderClaimsRepository = ReturnType<typeof createOrderClaimsRepository>;
