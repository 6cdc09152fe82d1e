import type { Knex } from 'knex';
import { DELIVERY_STATUSES, DELIVERY_STATUS_RANK, type DeliveryStatus } from '../domain/delivery-status';
import { DatabaseError, isUniqueViolation } from './errors';
import { nullable, toDate } from './knex';

type Row = Record<string, unknown>;

/**
 * How long a report whose message no history row names yet waits for that row. A row is written
 * within moments of the provider's answer unless the workers are down, so a week covers any outage
 * ops would let run; past it the report is deleted unapplied. It also bounds what reports for
 * messages that never become ours (garbage, another system on the account) can occupy: one row per
 * message id received in the last week.
 */
export const DELIVERY_REPORT_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** Each process prunes at most this often: one indexed range delete, not one per report. */
const PRUNE_INTERVAL_MS = 60_000;
/**
 * Keeping a report finds its message's pending row deleted under it (taken or pruned) at most this
 * often before it gives up: the route's 500 makes the provider retry.
 */
const KEEP_ATTEMPTS = 5;

/**
 * The rank of the stored status, as SQL: NULL and unknown values rank 0. A CASE expression runs the
 * same on SQLite, PostgreSQL and SQL Server. Status names are bound; the ranks are our own integer
 * constants, inlined so every dialect compares integers without inferring a parameter's type.
 */
const RANK_CASE = `case ?? ${DELIVERY_STATUSES.map((s) => `when ? then ${Math.trunc(DELIVERY_STATUS_RANK[s])}`).join(' ')} else 0 end`;
const RANK_BINDINGS = ['DeliveryStatus', ...DELIVERY_STATUSES];

/** Rows (of either table: both name the column DeliveryStatus) whose status ranks below `status`. */
function rankedBelow(query: Knex.QueryBuilder, status: DeliveryStatus): Knex.QueryBuilder {
  return query.andWhereRaw(`${RANK_CASE} < ${Math.trunc(DELIVERY_STATUS_RANK[status])}`, RANK_BINDINGS);
}

export function isDeliveryStatus(value: unknown): value is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly unknown[]).includes(value);
}

/** Which message a report is about, as both SmsSendHistory and SmsPendingDeliveryReports key it. */
export interface MessageKey {
  ProviderNameID: number;
  ProviderMessageID: string;
}

/** The delivery columns a report sets, the same in both tables but for the time's column name. */
export interface DeliveryValues {
  DeliveryStatus: DeliveryStatus;
  DeliveryErrorCode: string | null;
}

/**
 * The steps of keeping a delivery report until a history row names its message (the order they run
 * in, and why there is no transaction: updateDeliveryStatus in history-repository.ts). The history
 * repository makes one and keeps it, as it holds the time of the last prune.
 */
export function createDeliveryReports(knex: Knex) {
  const pending = () => knex('SmsPendingDeliveryReports');
  let lastPruneAt = Number.NEGATIVE_INFINITY;

  /** Moves the history row(s) of the message up to this status, never down; how many moved. */
  const raiseHistory = (key: MessageKey, values: DeliveryValues, at: Date): Promise<number> =>
    rankedBelow(knex('SmsSendHistory').where(key), values.DeliveryStatus).update({
      ...values,
      DeliveryUpdatedAt: at,
    });
  /**
   * raiseHistory where a row names the message; null when none does. History rows are never
   * deleted, so a row found by the second look but missed by the UPDATE was inserted in between:
   * a second UPDATE, now that it exists, decides.
   */
  const raiseNamed = async (
    key: MessageKey,
    values: DeliveryValues,
    at: Date,
    rowKnown: boolean,
  ): Promise<number | null> => {
    const raised = await raiseHistory(key, values, at);
    if (raised > 0 || rowKnown) return raised;
    if ((await knex('SmsSendHistory').where(key).first('ID')) === undefined) return null;
    return raiseHistory(key, values, at);
  };

  /**
   * Keeps a report no history row names yet, merged with what is kept for that message by the same
   * rank rule as the row. Insert first (the key decides between concurrent first reports), else
   * raise the kept one; a kept row deleted in between (taken by a history write, or pruned) means
   * inserting again.
   */
  const keepPending = async (key: MessageKey, values: DeliveryValues, at: Date): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await pending().insert({ ...key, ...values, ReceivedAt: at });
        return;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      const raised = await rankedBelow(pending().where(key), values.DeliveryStatus).update({
        ...values,
        ReceivedAt: at,
      });
      if (raised > 0) return;
      const kept = (await pending().where(key).first('DeliveryStatus')) as Row | undefined;
      if (kept && isDeliveryStatus(kept.DeliveryStatus)) {
        if (DELIVERY_STATUS_RANK[kept.DeliveryStatus] >= DELIVERY_STATUS_RANK[values.DeliveryStatus]) return;
      }
      if (attempt >= KEEP_ATTEMPTS) {
        throw new DatabaseError('SmsPendingDeliveryReports upsert', { problem: 'row_vanished' });
      }
    }
  };

  /**
   * Hands the message's pending report, if any, to its history row, if one exists (`rowExists`: the
   * caller just wrote or read it). The pending row is deleted only if it still holds the status
   * that was applied: a report that raised it meanwhile runs this itself afterwards, and applies it.
   * `taken`: a row exists and the pending report is settled on it; `raised`: history rows it moved.
   */
  const takePending = async (
    key: MessageKey,
    rowExists: boolean,
  ): Promise<{ taken: boolean; raised: number }> => {
    const none = { taken: false, raised: 0 };
    const kept = (await pending().where(key).first()) as Row | undefined;
    if (!kept || !isDeliveryStatus(kept.DeliveryStatus)) return none;
    const values = {
      DeliveryStatus: kept.DeliveryStatus,
      DeliveryErrorCode: nullable(kept.DeliveryErrorCode),
    };
    const raised = await raiseNamed(key, values, toDate(kept.ReceivedAt), rowExists);
    if (raised === null) return none;
    await pending()
      .where({ ...key, DeliveryStatus: kept.DeliveryStatus })
      .delete();
    return { taken: true, raised };
  };

  /** Reports older than the retention go, at most once a PRUNE_INTERVAL_MS per process. */
  const prune = async (now: Date): Promise<void> => {
    if (now.getTime() - lastPruneAt < PRUNE_INTERVAL_MS) return;
    lastPruneAt = now.getTime();
    await pending()
      .where('ReceivedAt', '<', new Date(now.getTime() - DELIVERY_REPORT_RETENTION_MS))
      .delete();
  };

  return { raiseNamed, keepPending, takePending, prune };
}
