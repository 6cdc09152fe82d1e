import { REPLAY_HISTORIES, recordedHistoryFiles, replayRecordedHistories } from '../support/histories';
import { workflowBundle } from '../support/temporal';
import { tracingWorkflowBundle } from '../support/workflow-bundle';

/**
 * The recorded histories (npm run histories:record) against the current workflow code: a change
 * that would make a running workflow take another path on replay fails here, not in production.
 * From v1.0.0 on such a change goes behind a patch (docs/releasing.md).
 */
test('the fixtures are exactly the baseline and the later branches: every branch recorded, nothing stale', () => {
  expect(recordedHistoryFiles()).toEqual(REPLAY_HISTORIES.map((name) => `${name}.json`).sort());
});

test('every recorded history replays against the current workflow code', async () => {
  const { failures, replayed } = await replayRecordedHistories(workflowBundle());
  expect(failures).toEqual([]);
  expect(replayed).toBe(REPLAY_HISTORIES.length);
});

test('every recorded history replays with the OpenTelemetry workflow interceptors too (tracing on)', async () => {
  // The histories were recorded without them: a worker that turns tracing on must still replay
  // every workflow already running, and one that turns it off again the workflows it traced.
  const { failures, replayed } = await replayRecordedHistories(await tracingWorkflowBundle(), {
    sinks: { exporter: { export: { fn: () => undefined } } },
  });
  expect(failures).toEqual([]);
  expect(replayed).toBe(REPLAY_HISTORIES.length);
});
