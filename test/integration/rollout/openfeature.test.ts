import { OpenFeature, ErrorCode, StandardResolutionReasons } from '@openfeature/server-sdk';
import { createRepositories, type Repositories } from '../../../db';
import { ORDER_CONFIRMATION_SMS_FLAG as FLAG } from '../../../rollout/control';
import { inRollout } from '../../../rollout/evaluate';
import { RolloutFlagProvider } from '../../../rollout/openfeature-provider';
import { createRolloutControl } from '../../../rollout/sql-control';
import { useTestDatabase } from '../../support/db';

const db = useTestDatabase();
let repos: Repositories;
const ctx = (reason: string) => ({ actor: 'test', reason, at: new Date() });
const venues = Array.from({ length: 2000 }, (_, i) => i + 1);
const inside = venues.find((v) => inRollout(FLAG, v, 10)) ?? 0;
const outside = venues.find((v) => !inRollout(FLAG, v, 10)) ?? 0;

beforeAll(async () => {
  repos = createRepositories(db.knex);
  await OpenFeature.setProviderAndWait(new RolloutFlagProvider(createRolloutControl({ repos, cacheMs: 0 })));
});
afterAll(() => OpenFeature.close());

test('the OpenFeature client answers the flag per venue, with the reason mapped and ours as the variant', async () => {
  await repos.rollout.setFlag(FLAG, { rolloutPercent: 10 }, ctx('10 %'));
  // A venue inside the 10 % forced off: the override, not the bucket, decides.
  await repos.rollout.setVenueOverride(FLAG, inside, false, ctx('off'));
  const client = OpenFeature.getClient();
  expect(await client.getBooleanDetails(FLAG, true, { targetingKey: String(outside) })).toMatchObject({
    value: false,
    variant: 'outside_rollout',
    reason: StandardResolutionReasons.SPLIT,
  });
  expect(await client.getBooleanDetails(FLAG, true, { venueId: inside })).toMatchObject({
    value: false,
    variant: 'venue_override_off',
    reason: StandardResolutionReasons.TARGETING_MATCH,
  });
  await repos.rollout.setFlag(FLAG, { enabled: false }, ctx('off'));
  expect(await client.getBooleanDetails(FLAG, true, { targetingKey: '5' })).toMatchObject({
    value: false,
    reason: StandardResolutionReasons.DISABLED,
    flagMetadata: { reason: 'global_off' },
  });
  await repos.rollout.setFlag(FLAG, { enabled: true, rolloutPercent: 100 }, ctx('on'));
  expect(await client.getBooleanValue(FLAG, false, { targetingKey: String(outside) })).toBe(true);
});

test('without a venue, for another flag or another type, the caller gets its default and an error code', async () => {
  const client = OpenFeature.getClient();
  expect(await client.getBooleanDetails(FLAG, true, {})).toMatchObject({
    value: true,
    reason: StandardResolutionReasons.ERROR,
    errorCode: ErrorCode.TARGETING_KEY_MISSING,
  });
  expect(await client.getBooleanDetails(FLAG, true, { targetingKey: 'venue-7' })).toMatchObject({
    value: true,
    errorCode: ErrorCode.INVALID_CONTEXT,
  });
  expect(await client.getBooleanDetails('another-flag', false, { targetingKey: '7' })).toMatchObject({
    value: false,
    errorCode: ErrorCode.FLAG_NOT_FOUND,
  });
  expect(await client.getStringDetails(FLAG, 'x', { targetingKey: '7' })).toMatchObject({
    value: 'x',
    errorCode: ErrorCode.TYPE_MISMATCH,
  });
});

test('a state that cannot be read answers the default (fail-open when the caller passes true)', async () => {
  const broken = new RolloutFlagProvider({
    evaluate: () => Promise.reject(new Error('database unavailable')),
  });
  await OpenFeature.setProviderAndWait('broken', broken);
  const details = await OpenFeature.getClient('broken').getBooleanDetails(FLAG, true, { targetingKey: '7' });
  expect(details).toMatchObject({
    value: true,
    reason: StandardResolutionReasons.ERROR,
    errorCode: ErrorCode.GENERAL,
  });
});
