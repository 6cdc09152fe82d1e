import { loadConfig } from '../../../config';
import { workerTuningOptions } from '../../../workers/create-workers';

describe('workerTuningOptions', () => {
  test('unset knobs stay out, so the SDK keeps its own defaults', () => {
    const options = workerTuningOptions(loadConfig({}).worker);
    expect(options).toEqual({
      maxConcurrentActivityTaskExecutions: 100,
      maxConcurrentWorkflowTaskExecutions: 100,
      shutdownGraceTime: 30_000,
    });
    expect(options).not.toHaveProperty('maxCachedWorkflows');
    expect(options).not.toHaveProperty('maxConcurrentWorkflowTaskPolls');
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

  test('a sticky cache of 0 (off) is passed on, not mistaken for unset', () => {
    expect(workerTuningOptions(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).worker)).toMatchObject({
      maxCachedWorkflows: 0,
    });
  });
});
