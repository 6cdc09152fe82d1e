import { ConfigError, loadConfig } from '../../../config';
import { temporalConnectionOptions, temporalTlsOptions } from '../../../temporal/connection-options';
import { makeTestPki } from '../../support/tls-certs';

const pki = makeTestPki();

/** loadConfig's problems, one string each (an empty list when the environment is accepted). */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('Temporal TLS settings in loadConfig', () => {
  test('no TLS variable: plaintext, as against the local dev server', () => {
    expect(loadConfig({}).temporal.tls).toBe(false);
    expect(temporalConnectionOptions(loadConfig({}).temporal)).toEqual({
      address: '127.0.0.1:7233',
      tls: undefined,
      apiKey: undefined,
    });
  });

  test('TEMPORAL_TLS=true or an API key: TLS with the system roots and nothing else', () => {
    expect(temporalTlsOptions(loadConfig({ TEMPORAL_TLS: 'true' }).temporal)).toEqual({});
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_API_KEY: 'k' }).temporal)).toEqual({
      address: '127.0.0.1:7233',
      tls: {},
      apiKey: 'k',
    });
  });

  test('the mTLS pair, private CA and server name become the SDK option object', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_TLS_CERT: pki.client.crt,
      TEMPORAL_TLS_KEY: pki.client.key,
      TEMPORAL_TLS_CA: pki.ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const options = temporalConnectionOptions(config.temporal);
    expect(options.address).toBe('ns.acct.tmprl.cloud:7233');
    expect(options.apiKey).toBeUndefined();
    expect(Object.keys(options.tls ?? {}).sort()).toEqual([
      'clientCertPair',
      'serverNameOverride',
      'serverRootCACertificate',
    ]);
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toBe(pki.client.crt.trim());
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toBe(pki.client.key.trim());
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toBe(pki.ca.trim());
    expect(options.tls!.serverNameOverride).toBe('temporal.internal');
  });

  test('a CA or a server name alone is TLS without a client certificate', () => {
    expect(temporalTlsOptions(loadConfig({ TEMPORAL_TLS_CA: pki.ca }).temporal)).toEqual({
      serverRootCACertificate: Buffer.from(pki.ca.trim()),
    });
    expect(temporalTlsOptions(loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'x.internal' }).temporal)).toEqual({
      serverNameOverride: 'x.internal',
    });
    // An API key over TLS to a private CA (a self-hosted frontend behind an authorizer) is sensible.
    expect(problems({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS_CA: pki.ca })).toEqual([]);
  });

  test('a PEM written on one line with \\n escapes gets its line breaks back', () => {
    const oneLine = (v: string) => v.trim().replace(/\n/g, '\\n');
    const config = loadConfig({
      TEMPORAL_TLS_CERT: oneLine(pki.client.crt),
      TEMPORAL_TLS_KEY: oneLine(pki.client.key),
    });
    expect(config.temporal.tls && config.temporal.tls.clientCert).toEqual({
      crt: pki.client.crt.trim(),
      key: pki.client.key.trim(),
    });
  });

  test('a certificate without its key, or a key without its certificate, is refused', () => {
    expect(problems({ TEMPORAL_TLS_CERT: pki.client.crt })).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS_KEY: is required with TEMPORAL_TLS_CERT/),
    ]);
    expect(problems({ TEMPORAL_TLS_KEY: pki.client.key })).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS_CERT: is required with TEMPORAL_TLS_KEY/),
    ]);
  });

  test('a value that is not PEM contents (a path, base64 DER) is refused, naming the variable', () => {
    expect(
      problems({
        TEMPORAL_TLS_CERT: '/run/secrets/client.pem',
        TEMPORAL_TLS_KEY: 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg',
        TEMPORAL_TLS_CA: 'ca.pem',
      }),
    ).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS_CERT: must be PEM contents/),
      expect.stringMatching(/^TEMPORAL_TLS_KEY: must be PEM contents/),
      expect.stringMatching(/^TEMPORAL_TLS_CA: must be PEM contents/),
    ]);
  });

  test('a key that is not the certificate’s, or PEM that does not parse, is refused without quoting the key', () => {
    const mismatched = problems({ TEMPORAL_TLS_CERT: pki.client.crt, TEMPORAL_TLS_KEY: pki.rogueClient.key });
    expect(mismatched).toEqual(['TEMPORAL_TLS_KEY: is not the key of the certificate in TEMPORAL_TLS_CERT']);

    const garbled = problems({
      TEMPORAL_TLS_CERT: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----',
      TEMPORAL_TLS_KEY: '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----',
    });
    expect(garbled).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS_CERT: is not a readable PEM certificate/),
      expect.stringMatching(/^TEMPORAL_TLS_KEY: is not a readable, unencrypted PEM private key/),
    ]);
    expect(garbled.join('\n')).not.toContain('c2VjcmV0LWtleS1ieXRlcw');
  });

  test('an mTLS client certificate together with an API key is refused', () => {
    expect(
      problems({
        TEMPORAL_API_KEY: 'k',
        TEMPORAL_TLS_CERT: pki.client.crt,
        TEMPORAL_TLS_KEY: pki.client.key,
      }),
    ).toEqual([
      expect.stringMatching(/^TEMPORAL_API_KEY: set either TEMPORAL_API_KEY or the client certificate/),
    ]);
  });

  test('TEMPORAL_TLS=false beside a TLS variable is a contradiction, refused', () => {
    expect(problems({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: pki.ca })).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS: is false, but a TEMPORAL_TLS_\* value is set/),
    ]);
  });
});
