import { Client, Connection, type ClientInterceptors } from '@temporalio/client';
import type { Config } from '../config';
import { temporalConnectionOptions } from './connection-options';
import { createDataConverter } from './data-converter';

export interface TemporalClientHandle {
  client: Client;
  connection: Connection;
  /** Answers when the namespace is reachable: the readiness probe's Temporal check. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The client the API and bridge share. The connection is lazy so a process starts (and reports
 * "not ready") while Temporal is still coming up, instead of crashing in a restart loop.
 * TLS, mTLS and the API key come from config (temporal/connection-options.ts), as the worker's do. The payload codec is applied here, so every
 * client built through this encrypts what it sends and decrypts what it reads.
 */
export function connectTemporalClient(
  config: Config['temporal'],
  options: { interceptors?: ClientInterceptors } = {},
): TemporalClientHandle {
  const connection = Connection.lazy({
    ...temporalConnectionOptions(config),
    // gRPC's reconnect backoff grows to two minutes; once Temporal is back, orders should flow
    // again within seconds, not sit behind a long backoff.
    channelArgs: { 'grpc.max_reconnect_backoff_ms': 5_000 },
  });
  const client = new Client({
    connection,
    namespace: config.namespace,
    dataConverter: createDataConverter(config),
    // Tracing's (runtime/tracing.ts), when on: starts and signals carry the trace into the workflow.
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
  });
  return {
    client,
    connection,
    // A deadline well inside the readiness probe's 3 s: the SDK retries an unreachable server with
    // backoff until the deadline passes, and those retries must be over when the probe answers.
    ping: async (timeoutMs = 1_000) => {
      await connection.withDeadline(Date.now() + timeoutMs, () =>
        connection.workflowService.describeNamespace({ namespace: config.namespace }),
      );
    },
    close: () => connection.close(),
  };
}
