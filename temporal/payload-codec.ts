import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { PayloadCodecKey } from '../config';

/** The encoding of a payload this codec encrypted; anything else passes through untouched. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key naming the key that encrypted the payload, so rotation never guesses. */
export const ENCRYPTION_KEY_ID_KEY = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload the configured keys cannot open: unknown key id, or altered/foreign ciphertext. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

const utf8 = (value: string) => new TextEncoder().encode(value);
const text = (bytes: Uint8Array | null | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);

/**
 * AES-256-GCM over the whole serialized payload (its own metadata included, so the JSON encoding of
 * a value is hidden too). The first key encrypts; every configured key decrypts, looked up by the key
 * id in the metadata, so a new key can be put first while histories written with the old one stay
 * readable. Payloads without the encrypted encoding pass through: histories recorded before the
 * codec replay unchanged. The key id is bound as additional authenticated data, so ciphertext moved
 * under another id fails instead of decrypting to garbage.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly encryptWith: CipherKey;
  private readonly byId: ReadonlyMap<string, CipherKey>;

  constructor(keys: readonly PayloadCodecKey[]) {
    if (keys.length === 0) throw new Error('the payload codec needs at least one key');
    // KeyObjects made once: handed a Buffer, every cipher would import the key again (about two
    // thirds of an encryption's CPU, and the codec runs for every payload of every order).
    const cipherKeys = keys.map(({ id, key }) => ({
      id,
      key: createSecretKey(key),
      aad: Buffer.from(id, 'utf8'),
    }));
    const byId = new Map<string, CipherKey>();
    for (const key of cipherKeys) {
      if (byId.has(key.id)) throw new Error(`payload codec key id "${key.id}" is configured twice`);
      byId.set(key.id, key);
    }
    this.encryptWith = cipherKeys[0];
    this.byId = byId;
  }

  /** The id new payloads are encrypted under. */
  get encryptingKeyId(): string {
    return this.encryptWith.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    // Never twice: a payload already sealed (e.g. handed through unchanged) keeps its one layer.
    if (isEncrypted(payload)) return payload;
    const { id, key, aad } = this.encryptWith;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv);
    cipher.setAAD(aad);
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [ENCRYPTION_KEY_ID_KEY]: utf8(id) },
      data: new Uint8Array(sealed),
    };
  }

  private decrypt(payload: Payload): Payload {
    if (!isEncrypted(payload)) return payload;
    const id = text(payload.metadata?.[ENCRYPTION_KEY_ID_KEY]);
    if (!id) throw new PayloadDecryptionError(`encrypted payload without ${ENCRYPTION_KEY_ID_KEY} metadata`);
    const entry = this.byId.get(id);
    if (!entry) {
      throw new PayloadDecryptionError(
        `payload encrypted with key "${id}", which is not in PAYLOAD_CODEC_KEYS (configured: ${[...this.byId.keys()].join(', ')})`,
      );
    }
    const sealed = Buffer.from(payload.data ?? new Uint8Array());
    if (sealed.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(`encrypted payload (key "${id}") is truncated`);
    try {
      const decipher = createDecipheriv(ALGORITHM, entry.key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(entry.aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    } catch {
      throw new PayloadDecryptionError(
        `encrypted payload does not authenticate under key "${id}" (a different key with the same id, or altered data)`,
      );
    }
  }
}

/** A configured key ready for the cipher: imported once, with its id as the authenticated data. */
interface CipherKey {
  id: string;
  key: KeyObject;
  aad: Buffer;
}

function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
}
