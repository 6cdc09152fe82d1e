import {
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionInfo,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import { ORDER_STATUS_QUERY, type OrderStatus } from './contracts';
import { orderWorkflowId } from './ids';
import { OrderIdKey, SmsErrorCodeKey, SmsOutcomeKey, SmsProviderKey, VenueIdKey } from './search-attributes';

/**
 * What ops sees of an order's runs in Temporal: its workflow status and search attributes. Shared by
 * the rerun (docs/adr/0008-rerun.md) and the ops CLI's `failed` and `status` commands, so each reads
 * an order the same way.
 */

/** What ops sees of one run of an order. */
export interface OrderRun {
  orderId: string;
  workflowId: string;
  runId: string;
  status: WorkflowExecutionStatusName;
  taskQueue: string;
  venueId?: number;
  /** SmsOutcome search attribute: pending while running, failed for a failed run. */
  outcome?: string;
  errorCode?: string;
  provider?: string;
  startTime?: Date;
  closeTime?: Date;
}

/** What describe() and list() both give (their `raw` differs). */
export type RunInfo = Omit<WorkflowExecutionInfo, 'raw'>;

export function orderRun(orderId: string, info: RunInfo): OrderRun {
  const sa = info.typedSearchAttributes;
  return {
    orderId: orderId.toLowerCase(),
    workflowId: info.workflowId,
    runId: info.runId,
    status: info.status.name,
    taskQueue: info.taskQueue,
    venueId: sa.get(VenueIdKey),
    outcome: sa.get(SmsOutcomeKey),
    errorCode: sa.get(SmsErrorCodeKey),
    provider: sa.get(SmsProviderKey),
    startTime: info.startTime,
    closeTime: info.closeTime,
  };
}

export function orderIdOf(info: WorkflowExecutionInfo): string {
  return info.typedSearchAttributes.get(OrderIdKey) ?? info.workflowId.replace(/^order-sms-/, '');
}

/** The order's latest run, or null when Temporal has none (never started, or past retention). */
export async function latestOrderRun(client: Client, orderId: string): Promise<OrderRun | null> {
  try {
    return orderRun(orderId, await client.workflow.getHandle(orderWorkflowId(orderId)).describe());
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * The running order's current step, from its `status` query. A worker must answer it: when none
 * polls the queue the server waits, so the wait is bounded and its failure is reported, not thrown.
 */
export async function queryOrderStep(
  client: Client,
  run: OrderRun,
  timeoutMs = 5_000,
): Promise<{ status: OrderStatus } | { error: string }> {
  try {
    const status = await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.getHandle(run.workflowId, run.runId).query<OrderStatus>(ORDER_STATUS_QUERY),
    );
    return { status };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** "FAILED, error code 21452, venue 4242, closed 2026-…": one line per run in the CLI's listings. */
export function describeRun(run: OrderRun): string {
  return [
    run.status,
    run.errorCode ? `error code ${run.errorCode}` : 'no error code',
    run.venueId !== undefined ? `venue ${run.venueId}` : undefined,
    run.closeTime ? `closed ${run.closeTime.toISOString()}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

/** A run as the CLI's --json prints it: every field present, null when unknown. */
export function orderRunJson(run: OrderRun) {
  return {
    orderId: run.orderId,
    workflowId: run.workflowId,
    runId: run.runId,
    workflowStatus: run.status,
    outcome: run.outcome ?? null,
    errorCode: run.errorCode ?? null,
    venueId: run.venueId ?? null,
    provider: run.provider ?? null,
    startTime: run.startTime?.toISOString() ?? null,
    closeTime: run.closeTime?.toISOString() ?? null,
  };
}

/** How long the recipient hold's question about another run may take (it is asked inside a send). */
const RUN_CLOSE_DEADLINE_MS = 5_000;

/**
 * When the run closed, whatever the way; the epoch when it is gone from Temporal (past retention, so
 * closed long ago); null while it runs, and when Temporal cannot say (the caller then keeps waiting,
 * as it would have without asking).
 */
export async function runClosedAt(client: Client, workflowId: string, runId: string): Promise<Date | null> {
  try {
    const { status, closeTime } = await client.connection.withDeadline(
      Date.now() + RUN_CLOSE_DEADLINE_MS,
      () => client.workflow.getHandle(workflowId, runId).describe(),
    );
    return status.name === 'RUNNING' ? null : (closeTime ?? null);
  } catch (err) {
    return err instanceof WorkflowNotFoundError ? new Date(0) : null;
  }
}
