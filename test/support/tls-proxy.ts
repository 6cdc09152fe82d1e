import net from 'node:net';
import tls from 'node:tls';
import { pipeToTarget } from './tcp-proxy';
import type { CertPair } from './tls-certs';

export interface TlsProxy {
  /** 127.0.0.1:port: its certificate names another host, so clients need the server-name override. */
  address: string;
  /** Subjects (CN) of the client certificates the proxy accepted. */
  acceptedClients: string[];
  /** Why handshakes failed on the proxy's side (OpenSSL's reason codes). */
  refusals: string[];
  close(): Promise<void>;
}

/**
 * A TLS-terminating TCP proxy in front of the plaintext dev server, standing in for a frontend that
 * requires mTLS (Temporal Cloud, or a self-hosted frontend with requireClientAuth): it asks every
 * client for a certificate issued by `clientCa`, refuses the handshake otherwise, and forwards the
 * decrypted HTTP/2 to `target`.
 */
export async function startTlsProxy(options: {
  target: string;
  server: CertPair;
  clientCa: string;
}): Promise<TlsProxy> {
  const sockets = new Set<net.Socket>();
  const acceptedClients: string[] = [];
  const refusals: string[] = [];

  const server = tls.createServer(
    {
      cert: options.server.crt,
      key: options.server.key,
      ca: options.clientCa,
      requestCert: true,
      rejectUnauthorized: true,
      // gRPC clients (grpc-js, and the worker's tonic/rustls) negotiate HTTP/2 through ALPN.
      ALPNProtocols: ['h2'],
    },
    (client) => {
      const subject = client.getPeerCertificate().subject;
      acceptedClients.push(String(subject?.CN ?? ''));
      pipeToTarget(client, options.target, sockets);
    },
  );
  server.on('tlsClientError', (err: Error & { code?: string }) => {
    refusals.push(err.code ?? err.message);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as net.AddressInfo;

  return {
    address: `127.0.0.1:${proxyPort}`,
    acceptedClients,
    refusals,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
