import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

export interface TemporalClientHandle {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/** The client the API and bridge share. TLS/API key switch on for Temporal Cloud. */
export async function connectTemporalClient(config: Config['temporal']): Promise<TemporalClientHandle> {
  const connection = await Connection.connect({
    address: config.address,
    tls: config.tls ? {} : undefined,
    apiKey: config.apiKey,
  });
  const client = new Client({ connection, namespace: config.namespace });
  return { client, connection, close: () => connection.close() };
}
