import type { Knex } from 'knex';
import type { ProviderName } from '../domain/enums';
import { ProviderNameIds } from './enum-ids';
import { isUniqueViolation, toDate, toDateOrNull } from './knex';

/** One use of a webhook signature's nonce (WebhookNonces), by hashes only. */
export interface WebhookNonce {
  provider: ProviderName;
  nonceHash: Buffer;
  bodyHash: Buffer;
  seenAt: Date;
  handledAt: Date | null;
}

type Row = Record<string, unknown>;

export function createWebhookNoncesRepository(knex: Knex) {
  const find = async (provider: ProviderName, nonceHash: Buffer): Promise<WebhookNonce | null> => {
    const row = (await knex('WebhookNonces')
      .where({ ProviderNameID: ProviderNameIds.id(provider), NonceHash: nonceHash })
      .first()) as Row | undefined;
    return row ? toNonce(row) : null;
  };

  return {
    /**
     * Records the nonce's first use, or finds the use already recorded: the primary key decides
     * between replicas racing on one nonce, so exactly one of them sees `created`.
     */
    async claim(use: WebhookNonce): Promise<{ created: true } | { created: false; stored: WebhookNonce }> {
      try {
        await knex('WebhookNonces').insert({
          ProviderNameID: ProviderNameIds.id(use.provider),
          NonceHash: use.nonceHash,
          BodyHash: use.bodyHash,
          SeenAt: use.seenAt,
          HandledAt: use.handledAt,
        });
        return { created: true };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      const stored = await find(use.provider, use.nonceHash);
      if (!stored) throw new Error('webhook nonce vanished after a unique violation');
      return { created: false, stored };
    },

    /** The request the nonce came with was acted on; the first time recorded stays. */
    async markHandled(provider: ProviderName, nonceHash: Buffer, at: Date): Promise<void> {
      await knex('WebhookNonces')
        .where({ ProviderNameID: ProviderNameIds.id(provider), NonceHash: nonceHash })
        .whereNull('HandledAt')
        .update({ HandledAt: at });
    },

    /** Forgets nonces first seen before `before`; returns how many. */
    async prune(before: Date): Promise<number> {
      return Number(await knex('WebhookNonces').where('SeenAt', '<', before).delete());
    },
  };
}

function toNonce(row: Row): WebhookNonce {
  return {
    provider: ProviderNameIds.name(Number(row.ProviderNameID)),
    nonceHash: asBuffer(row.NonceHash),
    bodyHash: asBuffer(row.BodyHash),
    seenAt: toDate(row.SeenAt),
    handledAt: toDateOrNull(row.HandledAt),
  };
}

/** pg, better-sqlite3 and tedious all answer binary columns with a Buffer; a Uint8Array is tolerated. */
function asBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw new Error('WebhookNonces: a hash column did not read back as bytes');
}

export type WebhookNoncesRepository = ReturnType<typeof createWebhookNoncesRepository>;
