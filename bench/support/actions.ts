import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const { EventType } = temporal.api.enums.v1;

/** sdk-core's marker names (crates/protos/src/protos/constants.rs). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
/** The versioning search attribute; Temporal Cloud does not bill its upserts. */
const CHANGE_VERSION_ATTRIBUTE = 'TemporalChangeVersion';

/**
 * Temporal Cloud billable actions visible in one run's history, as docs.temporal.io/cloud/actions
 * counts them. Not in a history, so not here: queries (each one the worker answers is an action),
 * activity heartbeats that reached the server, rejected updates. A signal is counted where it is
 * received (WorkflowExecutionSignaled), not again where a workflow sent it.
 */
export interface ActionCount {
  total: number;
  /** WorkflowExecutionStarted: a client start, a signal-with-start (one action for both), a continued run. */
  workflowStarted: number;
  /** Every attempt of every regular activity (ActivityTaskStarted carries the attempt number). */
  activityAttempts: number;
  /** Local activities: all the markers one workflow task completion records count as one. */
  localActivityBatches: number;
  timersStarted: number;
  /** UpsertWorkflowSearchAttributes commands, except one setting only TemporalChangeVersion. */
  searchAttributeUpserts: number;
  signalsReceived: number;
  /** A child start is two: the start and the execution. */
  childWorkflows: number;
  updatesAccepted: number;
  optionsUpdated: number;
}

export function countActions(events: readonly HistoryEvent[]): ActionCount {
  const c: ActionCount = {
    total: 0,
    workflowStarted: 0,
    activityAttempts: 0,
    localActivityBatches: 0,
    timersStarted: 0,
    searchAttributeUpserts: 0,
    signalsReceived: 0,
    childWorkflows: 0,
    updatesAccepted: 0,
    optionsUpdated: 0,
  };
  const markerBatches = new Set<string>();
  for (const e of events) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        c.workflowStarted++;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        // Only the last attempt's start is in the history; its number says how many came before.
        c.activityAttempts += Math.max(1, e.activityTaskStartedEventAttributes?.attempt ?? 1);
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        const a = e.markerRecordedEventAttributes;
        if (a?.markerName === LOCAL_ACTIVITY_MARKER)
          markerBatches.add(String(a.workflowTaskCompletedEventId ?? e.eventId));
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED:
        c.timersStarted++;
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const keys = Object.keys(
          e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
        );
        if (!(keys.length > 0 && keys.every((k) => k === CHANGE_VERSION_ATTRIBUTE)))
          c.searchAttributeUpserts++;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        c.signalsReceived++;
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        c.childWorkflows += 2;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        c.updatesAccepted++;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
        c.optionsUpdated++;
        break;
      default:
    }
  }
  c.localActivityBatches = markerBatches.size;
  c.total =
    c.workflowStarted +
    c.activityAttempts +
    c.localActivityBatches +
    c.timersStarted +
    c.searchAttributeUpserts +
    c.signalsReceived +
    c.childWorkflows +
    c.updatesAccepted +
    c.optionsUpdated;
  return c;
}

/** Field-wise mean of several counts (null for none), rounded to hundredths. */
export function meanActions(counts: readonly ActionCount[]): ActionCount | null {
  if (counts.length === 0) return null;
  const keys = Object.keys(counts[0]) as Array<keyof ActionCount>;
  const mean = {} as ActionCount;
  for (const k of keys)
    mean[k] = Math.round((counts.reduce((sum, c) => sum + c[k], 0) / counts.length) * 100) / 100;
  return mean;
}
