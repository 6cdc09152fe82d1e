import { Writable } from 'node:stream';
import { Connection, type ConnectionConfiguration } from 'tedious';
import { ConfigError, loadConfig } from '../../../config';
import { createLogger } from '../../../config/logger';
import { createKnex } from '../../../db/knex';
import { makeTestPki } from '../../support/tls-certs';

const pki = makeTestPki();
const SQL_URL = 'mssql://sms-sql.database.windows.net:1433/sms';

/**
 * What tedious itself makes of the configuration the service builds: loadConfig → createKnex →
 * knex's mssql client (the object it hands tedious for each pooled connection) → tedious'
 * Connection constructor, which validates the authentication block and keeps its normalised form.
 * No connection is opened (connect() is never called).
 */
async function tediousConfigFor(env: Record<string, string>) {
  const config = loadConfig(env);
  const knex = createKnex(config.databaseUrl, config.databaseAuth);
  try {
    // knex's own step from its connection settings to tedious' config; not part of its typings.
    const client = knex.client as unknown as { _generateConnection(): ConnectionConfiguration };
    const generated = client._generateConnection();
    const connection = new Connection(generated);
    return { generated, tedious: connection.config };
  } finally {
    await knex.destroy();
  }
}

describe('DATABASE_AUTH → the tedious options knex builds', () => {
  test('password (the default): the user and password from DATABASE_URL', async () => {
    const { tedious } = await tediousConfigFor({ DATABASE_URL: 'mssql://app:p%40ss@sql.internal:1444/sms' });
    expect(tedious.server).toBe('sql.internal');
    expect(tedious.options).toMatchObject({ port: 1444, database: 'sms', encrypt: true });
    expect(tedious.authentication).toEqual({
      type: 'default',
      options: { userName: 'app', password: 'p@ss' },
    });
  });

  test('azure-managed-identity without a client id: the system-assigned identity', async () => {
    const { tedious } = await tediousConfigFor({
      DATABASE_URL: SQL_URL,
      DATABASE_AUTH: 'azure-managed-identity',
    });
    expect(tedious.server).toBe('sms-sql.database.windows.net');
    expect(tedious.options).toMatchObject({ port: 1433, database: 'sms', encrypt: true });
    expect(tedious.authentication).toEqual({
      type: 'azure-active-directory-msi-app-service',
      options: { clientId: undefined },
    });
  });

  test('azure-managed-identity with AZURE_CLIENT_ID: that user-assigned identity', async () => {
    const { tedious } = await tediousConfigFor({
      DATABASE_URL: SQL_URL,
      DATABASE_AUTH: 'azure-managed-identity',
      AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
    });
    expect(tedious.authentication).toEqual({
      type: 'azure-active-directory-msi-app-service',
      options: { clientId: '11111111-2222-3333-4444-555555555555' },
    });
  });

  test('azure-service-principal: client id, secret and tenant', async () => {
    const { tedious } = await tediousConfigFor({
      DATABASE_URL: SQL_URL,
      DATABASE_AUTH: 'azure-service-principal',
      AZURE_CLIENT_ID: 'sp-client-id',
      AZURE_TENANT_ID: 'tenant-id',
      AZURE_CLIENT_SECRET: 'sp-secret-value',
    });
    expect(tedious.authentication).toEqual({
      type: 'azure-active-directory-service-principal-secret',
      options: { clientId: 'sp-client-id', clientSecret: 'sp-secret-value', tenantId: 'tenant-id' },
    });
  });

  test('encrypt and trustServerCertificate still come from the URL under Entra ID', async () => {
    const { tedious } = await tediousConfigFor({
      DATABASE_URL: `${SQL_URL}?encrypt=false&trustServerCertificate=true`,
      DATABASE_AUTH: 'azure-managed-identity',
    });
    expect(tedious.options).toMatchObject({ encrypt: false, trustServerCertificate: true });
  });

  test('createKnex refuses an Entra ID mode on another dialect even without loadConfig', () => {
    expect(() => createKnex('sqlite::memory:', { kind: 'azure-managed-identity' })).toThrow(
      'DATABASE_AUTH=azure-managed-identity is for SQL Server (mssql://), not sqlite',
    );
    expect(() => createKnex('postgres://db/sms', { kind: 'azure-managed-identity' })).toThrow(/not postgres/);
  });
});

describe('DATABASE_AUTH in loadConfig', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  test('defaults to password, whatever the dialect', () => {
    expect(loadConfig({}).databaseAuth).toEqual({ kind: 'password' });
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db/sms' }).databaseAuth).toEqual({ kind: 'password' });
  });

  test('an unknown mode is refused with the list of modes', () => {
    expect(problems({ DATABASE_AUTH: 'azure-default' })).toEqual([
      expect.stringMatching(
        /^DATABASE_AUTH: .*"password".*"azure-managed-identity".*"azure-service-principal"/,
      ),
    ]);
  });

  test.each(['sqlite:./data/sms.sqlite', 'postgres://db:5432/sms'])(
    'Entra ID with a DATABASE_URL that is not SQL Server (%s) is refused',
    (url) => {
      expect(problems({ DATABASE_URL: url, DATABASE_AUTH: 'azure-managed-identity' })).toEqual([
        "DATABASE_AUTH: azure-managed-identity is SQL Server's Entra ID authentication: DATABASE_URL must be mssql://…",
      ]);
    },
  );

  test('Entra ID with a user or password in the URL is refused', () => {
    expect(
      problems({ DATABASE_URL: 'mssql://app:secret@sql/sms', DATABASE_AUTH: 'azure-managed-identity' }),
    ).toEqual([
      expect.stringMatching(/^DATABASE_URL: must not carry a user or password with DATABASE_AUTH=/),
    ]);
    expect(
      problems({ DATABASE_URL: 'mssql://app@sql/sms', DATABASE_AUTH: 'azure-managed-identity' }),
    ).toHaveLength(1);
  });

  test('a service principal needs its client id, tenant and secret, each named', () => {
    expect(problems({ DATABASE_URL: SQL_URL, DATABASE_AUTH: 'azure-service-principal' })).toEqual([
      'AZURE_CLIENT_ID: is required with DATABASE_AUTH=azure-service-principal',
      'AZURE_TENANT_ID: is required with DATABASE_AUTH=azure-service-principal',
      'AZURE_CLIENT_SECRET: is required with DATABASE_AUTH=azure-service-principal',
    ]);
    expect(
      problems({
        DATABASE_URL: SQL_URL,
        DATABASE_AUTH: 'azure-service-principal',
        AZURE_CLIENT_ID: 'c',
        AZURE_TENANT_ID: 't',
      }),
    ).toEqual(['AZURE_CLIENT_SECRET: is required with DATABASE_AUTH=azure-service-principal']);
  });

  test('a config logged whole shows none of the Entra ID, mTLS or API key secrets', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        out += chunk.toString();
        done();
      },
    });
    const config = loadConfig({
      DATABASE_URL: SQL_URL,
      DATABASE_AUTH: 'azure-service-principal',
      AZURE_CLIENT_ID: 'c',
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_SECRET: 'sp-secret-value',
      TEMPORAL_API_KEY: 'temporal-api-key-value',
    });
    const withCert = loadConfig({ TEMPORAL_TLS_CERT: pki.client.crt, TEMPORAL_TLS_KEY: pki.client.key });
    const logger = createLogger({ level: 'info', name: 'test' }, sink);
    logger.info({ config }, 'config');
    logger.info({ config: withCert }, 'config');
    logger.info({ temporal: withCert.temporal, databaseAuth: config.databaseAuth }, 'parts');
    expect(out).toContain('azure-service-principal');
    expect(out).not.toContain('sp-secret-value');
    expect(out).not.toContain('temporal-api-key-value');
    expect(out).not.toContain(pki.client.key.split('\n')[1]);
  });
});
