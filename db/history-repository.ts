import type { Knex } from 'knex';
import { DELIVERY_STATUSES, isDeliveryFailure, type DeliveryStatus } from '../domain/delivery-status';
import type { HistoryStatus, ProviderName } from '../domain/enums';
import { ERROR_CODE_MAX } from '../domain/limits';
import { HistoryStatusIds, ProviderNameIds } from './enum-ids';
import { assertFits } from './column-limits';
import {
  createDeliveryReports,
  isDeliveryStatus,
  type DeliveryValues,
  type MessageKey,
} from './delivery-reports';
import { DatabaseError, isUniqueViolation } from './errors';
import { nullable, toDate, toDateOrNull } from './knex';

export { DELIVERY_REPORT_RETENTION_MS } from './delivery-reports';

export interface HistoryEntry {
  /** One row per workflow run: `<workflowId>/<runId>`. */
  idempotencyKey: string;
  orderId: string;
  orderNumber: string | null;
  venueId: number;
  venuePhoneNumberId: number | null;
  customerId: string;
  customerPhoneNumber: string;
  message: string;
  provider: ProviderName;
  status: HistoryStatus;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  correlationId: string | null;
}

export interface HistoryRecord extends HistoryEntry {
  id: number;
  createdAt: Date;
  /** From the provider's delivery callbacks; null until the first one (and for unsent rows). */
  deliveryStatus: DeliveryStatus | null;
  deliveryErrorCode: string | null;
  deliveryUpdatedAt: Date | null;
}

export interface DeliveryUpdate {
  provider: ProviderName;
  providerMessageId: string;
  status: DeliveryStatus;
  /** Kept only for undelivered / failed. */
  errorCode: string | null;
  /** When the report was received; also the clock that ages pending reports out. */
  at?: Date;
}

export interface HistoryFilter {
  orderId?: string;
  phoneNumber?: string;
  venueId?: number;
  status?: HistoryStatus;
  from?: Date;
  to?: Date;
  limit: number;
  offset: number;
}

type Row = Record<string, unknown>;

/** One group of a venue's history rows over a window (venueStats). */
export interface VenueStatsGroup {
  status: HistoryStatus;
  provider: ProviderName;
  /** null when no delivery callback arrived (and for rows that were never sent). */
  deliveryStatus: DeliveryStatus | null;
  count: number;
}

export function createHistoryRepository(knex: Knex) {
  const byKey = (key: string) =>
    knex('SmsSendHistory').where({ IdempotencyKey: key }).first() as Promise<Row | undefined>;
  const { raiseNamed, keepPending, takePending, prune } = createDeliveryReports(knex);

  /**
   * A stored row that names a message takes any report that arrived before it; the row as it is
   * then (`read`: the row as read before, still good unless a report moved it).
   */
  const withPendingReport = async (row: Row, read?: Row): Promise<HistoryRecord> => {
    let current = read;
    if (row.ProviderMessageID != null) {
      const key = {
        ProviderNameID: Number(row.ProviderNameID),
        ProviderMessageID: String(row.ProviderMessageID),
      };
      if ((await takePending(key, true)).raised > 0) current = undefined;
    }
    current ??= await byKey(String(row.IdempotencyKey));
    if (!current) throw new DatabaseError('SmsSendHistory insert', { problem: 'row_vanished' });
    return toRecord(current);
  };

  return {
    /**
     * Idempotent on the key: a retried write returns the row the first attempt stored. A row that
     * names a provider message takes the delivery report that arrived before it (the provider called
     * back before its API answered), on every attempt, so a write that died after its insert still
     * does. No transaction on purpose: see updateDeliveryStatus.
     */
    async record(entry: HistoryEntry): Promise<{ record: HistoryRecord; created: boolean }> {
      const existing = await byKey(entry.idempotencyKey);
      if (existing) return { record: await withPendingReport(existing, existing), created: false };
      const row = {
        IdempotencyKey: entry.idempotencyKey,
        // Lower case, as findByOrderId and search query it: a GUID's case is not part of its identity.
        OrderID: entry.orderId.toLowerCase(),
        OrderNumber: entry.orderNumber,
        VenueID: entry.venueId,
        VenuePhoneNumberID: entry.venuePhoneNumberId,
        CustomerID: entry.customerId.toLowerCase(),
        CustomerPhoneNumber: entry.customerPhoneNumber,
        Message: entry.message,
        ProviderNameID: ProviderNameIds.id(entry.provider),
        StatusID: HistoryStatusIds.id(entry.status),
        ProviderMessageID: entry.providerMessageId,
        ErrorCode: entry.errorCode,
        ErrorMessage: entry.errorMessage,
        CorrelationID: entry.correlationId,
        CreatedAt: new Date(),
      };
      assertFits('SmsSendHistory', row, 'SmsSendHistory insert');
      try {
        await knex('SmsSendHistory').insert(row);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const raced = await byKey(entry.idempotencyKey);
        if (raced) return { record: await withPendingReport(raced, raced), created: false };
        throw err;
      }
      return { record: await withPendingReport(row), created: true };
    },

    /**
     * A delivery callback. The history row of this provider's message moves only to a higher-ranked
     * status, in one UPDATE, so a replayed or late callback ("sent" after "delivered") changes
     * nothing. No row names the message yet (the report outran the provider's answer, or the message
     * is not ours): the report is kept in SmsPendingDeliveryReports for the history write to take.
     *
     * Statement by statement, without a transaction: each side writes its own fact first, then
     * looks for the other's — the report keeps itself, then looks for the row; the history write
     * inserts the row, then looks for kept reports. Whichever comes second sees the other, in any
     * interleaving, because each write is committed before its writer looks. A transaction around
     * either side would hide its write until commit, and both could look, miss and commit.
     * `matched`: a history row names the message; `pending`: the report waits for one.
     */
    async updateDeliveryStatus(
      update: DeliveryUpdate,
    ): Promise<{ updated: number; matched: boolean; pending: boolean }> {
      const key: MessageKey = {
        ProviderNameID: ProviderNameIds.id(update.provider),
        ProviderMessageID: update.providerMessageId,
      };
      const values: DeliveryValues = {
        DeliveryStatus: update.status,
        // The provider's diagnostic: cut to its column, so a callback never fails (and is retried) over it.
        DeliveryErrorCode: isDeliveryFailure(update.status)
          ? (update.errorCode?.slice(0, ERROR_CODE_MAX) ?? null)
          : null,
      };
      const at = update.at ?? new Date();
      assertFits('SmsSendHistory', { ...key, ...values }, 'SmsSendHistory delivery update');
      const updated = await raiseNamed(key, values, at, false);
      if (updated !== null) return { updated, matched: true, pending: false };

      assertFits('SmsPendingDeliveryReports', { ...key, ...values }, 'SmsPendingDeliveryReports upsert');
      await keepPending(key, values, at);
      await prune(at);
      // The row may have been written since the first look, its writer missing this report.
      const { taken, raised } = await takePending(key, false);
      return { updated: raised, matched: taken, pending: !taken };
    },

    async findByOrderId(orderId: string): Promise<HistoryRecord[]> {
      const rows: Row[] = await knex('SmsSendHistory')
        .where({ OrderID: orderId.toLowerCase() })
        .orderBy('ID', 'asc');
      return rows.map(toRecord);
    },

    /** Newest first, with the total for pagination. */
    async search(filter: HistoryFilter): Promise<{ items: HistoryRecord[]; total: number }> {
      const where = (q: Knex.QueryBuilder) => {
        if (filter.orderId) q.where('OrderID', filter.orderId.toLowerCase());
        if (filter.phoneNumber) q.where('CustomerPhoneNumber', filter.phoneNumber);
        if (filter.venueId !== undefined) q.where('VenueID', filter.venueId);
        if (filter.status) q.where('StatusID', HistoryStatusIds.id(filter.status));
        if (filter.from) q.where('CreatedAt', '>=', filter.from);
        if (filter.to) q.where('CreatedAt', '<', filter.to);
        return q;
      };
      const [{ total }] = (await where(knex('SmsSendHistory')).count({ total: '*' })) as Array<{
        total: number | string;
      }>;
      const rows: Row[] = await where(knex('SmsSendHistory'))
        .orderBy([
          { column: 'CreatedAt', order: 'desc' },
          { column: 'ID', order: 'desc' },
        ])
        .limit(filter.limit)
        .offset(filter.offset);
      return { items: rows.map(toRecord), total: Number(total) };
    },

    /**
     * A venue's rows in [from, to) counted by outcome, provider and delivery status, in one GROUP BY
     * that the (VenueID, CreatedAt) index serves; the caller folds the groups into its breakdowns.
     * Plain columns and COUNT(*) only, so it reads the same on SQLite, PostgreSQL and SQL Server.
     */
    async venueStats(venueId: number, from: Date, to: Date): Promise<VenueStatsGroup[]> {
      const rows = (await knex('SmsSendHistory')
        .select('StatusID', 'ProviderNameID', 'DeliveryStatus')
        .count({ n: '*' })
        .where('VenueID', venueId)
        .andWhere('CreatedAt', '>=', from)
        .andWhere('CreatedAt', '<', to)
        .groupBy('StatusID', 'ProviderNameID', 'DeliveryStatus')) as Row[];
      return rows.map((row) => ({
        status: HistoryStatusIds.name(Number(row.StatusID)),
        provider: ProviderNameIds.name(Number(row.ProviderNameID)),
        deliveryStatus: (DELIVERY_STATUSES as readonly unknown[]).includes(row.DeliveryStatus)
          ? (row.DeliveryStatus as DeliveryStatus)
          : null,
        // PostgreSQL's count is a bigint, which pg hands over as a string.
        count: Number(row.n),
      }));
    },

    /**
     * Which of these provider message ids another order's history already names: reconciliation
     * never adopts them. One indexed look-up (IX_SmsSendHistory_ProviderMessageID) per chunk of ids,
     * chunked well below SQL Server's 2100 parameters.
     */
    async messageIdsOfOtherOrders(
      provider: ProviderName,
      providerMessageIds: readonly string[],
      orderId: string,
    ): Promise<Set<string>> {
      const owned = new Set<string>();
      const ids = [...new Set(providerMessageIds)];
      for (let i = 0; i < ids.length; i += ID_CHUNK) {
        const rows: Row[] = await knex('SmsSendHistory')
          .distinct('ProviderMessageID')
          .whereIn('ProviderMessageID', ids.slice(i, i + ID_CHUNK))
          .andWhere('ProviderNameID', ProviderNameIds.id(provider))
          .andWhereNot('OrderID', orderId.toLowerCase());
        for (const row of rows) owned.add(String(row.ProviderMessageID));
      }
      return owned;
    },
  };
}

const ID_CHUNK = 500;

function toRecord(row: Row): HistoryRecord {
  return {
    id: Number(row.ID),
    idempotencyKey: String(row.IdempotencyKey),
    orderId: String(row.OrderID).toLowerCase(),
    orderNumber: nullable(row.OrderNumber),
    venueId: Number(row.VenueID),
    venuePhoneNumberId: row.VenuePhoneNumberID == null ? null : Number(row.VenuePhoneNumberID),
    customerId: String(row.CustomerID).toLowerCase(),
    customerPhoneNumber: String(row.CustomerPhoneNumber),
    message: String(row.Message),
    provider: ProviderNameIds.name(Number(row.ProviderNameID)),
    status: HistoryStatusIds.name(Number(row.StatusID)),
    providerMessageId: nullable(row.ProviderMessageID),
    errorCode: nullable(row.ErrorCode),
    errorMessage: nullable(row.ErrorMessage),
    correlationId: nullable(row.CorrelationID),
    createdAt: toDate(row.CreatedAt),
    deliveryStatus: isDeliveryStatus(row.DeliveryStatus) ? row.DeliveryStatus : null,
    deliveryErrorCode: nullable(row.DeliveryErrorCode),
    deliveryUpdatedAt: toDateOrNull(row.DeliveryUpdatedAt),
  };
}

export type HistoryRepository = ReturnType<typeof createHistoryRepository>;
