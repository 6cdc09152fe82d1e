import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { payloadCodecKey } from '../../../config';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  PayloadDecryptionError,
} from '../../../temporal/payload-codec';

const key = (id: string) => payloadCodecKey(id, randomBytes(32));
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const VALUE = { phoneNumber: '+14155552671', customerName: 'Ada Lovelace', body: 'Hi Ada, your tickets' };

function payloadOf(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value);
}

test('round trip: nothing readable in the encrypted payload, the original comes back', async () => {
  const codec = new AesGcmPayloadCodec([key('k1')]);
  const [sealed] = await codec.encode([payloadOf(VALUE)]);
  expect(text(sealed.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
  expect(text(sealed.metadata?.['encryption-key-id'])).toBe('k1');
  const raw = Buffer.from(sealed.data ?? []).toString('latin1');
  for (const secret of ['4155552671', 'Ada', 'tickets', 'json/plain']) expect(raw).not.toContain(secret);
  const [opened] = await codec.decode([sealed]);
  expect(text(opened.metadata?.encoding)).toBe('json/plain');
  expect(defaultPayloadConverter.fromPayload(opened)).toEqual(VALUE);
});

test('each encryption uses a fresh IV: the same value never encrypts to the same bytes', async () => {
  const codec = new AesGcmPayloadCodec([key('k1')]);
  const [a, b] = await codec.encode([payloadOf(VALUE), payloadOf(VALUE)]);
  expect(Buffer.from(a.data ?? []).equals(Buffer.from(b.data ?? []))).toBe(false);
});

test('rotation: the first key encrypts, an old key still decrypts what it wrote', async () => {
  const old = key('2025');
  const fresh = key('2026');
  const [writtenBefore] = await new AesGcmPayloadCodec([old]).encode([payloadOf(VALUE)]);
  const rotated = new AesGcmPayloadCodec([fresh, old]);
  const [writtenAfter] = await rotated.encode([payloadOf(VALUE)]);
  expect(text(writtenAfter.metadata?.['encryption-key-id'])).toBe('2026');
  const opened = await rotated.decode([writtenBefore, writtenAfter]);
  expect(opened.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([VALUE, VALUE]);
});

test('an unknown key id fails clearly, naming the id and the configured ones', async () => {
  const [sealed] = await new AesGcmPayloadCodec([key('gone')]).encode([payloadOf(VALUE)]);
  const codec = new AesGcmPayloadCodec([key('k1'), key('k2')]);
  await expect(codec.decode([sealed])).rejects.toThrow(PayloadDecryptionError);
  await expect(codec.decode([sealed])).rejects.toThrow(
    'payload encrypted with key "gone", which is not in PAYLOAD_CODEC_KEYS (configured: k1, k2)',
  );
});

test('a different key under the same id, or altered data, does not decrypt', async () => {
  const [sealed] = await new AesGcmPayloadCodec([key('k1')]).encode([payloadOf(VALUE)]);
  await expect(new AesGcmPayloadCodec([key('k1')]).decode([sealed])).rejects.toThrow(/does not authenticate/);
  const k = key('k1');
  const codec = new AesGcmPayloadCodec([k]);
  const [mine] = await codec.encode([payloadOf(VALUE)]);
  const data = Buffer.from(mine.data ?? []);
  data[data.length - 20] ^= 1;
  await expect(codec.decode([{ ...mine, data }])).rejects.toThrow(/does not authenticate/);
  // Ciphertext moved under another configured id fails too: the id is authenticated.
  const other = payloadCodecKey('k2', k.key);
  const both = new AesGcmPayloadCodec([k, other]);
  const moved = { ...mine, metadata: { ...mine.metadata, 'encryption-key-id': Buffer.from('k2') } };
  await expect(both.decode([moved])).rejects.toThrow(/does not authenticate under key "k2"/);
});

test('unencrypted payloads pass through decode (histories from before the codec) and are never sealed twice', async () => {
  const codec = new AesGcmPayloadCodec([key('k1')]);
  const plain = payloadOf(VALUE);
  expect(await codec.decode([plain])).toEqual([plain]);
  const [sealed] = await codec.encode([plain]);
  expect(await codec.encode([sealed])).toEqual([sealed]);
});

test('keys are checked when configured', () => {
  expect(() => payloadCodecKey('k1', randomBytes(16))).toThrow(/must be 32 bytes, got 16/);
  expect(() => payloadCodecKey('bad id', randomBytes(32))).toThrow(/key id/);
  expect(() => new AesGcmPayloadCodec([])).toThrow(/at least one key/);
  const k = key('k1');
  expect(() => new AesGcmPayloadCodec([k, k])).toThrow(/configured twice/);
});
