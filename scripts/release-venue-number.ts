import { PROVIDER_NAMES, type ProviderName } from '../domain/enums';
import { loadConfigOrExit } from '../config';
import { connectTemporalClient } from '../temporal/client';
import { releaseVenueNumber } from '../temporal/venue-number';

/**
 * `npm run venue-number:release -- <venueId> <provider>`: frees the venue's sender number at the
 * provider and marks it released; the venue's next order buys a new one. Runs as a workflow on the
 * worker, so it shows in the Web UI and never overlaps a purchase for the same venue.
 */
async function main(): Promise<void> {
  const [venueArg, providerArg] = process.argv.slice(2);
  const venueId = Number(venueArg);
  if (!Number.isInteger(venueId) || venueId <= 0 || !PROVIDER_NAMES.includes(providerArg as ProviderName)) {
    console.error(`usage: npm run venue-number:release -- <venueId> <${PROVIDER_NAMES.join('|')}>`);
    process.exit(64);
  }
  const config = loadConfigOrExit();
  const temporal = connectTemporalClient(config.temporal);
  try {
    const { released } = await releaseVenueNumber(
      temporal.client,
      config.temporal.taskQueue,
      venueId,
      providerArg as ProviderName,
    );
    console.log(
      released
        ? `released venue ${venueId}'s ${providerArg} number`
        : `venue ${venueId} has no active ${providerArg} number`,
    );
  } finally {
    await temporal.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
