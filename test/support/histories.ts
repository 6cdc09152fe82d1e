import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker, type ReplayWorkerOptions, type WorkflowBundleOption } from '@temporalio/worker';
import { loadConfig } from '../../config';
import { createDataConverter } from '../../temporal/data-converter';

/** The replay fixtures: the 1.0 baseline's histories, which every later workflow change must replay. */
export const HISTORIES_DIR = path.resolve(__dirname, '../fixtures/histories');

/** The test dev server suggests continue-as-new after this many events (global-setup.ts). */
export const TEST_SUGGEST_CONTINUE_AS_NEW_EVENTS = 200;

/**
 * Keeps a test's workflow history as the replay fixture `name` when `npm run histories:record` runs
 * the tests (RECORD_HISTORIES set); otherwise does nothing. The tests that walk a branch are the
 * ones that record it, so a fixture always shows the branch its test asserts. A fixture already
 * recorded is kept as it is (it is what older code wrote) unless RECORD_HISTORIES=overwrite.
 */
export async function keepHistory(handle: WorkflowHandle, name: string): Promise<void> {
  const mode = process.env.RECORD_HISTORIES;
  if (!mode) return;
  const file = path.join(HISTORIES_DIR, `${name}.json`);
  if (mode !== 'overwrite' && fs.existsSync(file)) return;
  const json = historyToJSON(await handle.fetchHistory());
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(JSON.parse(json), null, 2)}\n`);
}

/**
 * The fixtures of the 1.0 baseline, each kept by the test that walks its branch: every outcome, both
 * failover decisions, a local step handed to its regular activity, the failure paths, the venue
 * number re-look, and a consent entity before and after continue-as-new.
 */
export const BASELINE_HISTORIES = [
  'consent-entity',
  'consent-entity-continued-as-new',
  'order-blocked-opted-out',
  'order-failed-after-retries',
  'order-failover-kept-on-primary',
  'order-failover-to-secondary',
  'order-history-refused',
  'order-local-step-fallback',
  'order-no-sender-number',
  'order-provider-opted-out',
  'order-sent',
  'order-skipped-no-consent',
  'order-venue-number-relook',
  'venue-number-provisioning',
] as const;

/**
 * Fixtures of branches added after 1.0 without a patch, because only a new activity result reaches
 * them (docs/releasing.md): rollout control's switched-off venue and paused order.
 */
export const HISTORIES_SINCE_1_0 = ['order-paused-resumed', 'order-skipped-disabled'] as const;

/** Every fixture the replay test demands. */
export const REPLAY_HISTORIES = [...BASELINE_HISTORIES, ...HISTORIES_SINCE_1_0] as const;

/** The recorded fixtures' file names, sorted. */
export function recordedHistoryFiles(): string[] {
  return fs
    .readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/**
 * Replays every recorded fixture against `workflowBundle`, with the codec as production replays
 * (the tests record with the local key); resolves to the failures and how many histories replayed.
 */
export async function replayRecordedHistories(
  workflowBundle: WorkflowBundleOption,
  options: Pick<ReplayWorkerOptions, 'sinks'> = {},
): Promise<{ failures: string[]; replayed: number }> {
  const histories = recordedHistoryFiles().map((file) => ({
    workflowId: path.basename(file, '.json'),
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8'))),
  }));
  const dataConverter = createDataConverter(loadConfig({ NODE_ENV: 'test' }).temporal);
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowBundle, dataConverter, ...options },
    histories,
  )) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  return { failures, replayed };
}
