import net from 'node:net';

export interface TcpProxy {
  /** host:port to give the client under test. */
  address: string;
  /** Drops every open connection and refuses new ones: the server looks down from the client's side. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a shared server (the run's one Temporal dev server), so one test can take
 * the server away from its client for a while without stopping it for every other test file.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let down = false;

  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    pipeToTarget(client, target, sockets);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as net.AddressInfo;

  return {
    address: `127.0.0.1:${proxyPort}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Joins an accepted client connection to a new one to `target` (host:port), both ways; either side
 * failing ends both. Both sockets are kept in `sockets` while open, so the proxy can drop them.
 */
export function pipeToTarget(client: net.Socket, target: string, sockets: Set<net.Socket>): void {
  const i = target.lastIndexOf(':');
  const upstream = net.connect({ host: target.slice(0, i), port: Number(target.slice(i + 1)) });
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
  client.pipe(upstream).pipe(client);
}
