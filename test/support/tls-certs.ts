import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CertPair {
  crt: string;
  key: string;
}

export interface TestPki {
  /** The private CA (its certificate only: what a client trusts, and what the server checks clients against). */
  ca: string;
  /** The server's certificate, issued by the CA for `serverName` only (not for 127.0.0.1). */
  server: CertPair;
  serverName: string;
  /** A client certificate issued by the CA. */
  client: CertPair;
  /** A self-signed client certificate: well-formed, but no CA the server trusts vouches for it. */
  rogueClient: CertPair;
}

/**
 * A throwaway PKI made with the openssl CLI (node:crypto reads certificates but cannot issue them).
 * EC P-256 keys, PKCS#8 PEM, one day of validity.
 */
export function makeTestPki(serverName = 'temporal.test.internal'): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-pki-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
  const newKey = (name: string) =>
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
  try {
    newKey('ca.key');
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=sms test CA',
      '-days',
      '1',
      '-out',
      'ca.crt',
    );
    const issue = (name: string, subject: string, ext: string) => {
      newKey(`${name}.key`);
      openssl('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
      fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.crt`,
      );
      return { crt: read(`${name}.crt`), key: read(`${name}.key`) };
    };
    const server = issue(
      'server',
      `/CN=${serverName}`,
      `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
    );
    const client = issue(
      'client',
      '/CN=sms-worker',
      'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n',
    );
    newKey('rogue.key');
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      'rogue.key',
      '-subj',
      '/CN=sms-worker',
      '-days',
      '1',
      '-addext',
      'extendedKeyUsage=clientAuth',
      '-out',
      'rogue.crt',
    );
    return {
      ca: read('ca.crt'),
      server,
      serverName,
      client,
      rogueClient: { crt: read('rogue.crt'), key: read('rogue.key') },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
