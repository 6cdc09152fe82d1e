import { z } from 'zod';
import type { azureEnv } from './azure';
import { port } from './primitives';

/** The suffix a bare namespace name gets: Azure's public cloud. Other clouds give the whole host. */
export const SERVICEBUS_PUBLIC_CLOUD_SUFFIX = '.servicebus.windows.net';

export const bridgeEnv = z.object({
  SERVICEBUS_CONNECTION_STRING: z.string().optional(),
  // A bare name (my-ns, what Terraform's azurerm_servicebus_namespace.name holds) is the public
  // cloud's my-ns.servicebus.windows.net; a sovereign cloud's namespace is given as its whole host.
  SERVICEBUS_NAMESPACE: z
    .string()
    .regex(/^[\w.-]+$/, 'must be a namespace name (my-ns) or host name (my-ns.servicebus.windows.net)')
    .transform((v) => (v.includes('.') ? v : `${v}${SERVICEBUS_PUBLIC_CLOUD_SUFFIX}`))
    .optional(),
  SERVICEBUS_TOPIC: z.string().min(1).default('send-order-confirmation-sms'),
  SERVICEBUS_SUBSCRIPTION: z.string().min(1).default('sms-service'),
  SERVICEBUS_MAX_CONCURRENT_CALLS: z.coerce.number().int().min(1).max(1000).default(10),
  SERVICEBUS_START_RETRY_DELAYS_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be comma-separated milliseconds, e.g. 1000,2000,4000')
    .transform((v) => v.split(',').map(Number))
    .default([1000, 2000, 4000]),
  SERVICEBUS_START_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  SERVICEBUS_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  BRIDGE_HEALTH_PORT: port.default(3001),
});
type BridgeEnv = z.infer<typeof bridgeEnv> & Pick<z.infer<typeof azureEnv>, 'AZURE_CLIENT_ID'>;

export interface ServiceBusConfig {
  /**
   * A connection string, or a namespace host reached with DefaultAzureCredential (Entra ID), which
   * takes the user-assigned managed identity's client id (AZURE_CLIENT_ID) when there is one.
   */
  auth: { connectionString: string } | { namespace: string; managedIdentityClientId?: string };
  topic: string;
  subscription: string;
  maxConcurrentCalls: number;
  /**
   * Waits between workflow start attempts while starts fail (the last one repeats: the bridge
   * holds its messages for as long as Temporal fails, see docs/adr/0005-bridge-outage.md).
   */
  startRetryDelaysMs: number[];
  /** Each start attempt's deadline. */
  startTimeoutMs: number;
  maxBodyBytes: number;
  healthPort: number;
}

export function checkBridge(env: BridgeEnv, ctx: z.RefinementCtx): void {
  if (env.SERVICEBUS_CONNECTION_STRING && env.SERVICEBUS_NAMESPACE) {
    ctx.addIssue({
      code: 'custom',
      path: ['SERVICEBUS_NAMESPACE'],
      message: 'set either SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE (Azure AD), not both',
    });
  }
}

export function serviceBusConfig(env: BridgeEnv): ServiceBusConfig | undefined {
  const auth = env.SERVICEBUS_CONNECTION_STRING
    ? { connectionString: env.SERVICEBUS_CONNECTION_STRING }
    : env.SERVICEBUS_NAMESPACE
      ? {
          namespace: env.SERVICEBUS_NAMESPACE,
          ...(env.AZURE_CLIENT_ID ? { managedIdentityClientId: env.AZURE_CLIENT_ID } : {}),
        }
      : undefined;
  if (!auth) return undefined;
  return {
    auth,
    topic: env.SERVICEBUS_TOPIC,
    subscription: env.SERVICEBUS_SUBSCRIPTION,
    maxConcurrentCalls: env.SERVICEBUS_MAX_CONCURRENT_CALLS,
    startRetryDelaysMs: env.SERVICEBUS_START_RETRY_DELAYS_MS,
    startTimeoutMs: env.SERVICEBUS_START_TIMEOUT_MS,
    maxBodyBytes: env.SERVICEBUS_MAX_BODY_BYTES,
    healthPort: env.BRIDGE_HEALTH_PORT,
  };
}
