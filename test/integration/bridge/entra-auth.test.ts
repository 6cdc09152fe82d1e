import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DefaultAzureCredential } from '@azure/identity';
import { ConfigError, loadConfig, type ServiceBusConfig } from '../../../config';
import { createServiceBusClient, serviceBusCredential } from '../../../bridge/subscriber';
import { useResource } from '../../support/lifecycle';

/** The namespace (Entra ID) form of the auth that config builds from this environment. */
function entraAuth(env: Record<string, string>) {
  const auth = serviceBusAuth(env);
  if (!('namespace' in auth)) throw new Error('not the namespace form');
  return auth;
}

const SAS =
  'Endpoint=sb://sas-ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0';

function serviceBusAuth(env: Record<string, string>): ServiceBusConfig['auth'] {
  const serviceBus = loadConfig(env).serviceBus;
  if (!serviceBus) throw new Error('no Service Bus configured');
  return serviceBus.auth;
}

describe('Service Bus auth from config', () => {
  test('a connection string is used as is (SAS)', async () => {
    const auth = serviceBusAuth({ SERVICEBUS_CONNECTION_STRING: SAS });
    expect(auth).toEqual({ connectionString: SAS });
    const client = createServiceBusClient(auth);
    try {
      expect(client.fullyQualifiedNamespace).toBe('sas-ns.servicebus.windows.net');
    } finally {
      await client.close();
    }
  });

  test('a namespace host means Entra ID through DefaultAzureCredential', async () => {
    const auth = entraAuth({ SERVICEBUS_NAMESPACE: 'orders-ns.servicebus.windows.net' });
    expect(auth).toEqual({ namespace: 'orders-ns.servicebus.windows.net' });
    expect(serviceBusCredential(auth)).toBeInstanceOf(DefaultAzureCredential);
    const client = createServiceBusClient(auth);
    try {
      expect(client.fullyQualifiedNamespace).toBe('orders-ns.servicebus.windows.net');
    } finally {
      await client.close();
    }
  });

  test("a bare namespace name is the public cloud's host; another cloud's host is kept", () => {
    expect(serviceBusAuth({ SERVICEBUS_NAMESPACE: 'orders-ns' })).toEqual({
      namespace: 'orders-ns.servicebus.windows.net',
    });
    expect(serviceBusAuth({ SERVICEBUS_NAMESPACE: 'orders-ns.servicebus.usgovcloudapi.net' })).toEqual({
      namespace: 'orders-ns.servicebus.usgovcloudapi.net',
    });
  });

  test('a namespace given as a URL or with a path is refused, naming the forms accepted', () => {
    for (const value of ['sb://orders-ns.servicebus.windows.net/', 'https://orders-ns']) {
      expect(() => loadConfig({ SERVICEBUS_NAMESPACE: value })).toThrow(ConfigError);
      expect(() => loadConfig({ SERVICEBUS_NAMESPACE: value })).toThrow(
        /SERVICEBUS_NAMESPACE: must be a namespace name \(my-ns\) or host name/,
      );
    }
  });

  test('AZURE_CLIENT_ID reaches the credential as its managed identity; without it, none is named', () => {
    expect(serviceBusAuth({ SERVICEBUS_NAMESPACE: 'orders-ns', AZURE_CLIENT_ID: 'uami-client-id' })).toEqual({
      namespace: 'orders-ns.servicebus.windows.net',
      managedIdentityClientId: 'uami-client-id',
    });
    // The connection string carries its own credential: no identity applies.
    expect(serviceBusAuth({ SERVICEBUS_CONNECTION_STRING: SAS, AZURE_CLIENT_ID: 'uami-client-id' })).toEqual({
      connectionString: SAS,
    });
  });
});

/**
 * A stand-in for the managed identity endpoint Container Apps and App Service give a process
 * (IDENTITY_ENDPOINT + IDENTITY_HEADER, API 2019-08-01): it records each token request and answers
 * with a token, so the real DefaultAzureCredential chain runs down to its HTTP call.
 */
async function startIdentityEndpoint() {
  const requests: URL[] = [];
  const headers: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url);
    headers.push(String(req.headers['x-identity-header'] ?? ''));
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        access_token: `token-for-${url.searchParams.get('client_id') ?? 'system-assigned'}`,
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        resource: url.searchParams.get('resource'),
        token_type: 'Bearer',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/msi/token`,
    requests,
    headers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the credential against a managed identity endpoint (Container Apps)', () => {
  const identity = useResource(startIdentityEndpoint, (e) => e.close());
  // Everything else DefaultAzureCredential would try first, or read instead of our option, is
  // taken out of this process' environment for the suite.
  const OTHER_SOURCES = [
    'AZURE_CLIENT_ID',
    'AZURE_TENANT_ID',
    'AZURE_CLIENT_SECRET',
    'AZURE_FEDERATED_TOKEN_FILE',
    'AZURE_TOKEN_CREDENTIALS',
    'MSI_ENDPOINT',
    'MSI_SECRET',
    'IDENTITY_SERVER_THUMBPRINT',
    'IMDS_ENDPOINT',
  ];
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const name of [...OTHER_SOURCES, 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER'])
      saved[name] = process.env[name];
    for (const name of OTHER_SOURCES) delete process.env[name];
    process.env.IDENTITY_ENDPOINT = identity.url;
    process.env.IDENTITY_HEADER = 'container-apps-identity-header';
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const SCOPE = 'https://servicebus.azure.net/.default';

  test('with AZURE_CLIENT_ID in config, the token is asked for that user-assigned identity', async () => {
    const auth = entraAuth({ SERVICEBUS_NAMESPACE: 'orders-ns', AZURE_CLIENT_ID: 'uami-client-id' });
    const before = identity.requests.length;
    const token = await serviceBusCredential(auth).getToken(SCOPE);
    expect(token?.token).toBe('token-for-uami-client-id');
    const request = identity.requests.slice(before).at(-1);
    expect(request?.searchParams.get('client_id')).toBe('uami-client-id');
    expect(request?.searchParams.get('resource')).toBe('https://servicebus.azure.net');
    expect(identity.headers.at(-1)).toBe('container-apps-identity-header');
  });

  test('without it, the system-assigned identity (no client id in the request)', async () => {
    const auth = entraAuth({ SERVICEBUS_NAMESPACE: 'orders-ns' });
    const before = identity.requests.length;
    const token = await serviceBusCredential(auth).getToken(SCOPE);
    expect(token?.token).toBe('token-for-system-assigned');
    expect(identity.requests.slice(before).at(-1)?.searchParams.has('client_id')).toBe(false);
  });
});
