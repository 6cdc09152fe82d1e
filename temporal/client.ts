import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

export interface TemporalClientHandle {
  client: Client;
  connection: Connection;
  /** Answers when the namespace is reachable: the readiness probe's Temporal check. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The client the API and bridge share. The connection is lazy so a process starts (and reports
 * "not ready") while Temporal is still coming up, instead of crashing in a restart loop.
 * TLS and the API key switch on for Temporal Cloud.
 */
export function connectTemporalClient(config: Config['temporal']): TemporalClientHandle {
  const connection = Connection.lazy({
    address: config.address,
    tls: config.tls ? {} : undefined,
    apiKey: config.apiKey,
  });
  const client = new Client({ connection, namespace: config.namespace });
  return {
    client,
    connection,
    ping: async () => {
      await connection.workflowService.describeNamespace({ namespace: config.namespace });
    },
    close: () => connection.close(),
  };
}
