import { z } from 'zod';

/**
 * The Entra ID (Azure AD) identity variables, named as @azure/identity's own: SQL Server's Entra
 * authentication (config/database.ts) and Service Bus' DefaultAzureCredential (config/bridge.ts)
 * both read AZURE_CLIENT_ID, so a user-assigned identity is named once for both.
 */
export const azureEnv = z.object({
  AZURE_CLIENT_ID: z.string().min(1).optional(),
  AZURE_TENANT_ID: z.string().min(1).optional(),
  AZURE_CLIENT_SECRET: z.string().min(1).optional(),
});
