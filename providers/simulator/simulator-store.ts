import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createKnex } from '../../db/knex';

/** Faults the simulator can inject, each mapped to the provider answer it imitates. */
export const SIMULATOR_FAULTS = [
  'unavailable', // HTTP 503
  'auth', // HTTP 401 / Twilio 20003
  'rate_limited', // HTTP 429 / Twilio 20429
  'invalid_phone', // Twilio 21211
  'opted_out', // Twilio 21610
  'accept_then_drop', // the message is accepted, then the response is lost (HTTP 502 to the caller)
] as const;
export type SimulatorFault = (typeof SIMULATOR_FAULTS)[number];

export interface SimulatedMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  status: string;
  acceptedAt: Date;
}

export interface SimulatedNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  status: 'owned' | 'released';
}

export function simulatorSid(prefix: 'SM' | 'PN'): string {
  return prefix + randomBytes(16).toString('hex');
}

/**
 * What the simulator "accepted" lives in its own SQLite file, outside the worker process, as it
 * would at a real provider: a restarted worker can reconcile against it, and tests can count sends.
 */
export class SimulatorStore {
  private readonly db: Knex;
  private ready?: Promise<void>;

  constructor(readonly filePath: string) {
    // The same SQLite setup as the service's database: WAL and a busy timeout, as several processes
    // (worker, API, tests) share the file.
    this.db = createKnex(`sqlite:${filePath}`);
  }

  init(): Promise<void> {
    this.ready ??= this.createTables();
    return this.ready;
  }

  /** IF NOT EXISTS: a worker and a test may open the same new file at once. */
  private async createTables(): Promise<void> {
    await this.db.raw(`create table if not exists sim_messages (
      sid text primary key, to_number text not null, from_number text not null, body text not null,
      status text not null, accepted_at integer not null)`);
    await this.db.raw(
      'create index if not exists ix_sim_messages_to on sim_messages (to_number, from_number, accepted_at)',
    );
    await this.db.raw(`create table if not exists sim_numbers (
      sid text primary key, phone_number text not null unique, friendly_name text not null, status text not null)`);
    await this.db.raw(`create table if not exists sim_faults (
      id integer primary key autoincrement, to_number text, kind text not null, remaining integer not null)`);
  }

  async insertMessage(message: SimulatedMessage): Promise<void> {
    await this.init();
    await this.db('sim_messages').insert({
      sid: message.sid,
      to_number: message.to,
      from_number: message.from,
      body: message.body,
      status: message.status,
      accepted_at: message.acceptedAt.getTime(),
    });
  }

  async messages(
    filter: { to?: string; from?: string; body?: string; sentAfter?: Date } = {},
  ): Promise<SimulatedMessage[]> {
    await this.init();
    const q = this.db('sim_messages').select('*').orderBy('accepted_at', 'asc');
    if (filter.to) q.where('to_number', filter.to);
    if (filter.from) q.where('from_number', filter.from);
    if (filter.body !== undefined) q.where('body', filter.body);
    if (filter.sentAfter) q.where('accepted_at', '>=', filter.sentAfter.getTime());
    const rows: Array<Record<string, string | number>> = await q;
    return rows.map((r) => ({
      sid: String(r.sid),
      to: String(r.to_number),
      from: String(r.from_number),
      body: String(r.body),
      status: String(r.status),
      acceptedAt: new Date(Number(r.accepted_at)),
    }));
  }

  async insertNumber(number: SimulatedNumber): Promise<void> {
    await this.init();
    await this.db('sim_numbers').insert({
      sid: number.sid,
      phone_number: number.phoneNumber,
      friendly_name: number.friendlyName,
      status: number.status,
    });
  }

  async numbers(): Promise<SimulatedNumber[]> {
    await this.init();
    const rows: Array<Record<string, string>> = await this.db('sim_numbers').select('*').orderBy('sid');
    return rows.map((r) => ({
      sid: r.sid,
      phoneNumber: r.phone_number,
      friendlyName: r.friendly_name,
      status: r.status === 'released' ? 'released' : 'owned',
    }));
  }

  async releaseNumber(sid: string): Promise<boolean> {
    await this.init();
    const changed = await this.db('sim_numbers')
      .where({ sid, status: 'owned' })
      .update({ status: 'released' });
    return changed > 0;
  }

  /** Injects `kind` for the next `times` sends to `to` (any recipient when omitted; times -1 = until cleared). */
  async addFault(kind: SimulatorFault, options: { to?: string; times?: number } = {}): Promise<void> {
    await this.init();
    await this.db('sim_faults').insert({
      to_number: options.to ?? null,
      kind,
      remaining: options.times ?? 1,
    });
  }

  async clearFaults(): Promise<void> {
    await this.init();
    await this.db('sim_faults').delete();
  }

  /** Consumes one matching fault atomically, so two workers never both take a single-use fault. */
  async takeFault(to: string): Promise<SimulatorFault | null> {
    await this.init();
    return this.db.transaction(async (trx) => {
      const row: { id: number; kind: SimulatorFault; remaining: number } | undefined = await trx('sim_faults')
        .where((w) => w.where('to_number', to).orWhereNull('to_number'))
        .andWhere((w) => w.where('remaining', '>', 0).orWhere('remaining', -1))
        .orderBy('id')
        .first();
      if (!row) return null;
      if (row.remaining > 0) await trx('sim_faults').where('id', row.id).decrement('remaining', 1);
      return row.kind;
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
