import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startOrderConfirmation } from '../../temporal/start-order';
import { signalConsentChange } from '../../temporal/consent-signal';
import { consentWorkflowId, orderWorkflowId, venueNumberWorkflowId } from '../../temporal/ids';
import { createTestDatabase } from '../support/db';
import { waitFor } from '../support/temporal';
import { startStandaloneTemporal } from '../support/workflow-bundle';
import { parsedEvent, startTestWorkers } from '../support/workers';

/**
 * `npm run histories:record`: runs one order per outcome and a consent entity on a throwaway dev
 * server and writes their histories to test/fixtures/histories, which test/replay replays against
 * the current workflow code. Record again only when a workflow change is meant to be incompatible
 * (and is shipped behind patched()/a new workflow type); otherwise the old histories are the point.
 */
const OUT_DIR = path.resolve(__dirname, '../fixtures/histories');
/** `npm run histories:record -- v2` writes `<name>-v2.json` beside the older recordings, which stay. */
const SUFFIX = process.argv[2] ? `-${process.argv[2]}` : '';

async function main(): Promise<void> {
  const server = await startStandaloneTemporal();

  const db = await createTestDatabase();
  const taskQueue = 'record-histories';
  const w = await startTestWorkers({ knex: db.knex, taskQueue });
  try {
    const event = (phone: string) => parsedEvent({ PhoneNumber: phone, VenueId: 501 });
    const sent = event('+14155550101');
    const skipped = event('+14155550102');
    const blocked = event('+14155550103');
    const at = new Date(Date.now() - 60_000);
    await signalConsentChange(w.consentEntities, sent.venueId, sent.phoneNumber, {
      status: 'opted_in',
      source: 'checkout',
      occurredAt: at.toISOString(),
    });
    await signalConsentChange(w.consentEntities, blocked.venueId, blocked.phoneNumber, {
      status: 'opted_out',
      source: 'provider_webhook',
      occurredAt: at.toISOString(),
      providerMessageId: 'SM-record-1',
    });
    await waitFor(
      async () =>
        (await w.repos.consent.get(blocked.venueId, blocked.phoneNumber)) !== null &&
        (await w.repos.consent.get(sent.venueId, sent.phoneNumber)) !== null,
      {
        description: 'consent rows',
      },
    );

    const recorded: Array<[string, string]> = [];
    for (const [name, e] of [
      ['order-sent', sent],
      ['order-skipped-no-consent', skipped],
      ['order-blocked-opted-out', blocked],
    ] as const) {
      await startOrderConfirmation(w.client, taskQueue, e, { correlationId: `record-${name}` });
      const handle = w.client.workflow.getHandle(orderWorkflowId(e.orderId));
      await handle.result();
      recorded.push([name, historyToJSON(await handle.fetchHistory())]);
    }
    const consent = w.client.workflow.getHandle(
      consentWorkflowId(sent.venueId, sent.phoneNumber, w.config.temporal.workflowIdHashKey),
    );
    recorded.push(['consent-entity', historyToJSON(await consent.fetchHistory())]);
    const provisioning = w.client.workflow.getHandle(venueNumberWorkflowId(sent.venueId, 'simulator'));
    recorded.push(['venue-number-provisioning', historyToJSON(await provisioning.fetchHistory())]);

    fs.mkdirSync(OUT_DIR, { recursive: true });
    for (const [name, json] of recorded) {
      const file = `${name}${SUFFIX}.json`;
      fs.writeFileSync(path.join(OUT_DIR, file), `${JSON.stringify(JSON.parse(json), null, 2)}\n`);
      console.log(`wrote test/fixtures/histories/${file}`);
    }
  } finally {
    await w.shutdown();
    await db.destroy();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
