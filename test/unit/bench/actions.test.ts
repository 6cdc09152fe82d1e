import { temporal } from '@temporalio/proto';
import { countActions, meanActions } from '../../../bench/support/actions';
import { parseServerCounters, perUnit } from '../../../bench/support/server-metrics';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const { EventType } = temporal.api.enums.v1;
// int64 fields are Long objects when decoded; the counting only compares them by their string form.
const id = (n: number) => n as unknown as NonNullable<HistoryEvent['eventId']>;

/** A history written by hand, event ids in order: the shape of a warm order whose send was retried once. */
function warmOrderHistory(): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const add = (eventType: temporal.api.enums.v1.EventType, attrs: Partial<HistoryEvent> = {}) =>
    events.push({ eventId: id(events.length + 1), eventType, ...attrs });
  const marker = (workflowTaskCompletedEventId: number, markerName = 'core_local_activity') =>
    add(EventType.EVENT_TYPE_MARKER_RECORDED, {
      markerRecordedEventAttributes: {
        markerName,
        workflowTaskCompletedEventId: id(workflowTaskCompletedEventId),
      },
    });
  const upsert = (...keys: string[]) =>
    add(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, {
      upsertWorkflowSearchAttributesEventAttributes: {
        searchAttributes: { indexedFields: Object.fromEntries(keys.map((k) => [k, {}])) },
      },
    });
  add(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED); // 1
  add(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED); // 2
  add(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED); // 3
  add(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED); // 4
  marker(4); // consent, venue number, render: one batch
  marker(4);
  marker(4);
  marker(4, 'core_patch'); // a patch marker is not a local activity
  upsert('SmsProvider');
  upsert('TemporalChangeVersion'); // exempt
  add(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  add(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { attempt: 2 } });
  add(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  add(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  add(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  add(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  const secondTask = events.length + 1;
  add(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  marker(secondTask); // history row: a batch of its own
  add(EventType.EVENT_TYPE_TIMER_STARTED);
  upsert('SmsOutcome', 'SmsErrorCode'); // two attributes, one command
  add(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  return events;
}

describe('billable actions in a history', () => {
  test('counts each kind as Temporal Cloud bills it', () => {
    expect(countActions(warmOrderHistory())).toEqual({
      total: 9,
      workflowStarted: 1,
      activityAttempts: 2,
      localActivityBatches: 2,
      timersStarted: 1,
      searchAttributeUpserts: 2,
      signalsReceived: 1,
      childWorkflows: 0,
      updatesAccepted: 0,
      optionsUpdated: 0,
    });
  });

  test('a child workflow is two actions; an empty history none', () => {
    const child = countActions([
      { eventId: id(1), eventType: EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED },
    ]);
    expect(child).toMatchObject({ total: 2, childWorkflows: 2 });
    expect(countActions([]).total).toBe(0);
  });

  test('the mean is field by field', () => {
    const one = countActions(warmOrderHistory());
    const none = countActions([]);
    expect(meanActions([one, none])).toMatchObject({
      total: 4.5,
      activityAttempts: 1,
      localActivityBatches: 1,
    });
    expect(meanActions([])).toBeNull();
  });
});

describe('server counters', () => {
  const text = (starts: number, polls: number) => `# HELP service_requests
service_requests{namespace="default",operation="StartWorkflowExecution",service_name="frontend"} ${starts}
service_requests{namespace="default",operation="StartWorkflowExecution",service_name="history"} 99
service_requests{namespace="default",operation="PollWorkflowTaskQueue",service_name="frontend"} ${polls}
service_requests{namespace="temporal_system",operation="PollWorkflowTaskQueue",service_name="frontend"} 7
action{action_type="grpc_StartWorkflowExecution",namespace="default",operation="StartWorkflowExecution",service_name="frontend"} ${starts}
`;

  test('round trips and actions per unit, from the frontend of one namespace only', () => {
    const before = parseServerCounters(text(2, 10), 'default');
    const after = parseServerCounters(text(12, 50), 'default');
    expect(perUnit(before, after, 'requests', 10)).toEqual({
      PollWorkflowTaskQueue: 4,
      StartWorkflowExecution: 1,
    });
    expect(perUnit(before, after, 'actions', 10)).toEqual({ grpc_StartWorkflowExecution: 1 });
  });
});
