import { z } from 'zod';
import type { DatabaseAuth } from '../db/knex';
import type { azureEnv } from './azure';

export const DATABASE_AUTH_MODES = ['password', 'azure-managed-identity', 'azure-service-principal'] as const;

export const databaseEnv = z.object({
  DATABASE_URL: z.string().min(1).default('sqlite:./data/sms.sqlite'),
  /**
   * password: the user and password in DATABASE_URL (every dialect). The azure-* modes are SQL
   * Server's Entra ID authentication, with no credential in the URL.
   */
  DATABASE_AUTH: z.enum(DATABASE_AUTH_MODES).default('password'),
});
type DatabaseEnv = z.infer<typeof databaseEnv> & z.infer<typeof azureEnv>;

export function checkDatabase(env: DatabaseEnv, ctx: z.RefinementCtx): void {
  const mode = env.DATABASE_AUTH;
  if (mode === 'password') return;
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  let url: URL | undefined;
  try {
    url = new URL(env.DATABASE_URL);
  } catch {
    // sqlite:./path is no URL; it is no SQL Server either, which the check below says.
  }
  if (!url || (url.protocol !== 'mssql:' && url.protocol !== 'sqlserver:')) {
    issue('DATABASE_AUTH', `${mode} is SQL Server's Entra ID authentication: DATABASE_URL must be mssql://…`);
  } else if (url.username || url.password) {
    issue(
      'DATABASE_URL',
      `must not carry a user or password with DATABASE_AUTH=${mode} (the identity is the login): mssql://host:1433/db`,
    );
  }
  if (mode === 'azure-service-principal') {
    for (const name of ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET'] as const) {
      if (!env[name]) issue(name, 'is required with DATABASE_AUTH=azure-service-principal');
    }
  }
}

export function databaseAuth(env: DatabaseEnv): DatabaseAuth {
  switch (env.DATABASE_AUTH) {
    case 'password':
      return { kind: 'password' };
    case 'azure-managed-identity':
      // Without a client id, the app's system-assigned identity.
      return {
        kind: 'azure-managed-identity',
        ...(env.AZURE_CLIENT_ID ? { clientId: env.AZURE_CLIENT_ID } : {}),
      };
    case 'azure-service-principal':
      // checkDatabase has made sure of all three.
      return {
        kind: 'azure-service-principal',
        clientId: env.AZURE_CLIENT_ID ?? '',
        tenantId: env.AZURE_TENANT_ID ?? '',
        clientSecret: env.AZURE_CLIENT_SECRET ?? '',
      };
  }
}
