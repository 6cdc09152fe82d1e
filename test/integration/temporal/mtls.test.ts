import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../../config';
import { connectTemporalClient } from '../../../temporal/client';
import { temporalConnectionOptions } from '../../../temporal/connection-options';
import { useResource } from '../../support/lifecycle';
import { testTemporalAddress, waitFor } from '../../support/temporal';
import { makeTestPki } from '../../support/tls-certs';
import { startTlsProxy } from '../../support/tls-proxy';

const pki = makeTestPki();
const proxy = useResource(
  () => startTlsProxy({ target: testTemporalAddress(), server: pki.server, clientCa: pki.ca }),
  (p) => p.close(),
);
const namespace = process.env.TEMPORAL_TEST_NAMESPACE ?? 'default';

/** The Temporal part of the config the service would load from this environment. */
function temporalConfig(env: Record<string, string>) {
  return loadConfig({ TEMPORAL_ADDRESS: proxy.address, TEMPORAL_NAMESPACE: namespace, ...env }).temporal;
}

const MTLS = {
  TEMPORAL_TLS_CERT: pki.client.crt,
  TEMPORAL_TLS_KEY: pki.client.key,
  TEMPORAL_TLS_CA: pki.ca,
  TEMPORAL_TLS_SERVER_NAME: pki.serverName,
};

async function clientPing(env: Record<string, string>, timeoutMs = 5_000): Promise<void> {
  const handle = connectTemporalClient(temporalConfig(env));
  try {
    await handle.ping(timeoutMs);
  } finally {
    await handle.close();
  }
}

describe('Temporal mTLS through a frontend that requires client certificates', () => {
  test('the API/bridge client connects with the configured certificate, CA and server name', async () => {
    const before = proxy.acceptedClients.length;
    await clientPing(MTLS);
    expect(proxy.acceptedClients.slice(before)).toContain('sms-worker');
  });

  test('the worker connection (NativeConnection, Rust core) connects with the same options', async () => {
    const before = proxy.acceptedClients.length;
    const connection = await NativeConnection.connect(temporalConnectionOptions(temporalConfig(MTLS)));
    try {
      const answer = await connection.workflowService.describeNamespace({ namespace });
      expect(answer.namespaceInfo?.name).toBe(namespace);
    } finally {
      await connection.close();
    }
    expect(proxy.acceptedClients.slice(before)).toContain('sms-worker');
  });

  /** The worker's connection attempt, which fails at once with the TLS layer's own reason. */
  async function nativeConnectError(env: Record<string, string>): Promise<string> {
    const connection = await NativeConnection.connect(temporalConnectionOptions(temporalConfig(env))).catch(
      (err: unknown) => err,
    );
    if (connection instanceof NativeConnection) {
      await connection.close();
      throw new Error('the worker connected');
    }
    return connection instanceof Error ? connection.message : String(connection);
  }

  const rogue = { ...MTLS, TEMPORAL_TLS_CERT: pki.rogueClient.crt, TEMPORAL_TLS_KEY: pki.rogueClient.key };

  test('without a client certificate the frontend refuses the handshake, for both connections', async () => {
    const { TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME } = MTLS;
    const serverOnly = { TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME };
    const before = proxy.refusals.length;
    // The lazy client reports the refusal as a deadline: that is what the readiness probe shows.
    await expect(clientPing(serverOnly, 2_000)).rejects.toThrow(/DEADLINE_EXCEEDED/);
    expect(proxy.refusals.slice(before)).toContain('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    // In TLS 1.3 the client sends its (missing) certificate after the server's Finished, so the
    // worker reads either the server's alert or only the connection closing, as timing has it (CI
    // saw both). The proxy's record says why, either way.
    const nativeBefore = proxy.refusals.length;
    expect(await nativeConnectError(serverOnly)).toMatch(/CertificateRequired|connection closed/);
    await waitFor(
      async () => proxy.refusals.slice(nativeBefore).includes('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'),
      { description: "the proxy's record of the worker's refusal" },
    );
  });

  test('a self-signed client certificate the frontend does not trust is refused', async () => {
    const accepted = proxy.acceptedClients.length;
    const before = proxy.refusals.length;
    await expect(clientPing(rogue, 2_000)).rejects.toThrow();
    // The server's alert or only the connection closing, as in the test above.
    expect(await nativeConnectError(rogue)).toMatch(/transport error|connection closed/i);
    await waitFor(async () => proxy.refusals.length >= before + 2, { description: 'both refusals recorded' });
    expect(proxy.acceptedClients.length).toBe(accepted);
  });

  test('the server name override and the private CA are what make the server trusted', async () => {
    const { TEMPORAL_TLS_SERVER_NAME: _name, ...withoutOverride } = MTLS;
    const { TEMPORAL_TLS_CA: _ca, ...withoutCa } = MTLS;
    const accepted = proxy.acceptedClients.length;
    expect(await nativeConnectError(withoutOverride)).toMatch(/NotValidForName/);
    expect(await nativeConnectError(withoutCa)).toMatch(/UnknownIssuer/);
    await expect(clientPing(withoutOverride, 2_000)).rejects.toThrow();
    expect(proxy.acceptedClients.length).toBe(accepted);
  });
});
