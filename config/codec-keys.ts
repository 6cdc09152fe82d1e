import { z } from 'zod';

const KEY_BYTES = 32;

/**
 * One AES-256 key with its id (PAYLOAD_CODEC_KEYS `<id>:<base64>`). The key bytes stay out of JSON, so
 * a config object that reaches a log line shows the id only.
 */
export interface PayloadCodecKey {
  readonly id: string;
  readonly key: Buffer;
}

export function payloadCodecKey(id: string, key: Buffer): PayloadCodecKey {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id))
    throw new Error(`payload codec key id "${id}" must be 1-64 of A-Z a-z 0-9 . _ -`);
  if (key.length !== KEY_BYTES)
    throw new Error(`payload codec key "${id}" must be ${KEY_BYTES} bytes, got ${key.length}`);
  const copy = Buffer.from(key);
  return Object.freeze({ id, key: copy, toJSON: () => ({ id }) });
}

/** `<id>:<base64 of 32 bytes>`, comma-separated: the first encrypts, every one decrypts. */
export const codecKeys = z.string().transform((v, ctx): PayloadCodecKey[] => {
  const keys: PayloadCodecKey[] = [];
  for (const entry of v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = entry.indexOf(':');
    const id = i > 0 ? entry.slice(0, i) : '';
    const base64 = entry.slice(i + 1);
    const key = Buffer.from(base64, 'base64');
    try {
      if (!id || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error('is not <id>:<base64>');
      keys.push(payloadCodecKey(id, key));
    } catch (err) {
      // The message names the key id and the problem, never the key material.
      ctx.addIssue({
        code: 'custom',
        message: `entry ${keys.length + 1} ${err instanceof Error ? err.message : String(err)} (each entry: <keyId>:<base64 of 32 bytes>, e.g. from \`openssl rand -base64 32\`)`,
      });
      return z.NEVER;
    }
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'needs at least one <keyId>:<base64 of 32 bytes>' });
    return z.NEVER;
  }
  const ids = keys.map((k) => k.id);
  const twice = ids.find((id, n) => ids.indexOf(id) !== n);
  if (twice) {
    ctx.addIssue({ code: 'custom', message: `key id "${twice}" appears twice` });
    return z.NEVER;
  }
  return keys;
});
