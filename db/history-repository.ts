import type { Knex } from 'knex';
import type { HistoryStatus, ProviderName } from '../domain/enums';
import { HistoryStatusIds, ProviderNameIds } from './enum-ids';
import { isUniqueViolation, toDate } from './knex';

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

export function createHistoryRepository(knex: Knex) {
  const byKey = (key: string) =>
    knex('SmsSendHistory').where({ IdempotencyKey: key }).first() as Promise<Row | undefined>;

  return {
    /** Idempotent on the key: a retried write returns the row the first attempt stored. */
    async record(entry: HistoryEntry): Promise<{ record: HistoryRecord; created: boolean }> {
      const existing = await byKey(entry.idempotencyKey);
      if (existing) return { record: toRecord(existing), created: false };
      try {
        await knex('SmsSendHistory').insert({
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
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const raced = await byKey(entry.idempotencyKey);
        if (raced) return { record: toRecord(raced), created: false };
        throw err;
      }
      const stored = await byKey(entry.idempotencyKey);
      if (!stored) throw new Error('history row vanished after insert');
      return { record: toRecord(stored), created: true };
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
  };
}

function toRecord(row: Row): HistoryRecord {
  const nullable = (v: unknown) => (v == null ? null : String(v));
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
  };
}

export type HistoryRepository = ReturnType<typeof createHistoryRepository>;
