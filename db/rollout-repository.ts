import type { Knex } from 'knex';
import type { ActivePause, PauseScope } from '../rollout/control';
import { ProviderNameIds } from './enum-ids';
import { isUniqueViolation, toDate, toDateOrNull } from './knex';

/**
 * Rollout control's state (RolloutFlags, RolloutVenueOverrides, RolloutPauses) and its audit trail
 * (RolloutAudit). Every change and its audit row are written in one transaction, and the "from" of
 * the audit row is read under a row lock in that transaction, so concurrent admins each see the
 * state they actually replaced.
 */

/** A flag's definition; `stored: false` when no row exists and the default applies. */
export interface FlagDefinition {
  enabled: boolean;
  rolloutPercent: number;
  stored: boolean;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export interface VenueOverride {
  venueId: number;
  enabled: boolean;
  reason: string;
  updatedAt: Date;
  updatedBy: string;
}

/**
 * No row: on for every venue. An install that never touches the flag sends exactly as it did
 * before the flag existed; a gradual rollout starts with an explicit `PUT … { rolloutPercent: 10 }`.
 */
export const DEFAULT_FLAG = { enabled: true, rolloutPercent: 100 } as const;

/** Who made a change, when, why, and in which API request. */
export interface ChangeContext {
  actor: string;
  reason: string;
  at: Date;
  requestId?: string;
}

export interface AuditEntry {
  id: number;
  changedAt: Date;
  changedBy: string;
  requestId: string | null;
  subject: string;
  action: string;
  from: unknown;
  to: unknown;
  reason: string;
}

/** Everything an evaluation needs, read in one go. */
export interface RolloutSnapshot {
  flag: FlagDefinition;
  overrides: Map<number, boolean>;
  pauses: ActivePause[];
}

type Row = Record<string, unknown>;

/** The primary key of a pause row, and the audit subject after `pause:`. */
export function pauseScopeKey(target: PauseScope): string {
  switch (target.scope) {
    case 'global':
      return 'global';
    case 'provider':
      return `provider:${target.provider}`;
    case 'venue':
      return `venue:${target.venueId}`;
  }
}

export function createRolloutRepository(knex: Knex) {
  const readFlag = async (db: Knex | Knex.Transaction, flagKey: string, lock = false) => {
    let query = db('RolloutFlags').where({ FlagKey: flagKey });
    if (lock) query = query.forUpdate();
    return toFlag((await query.first()) as Row | undefined);
  };

  const readOverride = async (db: Knex.Transaction, flagKey: string, venueId: number) => {
    const row = (await db('RolloutVenueOverrides')
      .where({ FlagKey: flagKey, VenueID: venueId })
      .forUpdate()
      .first()) as Row | undefined;
    return row ? toOverride(row) : null;
  };

  const audit = async (
    db: Knex.Transaction,
    ctx: ChangeContext,
    entry: { subject: string; action: string; from: unknown; to: unknown },
  ) => {
    await db('RolloutAudit').insert({
      ChangedAt: ctx.at,
      ChangedBy: ctx.actor,
      RequestID: ctx.requestId ?? null,
      Subject: entry.subject,
      Action: entry.action,
      FromValue: entry.from === null ? null : JSON.stringify(entry.from),
      ToValue: entry.to === null ? null : JSON.stringify(entry.to),
      Reason: ctx.reason,
    });
  };

  /**
   * A transaction that two first writers may race on an insert: the loser's unique violation
   * aborts it, and it runs once more, now finding the winner's row.
   */
  const inTransaction = async <T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> => {
    try {
      return await knex.transaction(work);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return knex.transaction(work);
    }
  };

  return {
    /** The flag, its overrides and the active pauses: the whole state an evaluation reads. */
    async snapshot(flagKey: string): Promise<RolloutSnapshot> {
      const flag = await readFlag(knex, flagKey);
      const overrides = (await knex('RolloutVenueOverrides')
        .where({ FlagKey: flagKey })
        .select('VenueID', 'Enabled')) as Row[];
      const pauses = (await knex('RolloutPauses').select()) as Row[];
      return {
        flag,
        overrides: new Map(overrides.map((r) => [Number(r.VenueID), toBool(r.Enabled)])),
        pauses: pauses.map(toPause),
      };
    },

    async flag(flagKey: string): Promise<FlagDefinition> {
      return readFlag(knex, flagKey);
    },

    async overrides(flagKey: string): Promise<VenueOverride[]> {
      const rows = (await knex('RolloutVenueOverrides')
        .where({ FlagKey: flagKey })
        .orderBy('VenueID')) as Row[];
      return rows.map(toOverride);
    },

    /** Changes the global switch and/or the percentage; unchanged values write nothing, audit nothing. */
    async setFlag(
      flagKey: string,
      change: { enabled?: boolean; rolloutPercent?: number },
      ctx: ChangeContext,
    ): Promise<{ before: FlagDefinition; after: FlagDefinition; changed: boolean }> {
      return inTransaction(async (trx) => {
        const before = await readFlag(trx, flagKey, true);
        const enabled = change.enabled ?? before.enabled;
        const rolloutPercent = change.rolloutPercent ?? before.rolloutPercent;
        if (before.stored && enabled === before.enabled && rolloutPercent === before.rolloutPercent) {
          return { before, after: before, changed: false };
        }
        const values = {
          Enabled: enabled,
          RolloutPercent: rolloutPercent,
          UpdatedAt: ctx.at,
          UpdatedBy: ctx.actor,
        };
        if (before.stored) await trx('RolloutFlags').where({ FlagKey: flagKey }).update(values);
        else await trx('RolloutFlags').insert({ FlagKey: flagKey, ...values });
        const after: FlagDefinition = {
          enabled,
          rolloutPercent,
          stored: true,
          updatedAt: ctx.at,
          updatedBy: ctx.actor,
        };
        await audit(trx, ctx, {
          subject: `flag:${flagKey}`,
          action: 'flag_set',
          from: { enabled: before.enabled, rolloutPercent: before.rolloutPercent, stored: before.stored },
          to: { enabled, rolloutPercent },
        });
        return { before, after, changed: true };
      });
    },

    /** Forces one venue on or off whatever its bucket (the global switch still wins). */
    async setVenueOverride(
      flagKey: string,
      venueId: number,
      enabled: boolean,
      ctx: ChangeContext,
    ): Promise<{ before: VenueOverride | null; after: VenueOverride; changed: boolean }> {
      return inTransaction(async (trx) => {
        const before = await readOverride(trx, flagKey, venueId);
        if (before && before.enabled === enabled) return { before, after: before, changed: false };
        const values = { Enabled: enabled, Reason: ctx.reason, UpdatedAt: ctx.at, UpdatedBy: ctx.actor };
        if (before) {
          await trx('RolloutVenueOverrides').where({ FlagKey: flagKey, VenueID: venueId }).update(values);
        } else {
          await trx('RolloutVenueOverrides').insert({ FlagKey: flagKey, VenueID: venueId, ...values });
        }
        await audit(trx, ctx, {
          subject: `flag:${flagKey}:venue:${venueId}`,
          action: 'venue_override_set',
          from: before ? { enabled: before.enabled } : null,
          to: { enabled },
        });
        const after = { venueId, enabled, reason: ctx.reason, updatedAt: ctx.at, updatedBy: ctx.actor };
        return { before, after, changed: true };
      });
    },

    /** Back to the venue's bucket. */
    async clearVenueOverride(
      flagKey: string,
      venueId: number,
      ctx: ChangeContext,
    ): Promise<{ before: VenueOverride | null }> {
      return inTransaction(async (trx) => {
        const before = await readOverride(trx, flagKey, venueId);
        if (!before) return { before };
        await trx('RolloutVenueOverrides').where({ FlagKey: flagKey, VenueID: venueId }).delete();
        await audit(trx, ctx, {
          subject: `flag:${flagKey}:venue:${venueId}`,
          action: 'venue_override_cleared',
          from: { enabled: before.enabled },
          to: null,
        });
        return { before };
      });
    },

    async pauses(): Promise<ActivePause[]> {
      const rows = (await knex('RolloutPauses').orderBy('PausedAt')) as Row[];
      return rows.map(toPause);
    },

    /** Pauses the target; a target already paused keeps its first pause (and nothing is audited). */
    async pause(target: PauseScope, ctx: ChangeContext): Promise<{ pause: ActivePause; created: boolean }> {
      const key = pauseScopeKey(target);
      return inTransaction(async (trx) => {
        const existing = (await trx('RolloutPauses').where({ ScopeKey: key }).forUpdate().first()) as
          Row | undefined;
        if (existing) return { pause: toPause(existing), created: false };
        await trx('RolloutPauses').insert({
          ScopeKey: key,
          Scope: target.scope,
          ProviderNameID: target.scope === 'provider' ? ProviderNameIds.id(target.provider) : null,
          VenueID: target.scope === 'venue' ? target.venueId : null,
          Reason: ctx.reason,
          PausedBy: ctx.actor,
          PausedAt: ctx.at,
        });
        const pause: ActivePause = { target, reason: ctx.reason, pausedBy: ctx.actor, pausedAt: ctx.at };
        await audit(trx, ctx, { subject: `pause:${key}`, action: 'pause', from: null, to: pauseJson(pause) });
        return { pause, created: true };
      });
    },

    /** Lifts exactly this target's pause (a global resume leaves provider and venue pauses in place). */
    async resume(target: PauseScope, ctx: ChangeContext): Promise<{ lifted: ActivePause | null }> {
      const key = pauseScopeKey(target);
      return inTransaction(async (trx) => {
        const existing = (await trx('RolloutPauses').where({ ScopeKey: key }).forUpdate().first()) as
          Row | undefined;
        if (!existing) return { lifted: null };
        await trx('RolloutPauses').where({ ScopeKey: key }).delete();
        const lifted = toPause(existing);
        await audit(trx, ctx, {
          subject: `pause:${key}`,
          action: 'resume',
          from: pauseJson(lifted),
          to: null,
        });
        return { lifted };
      });
    },

    /** Newest first; `subjectPrefix` narrows to e.g. "pause:" or "flag:order-confirmation-sms". */
    async auditTrail(options: { limit: number; subjectPrefix?: string }): Promise<AuditEntry[]> {
      let query = knex('RolloutAudit').orderBy('ID', 'desc').limit(options.limit);
      // Prefixes are ours ("flag:…", "pause:…"), never user text: no LIKE escaping needed.
      if (options.subjectPrefix) query = query.where('Subject', 'like', `${options.subjectPrefix}%`);
      const rows = (await query) as Row[];
      return rows.map((r) => ({
        id: Number(r.ID),
        changedAt: toDate(r.ChangedAt),
        changedBy: String(r.ChangedBy),
        requestId: r.RequestID == null ? null : String(r.RequestID),
        subject: String(r.Subject),
        action: String(r.Action),
        from: parseJson(r.FromValue),
        to: parseJson(r.ToValue),
        reason: String(r.Reason),
      }));
    },
  };
}

export type RolloutRepository = ReturnType<typeof createRolloutRepository>;

/** better-sqlite3 answers booleans as 0/1, pg as true/false, tedious as true/false. */
function toBool(value: unknown): boolean {
  return value === true || Number(value) === 1;
}

function toFlag(row: Row | undefined): FlagDefinition {
  if (!row) return { ...DEFAULT_FLAG, stored: false, updatedAt: null, updatedBy: null };
  return {
    enabled: toBool(row.Enabled),
    rolloutPercent: Number(row.RolloutPercent),
    stored: true,
    updatedAt: toDateOrNull(row.UpdatedAt),
    updatedBy: row.UpdatedBy == null ? null : String(row.UpdatedBy),
  };
}

function toOverride(row: Row): VenueOverride {
  return {
    venueId: Number(row.VenueID),
    enabled: toBool(row.Enabled),
    reason: String(row.Reason),
    updatedAt: toDate(row.UpdatedAt),
    updatedBy: String(row.UpdatedBy),
  };
}

function toPause(row: Row): ActivePause {
  const scope = String(row.Scope);
  const target: PauseScope =
    scope === 'global'
      ? { scope: 'global' }
      : scope === 'provider'
        ? { scope: 'provider', provider: ProviderNameIds.name(Number(row.ProviderNameID)) }
        : { scope: 'venue', venueId: Number(row.VenueID) };
  return {
    target,
    reason: String(row.Reason),
    pausedBy: String(row.PausedBy),
    pausedAt: toDate(row.PausedAt),
  };
}

function pauseJson(pause: ActivePause) {
  return {
    ...pause.target,
    reason: pause.reason,
    pausedBy: pause.pausedBy,
    pausedAt: pause.pausedAt.toISOString(),
  };
}

function parseJson(value: unknown): unknown {
  return value == null ? null : (JSON.parse(String(value)) as unknown);
}
