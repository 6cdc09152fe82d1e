import type { TLSConfig } from '@temporalio/client';
import type { TemporalConfig } from '../config';

/**
 * The SDK's `tls` option for our config: undefined (plaintext), `{}` (TLS with the system's roots,
 * Temporal Cloud with an API key), or the mTLS pair, private CA and server-name override.
 */
export function temporalTlsOptions(config: Pick<TemporalConfig, 'tls'>): TLSConfig | undefined {
  const { tls } = config;
  if (!tls) return undefined;
  return {
    ...(tls.clientCert
      ? { clientCertPair: { crt: Buffer.from(tls.clientCert.crt), key: Buffer.from(tls.clientCert.key) } }
      : {}),
    ...(tls.serverRootCa ? { serverRootCACertificate: Buffer.from(tls.serverRootCa) } : {}),
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
  };
}

/**
 * What both connections take from config, the client's (`Connection`, API and bridge) and the
 * worker's (`NativeConnection`), so the two authenticate the same way.
 */
export function temporalConnectionOptions(config: Pick<TemporalConfig, 'address' | 'tls' | 'apiKey'>): {
  address: string;
  tls: TLSConfig | undefined;
  apiKey: string | undefined;
} {
  return { address: config.address, tls: temporalTlsOptions(config), apiKey: config.apiKey };
}

/** For start-up logs: how the connection authenticates, never with what. */
export function temporalAuthMode(
  config: Pick<TemporalConfig, 'tls' | 'apiKey'>,
): 'mtls' | 'api-key' | 'tls' | 'none' {
  if (config.apiKey !== undefined) return 'api-key';
  if (!config.tls) return 'none';
  return config.tls.clientCert ? 'mtls' : 'tls';
}
