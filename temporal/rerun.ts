import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowExecutionInfo,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
// The SDK's own decoder for history payloads (converter + codec); the client has no public call that
// reads a past run's input.
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { ORDER_WORKFLOW_TYPE, type OrderConfirmationInput } from './contracts';
import { orderWorkflowId } from './ids';
import { describeRun, latestOrderRun, orderIdOf, orderRun, type OrderRun } from './order-runs';
import { OrderIdKey, SmsOutcomeKey, VenueIdKey } from './search-attributes';
import { PENDING_OUTCOME } from '../rollout/control';

export { describeRun, type OrderRun };

/**
 * Rerunning a failed order (docs/adr/0008-rerun.md): a fresh run of the same workflow id with the
 * failed run's own input, started with ALLOW_DUPLICATE_FAILED_ONLY so that the server itself refuses
 * a Completed order and, with conflict policy FAIL, a Running one. Whether the customer was already
 * texted is not decided here: the new run's sendSms finds the order's SQL claim and reconciles with
 * the provider before it sends (docs/adr/0006).
 */

export type RefusalReason = 'not_found' | 'completed' | 'running' | 'not_rerunnable';

export type RerunCheck =
  | { rerunnable: true; run: OrderRun; why: string }
  | { rerunnable: false; reason: RefusalReason; message: string; run?: OrderRun };

export type RerunResult =
  | { rerun: true; orderId: string; workflowId: string; runId: string; rerunOf: OrderRun; why: string }
  | { rerun: false; orderId: string; reason: RefusalReason; message: string; run?: OrderRun };

/**
 * The closed statuses a rerun may follow when the operator names the order. Failed and TimedOut
 * mean the service gave up; Terminated and Cancelled mean someone stopped it, which a person naming
 * the order may undo, but a batch never does (see BATCH_STATUSES).
 */
const RERUNNABLE: ReadonlySet<WorkflowExecutionStatusName> = new Set([
  'FAILED',
  'TIMED_OUT',
  'TERMINATED',
  'CANCELLED',
]);

/** Failed orders a batch looks at, at most: an outage that failed more wants narrower filters. */
const MAX_SCANNED = 10_000;

/** The batch reruns only what the service itself gave up on (visibility's status names). */
const BATCH_STATUSES = ['Failed', 'TimedOut'] as const;

/** Who asked, recorded in the new run's memo and details (never a person's name: a role). */
export type RerunRequester = 'ops-cli' | 'api';

/** Whether the order's latest run may be rerun, and why (or why not), without changing anything. */
export async function checkOrderRerun(client: Client, orderId: string): Promise<RerunCheck> {
  const run = await latestOrderRun(client, orderId);
  if (!run)
    return {
      rerunnable: false,
      reason: 'not_found',
      message: `no workflow ${orderWorkflowId(orderId)} (never started, or past the namespace's retention: re-drive the event instead)`,
    };
  return judge(run);
}

function judge(run: OrderRun): RerunCheck {
  const outcome = run.outcome ? ` (outcome ${run.outcome})` : '';
  switch (run.status) {
    case 'COMPLETED':
      return {
        rerunnable: false,
        reason: 'completed',
        run,
        message: `order completed${outcome}: its outcome is final, a rerun could only text the customer twice`,
      };
    case 'RUNNING':
      return {
        rerunnable: false,
        reason: 'running',
        run,
        message: `order is still running${outcome}: it retries by itself; rerun it once it has failed`,
      };
    default:
      if (!RERUNNABLE.has(run.status))
        return { rerunnable: false, reason: 'not_rerunnable', run, message: `run is ${run.status}` };
      return { rerunnable: true, run, why: describeRun(run) };
  }
}

/**
 * Reruns the order if its latest run may be rerun. The check is repeated by the server: a Completed
 * latest run makes the start fail whatever this process saw, so two operators (or the CLI and the
 * API) racing cannot start two runs, nor one after a success.
 */
export async function rerunOrder(
  client: Client,
  orderId: string,
  requestedBy: RerunRequester,
): Promise<RerunResult> {
  const id = orderId.toLowerCase();
  const check = await checkOrderRerun(client, id);
  if (!check.rerunnable) return { rerun: false, orderId: id, ...check };
  const { run } = check;
  const input = await failedRunInput(client, run);
  const rerunOf = {
    runId: run.runId,
    status: run.status,
    errorCode: run.errorCode ?? null,
    closeTime: run.closeTime?.toISOString() ?? null,
  };
  try {
    const handle = await client.workflow.start(ORDER_WORKFLOW_TYPE, {
      workflowId: run.workflowId,
      taskQueue: run.taskQueue,
      args: [input],
      // The only start that may follow a closed run: and only one that did not complete.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      workflowIdConflictPolicy: 'FAIL',
      memo: {
        orderId: input.event.orderId,
        correlationId: input.correlationId,
        messageId: input.messageId,
        rerunOf,
        rerunBy: requestedBy,
      },
      typedSearchAttributes: [
        { key: OrderIdKey, value: input.event.orderId },
        { key: VenueIdKey, value: input.event.venueId },
        { key: SmsOutcomeKey, value: PENDING_OUTCOME },
      ],
      staticSummary: `Rerun · order ${input.event.orderNumber ?? input.event.orderId} · venue ${input.event.venueId}`,
      staticDetails: `Rerun of run ${run.runId} (${describeRun(run)}), requested by ${requestedBy}.`,
    });
    return {
      rerun: true,
      orderId: id,
      workflowId: run.workflowId,
      runId: handle.firstExecutionRunId,
      rerunOf: run,
      why: check.why,
    };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Someone else's rerun (or the server's own reuse rule) got there first: say what it is now.
    const now = await checkOrderRerun(client, id);
    if (!now.rerunnable) return { rerun: false, orderId: id, ...now };
    return {
      rerun: false,
      orderId: id,
      reason: 'running',
      message: 'another rerun of this order started first',
    };
  }
}

/** The failed run's own input: the first event of its history, decoded like any other payload. */
async function failedRunInput(client: Client, run: OrderRun): Promise<OrderConfirmationInput> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: run.workflowId, runId: run.runId },
    maximumPageSize: 1,
  });
  const payloads = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  if (!payloads?.length) throw new Error(`run ${run.runId} of ${run.workflowId} has no input in its history`);
  return decodeFromPayloadsAtIndex<OrderConfirmationInput>(client.options.loadedDataConverter, 0, payloads);
}

export interface RerunFilter {
  /** Runs that closed at or after this time. */
  failedSince: Date;
  venueId?: number;
  errorCode?: string;
  /** At most this many candidates (a batch is bounded; run it again for the rest). */
  limit?: number;
}

export interface BatchListing {
  candidates: Array<{ run: OrderRun; why: string }>;
  /** Matching failed runs that are not their order's latest any more (rerun since, or running again). */
  skipped: Array<{ run: OrderRun; reason: string }>;
}

/** The visibility query behind a batch; values are quoted, so a filter cannot widen the query. */
export function rerunQuery(filter: RerunFilter): string {
  const clauses = [
    `WorkflowType = ${quote(ORDER_WORKFLOW_TYPE)}`,
    `ExecutionStatus IN (${BATCH_STATUSES.map(quote).join(', ')})`,
    `CloseTime >= ${quote(filter.failedSince.toISOString())}`,
  ];
  if (filter.venueId !== undefined) clauses.push(`VenueId = ${Math.trunc(filter.venueId)}`);
  if (filter.errorCode !== undefined) clauses.push(`SmsErrorCode = ${quote(filter.errorCode)}`);
  return clauses.join(' AND ');
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Failed (or timed-out) order runs that closed since the given time and match the filters, oldest
 * first. Visibility keeps every run, so a failed run whose order has been rerun since is still
 * listed there: each one is checked against its order's latest run and skipped unless it is that run.
 */
export async function findRerunCandidates(client: Client, filter: RerunFilter): Promise<BatchListing> {
  const limit = filter.limit ?? 500;
  const matched = new Map<string, WorkflowExecutionInfo>();
  for await (const info of client.workflow.list({ query: rerunQuery(filter) })) {
    const seen = matched.get(info.workflowId);
    // An order that failed twice (a rerun that failed again): its newest failure speaks for it.
    if (!seen || (info.closeTime?.getTime() ?? 0) > (seen.closeTime?.getTime() ?? 0))
      matched.set(info.workflowId, info);
    if (matched.size >= MAX_SCANNED) break; // a runaway filter stops here; narrow it and run again
  }
  const listing: BatchListing = { candidates: [], skipped: [] };
  const failedRuns = [...matched.values()]
    .map((info) => orderRun(orderIdOf(info), info))
    .sort((a, b) => (a.closeTime?.getTime() ?? 0) - (b.closeTime?.getTime() ?? 0));
  for (const run of failedRuns) {
    if (listing.candidates.length >= limit) break;
    const check = await checkOrderRerun(client, run.orderId);
    if (check.rerunnable && check.run.runId === run.runId) {
      listing.candidates.push({ run: check.run, why: check.why });
    } else {
      const latest = check.run;
      const now = latest ? `latest run ${latest.runId} is ${latest.status}` : 'no latest run';
      listing.skipped.push({ run, reason: `not the order's latest run any more: ${now}` });
    }
  }
  return listing;
}
