import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../config';
import { createDataConverter } from '../../temporal/data-converter';
import { workflowBundle } from '../support/temporal';

const HISTORIES_DIR = path.resolve(__dirname, '../fixtures/histories');
const files = fs
  .readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

/**
 * Histories recorded from earlier versions of the workflows (npm run histories:record). A change
 * that would make a running workflow take a different path on replay fails here, not in production.
 */
test('the recorded histories cover every workflow and outcome, from each recorded version', () => {
  const recordings = [
    'consent-entity',
    'order-blocked-opted-out',
    'order-sent',
    'order-skipped-no-consent',
    'venue-number-provisioning',
  ];
  // The first recordings, those of the version that moved the venue-number wait into workflow code,
  // checked the consent fold and audited duplicates (v2), and those of the lean order path, whose
  // quick steps are local activities (v3, docs/adr/0009).
  for (const version of ['', '-v2', '-v3']) {
    for (const name of recordings) expect(files).toContain(`${name}${version}.json`);
  }
});

test('every recorded history replays against the current workflow code', async () => {
  const histories = files.map((file) => ({
    workflowId: path.basename(file, '.json'),
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8'))),
  }));
  const failures: string[] = [];
  // With the codec, as production replays: histories recorded before it hold plain payloads, which
  // it passes through.
  const dataConverter = createDataConverter(loadConfig({ NODE_ENV: 'test' }).temporal);
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: workflowBundle(), dataConverter },
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
});
