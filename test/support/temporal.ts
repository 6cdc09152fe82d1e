import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { loadConfig } from '../../config';
import { createDataConverter } from '../../temporal/data-converter';
import { useResource } from './lifecycle';

export function testTemporalAddress(): string {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address)
    throw new Error(
      'TEMPORAL_TEST_ADDRESS is not set: run tests through jest (globalSetup starts the server)',
    );
  return address;
}

export function workflowBundle(): { codePath: string } {
  const codePath = process.env.WORKFLOW_BUNDLE_PATH;
  if (!codePath)
    throw new Error('WORKFLOW_BUNDLE_PATH is not set: run tests through jest (globalSetup bundles once)');
  return { codePath };
}

/** One task queue per test file, so files running in parallel never take each other's tasks. */
export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${randomBytes(4).toString('hex')}`;
}

/**
 * A client with the service's payload codec (the local default key, as the test workers use), so
 * tests read decoded inputs, results and failures as the API and bridge do.
 */
export async function connectTestClient(): Promise<{
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}> {
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const client = new Client({
    connection,
    namespace: process.env.TEMPORAL_TEST_NAMESPACE ?? 'default',
    dataConverter: createDataConverter(loadConfig({ NODE_ENV: 'test' }).temporal),
  });
  return { client, connection, close: () => connection.close() };
}

/** The enclosing suite's `connectTestClient`, connected in beforeAll and closed after. */
export function useTestClient(): Awaited<ReturnType<typeof connectTestClient>> {
  return useResource(connectTestClient, (temporal) => temporal.close());
}

/** Polls until `probe` returns a truthy value: tests wait on conditions, never on fixed sleeps. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  options: { timeoutMs?: number; intervalMs?: number; description?: string } = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 100, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: last error ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${cause}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Whether a workflow with this id was ever started (running or closed). */
export async function workflowStarted(client: Client, workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** The attempt number of a pending (scheduled or retrying) activity, if one of that type is pending. */
export async function pendingAttempt(
  handle: WorkflowHandle,
  activityType: string,
): Promise<number | undefined> {
  const { raw } = await handle.describe();
  return raw.pendingActivities?.find((a) => a.activityType?.name === activityType)?.attempt ?? undefined;
}
