import { loadConfig } from '../../../config';
import { workerTuningOptions } from '../../../workers/create-workers';

describe('workerTuningOptions', () => {
  test('defaults: a 20-run cache, workflow slots lowered to it, pollers left to the SDK', () => {
    const options = workerTuningOptions(loadConfig({}).worker);
    expect(options).toEqual({
      maxConcurrentActivityTaskExecutions: 100,
      maxConcurrentWorkflowTaskExecutions: 20,
      maxCachedWorkflows: 20,
      shutdownGraceTime: 30_000,
    });
    expect(options).not.toHaveProperty('maxConcurrentWorkflowTaskPolls');
    expect(options).not.toHaveProperty('maxConcurrentActivityTaskPolls');
  });

  test('set knobs reach the SDK options, pollers never above the slot counts', () => {
    const options = workerTuningOptions(
      loadConfig({
        WORKER_ACTIVITY_SLOTS: '5',
        WORKER_WORKFLOW_SLOTS: '50',
        WORKER_MAX_CACHED_WORKFLOWS: '250',
        WORKER_WORKFLOW_POLLERS: '20',
        WORKER_ACTIVITY_POLLERS: '20',
      }).worker,
    );
    expect(options).toMatchObject({
      maxConcurrentActivityTaskExecutions: 5,
      maxConcurrentWorkflowTaskExecutions: 50,
      maxCachedWorkflows: 250,
      maxConcurrentWorkflowTaskPolls: 20,
      maxConcurrentActivityTaskPolls: 5,
    });
  });

  test('a sticky cache of 0 (off) is passed on and leaves the workflow slots alone', () => {
    expect(workerTuningOptions(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).worker)).toMatchObject({
      maxCachedWorkflows: 0,
      maxConcurrentWorkflowTaskExecutions: 100,
    });
  });
});
