import { VenueNumberDirectory, VenueNumberUnknown } from '../../../api/venue-number-directory';
import { createLogger } from '../../../config/logger';
import { createRepositories } from '../../../db';
import { useCuttableDatabase } from '../../support/db-outage';
import { useResource } from '../../support/lifecycle';

/**
 * The webhooks' venue numbers while the database is down (issue 18): the database answers while it
 * can, the directory (loaded at start, reloaded, updated by every answer) when it cannot, and a number
 * it never saw is told apart from a number that is no venue's.
 */
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'directory-test' });

const cuttable = useCuttableDatabase();
const repos = useResource(
  async () => createRepositories(cuttable.knex),
  () => undefined,
);
const directories: VenueNumberDirectory[] = [];

afterEach(async () => {
  for (const d of directories.splice(0)) d.stop();
  await cuttable.restore();
});

function directory(repo: ConstructorParameters<typeof VenueNumberDirectory>[0] = repos.venueNumbers) {
  const d = new VenueNumberDirectory(repo, log, { refreshMs: 60_000 });
  directories.push(d);
  return d;
}

let seq = 0;
async function venueNumber(provider: 'twilio' | 'plivo' = 'twilio') {
  const venueId = 930_000 + seq++;
  const phoneNumber = `+1415555${String(3000 + seq).padStart(4, '0')}`;
  await repos.venueNumbers.insertActive({ venueId, provider, phoneNumber, providerId: `PN${seq}` });
  return { venueId, phoneNumber, provider };
}

test('the database answers while it can; the copy loaded at start answers while it cannot', async () => {
  const loaded = await venueNumber();
  const d = directory();
  d.start();
  await d.check();
  expect(await d.lookup(loaded.phoneNumber, 'twilio')).toEqual({
    venueId: loaded.venueId,
    source: 'database',
  });
  expect(await d.lookup('+14155559999', 'twilio')).toBeNull();

  const later = await venueNumber();
  await cuttable.cut();
  expect(await d.lookup(loaded.phoneNumber, 'twilio')).toEqual({
    venueId: loaded.venueId,
    source: 'directory',
  });
  // The same digits at another provider are another line.
  await expect(d.lookup(loaded.phoneNumber, 'plivo')).rejects.toBeInstanceOf(VenueNumberUnknown);
  // Bought after the last load and never looked up: the staleness the refresh interval bounds.
  await expect(d.lookup(later.phoneNumber, 'twilio')).rejects.toBeInstanceOf(VenueNumberUnknown);
  // A failed reload keeps the last copy.
  await d.refresh();
  expect(await d.lookup(loaded.phoneNumber, 'twilio')).toMatchObject({ source: 'directory' });

  await cuttable.restore();
  await d.refresh();
  await cuttable.cut();
  expect(await d.lookup(later.phoneNumber, 'twilio')).toEqual({
    venueId: later.venueId,
    source: 'directory',
  });
});

test('every answer of the database updates the copy: a new number is learnt, a released one forgotten', async () => {
  const d = directory();
  d.start();
  await d.check();
  const bought = await venueNumber('plivo');
  const released = await venueNumber();
  expect(d.has(bought.phoneNumber, 'plivo')).toBe(false);
  expect(await d.lookup(bought.phoneNumber, 'plivo')).toMatchObject({ source: 'database' });
  await d.refresh();
  expect(d.has(released.phoneNumber, 'twilio')).toBe(true);
  const row = await repos.venueNumbers.findActive(released.venueId, 'twilio');
  await repos.venueNumbers.release(row!.id);
  expect(await d.lookup(released.phoneNumber, 'twilio')).toBeNull();

  await cuttable.cut();
  expect(await d.lookup(bought.phoneNumber, 'plivo')).toEqual({
    venueId: bought.venueId,
    source: 'directory',
  });
  await expect(d.lookup(released.phoneNumber, 'twilio')).rejects.toBeInstanceOf(VenueNumberUnknown);
});

test('readiness: down until the first load succeeds, then up whatever the database does', async () => {
  await cuttable.cut();
  const d = directory();
  d.start();
  await expect(d.check()).rejects.toThrow(/not loaded/);
  await cuttable.restore();
  await d.refresh();
  await expect(d.check()).resolves.toBeUndefined();
  await cuttable.cut();
  await d.refresh();
  await expect(d.check()).resolves.toBeUndefined();
});

test('a database that hangs instead of refusing: the copy answers after a short deadline', async () => {
  const known = await venueNumber();
  const d = directory({
    listActive: (limit) => repos.venueNumbers.listActive(limit),
    findActiveByPhoneNumber: () => new Promise(() => undefined),
  });
  d.start();
  await d.check();
  const started = Date.now();
  expect(await d.lookup(known.phoneNumber, 'twilio')).toMatchObject({ source: 'directory' });
  // Well inside the providers' webhook timeouts (Plivo 8 s, Twilio 15 s).
  expect(Date.now() - started).toBeLessThan(5_000);
});
