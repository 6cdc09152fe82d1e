import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useResource } from '../lifecycle';

/** One parsed API call as a route sees it. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Form fields (Twilio) or the JSON object (Plivo); {} when there is no body. */
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

/** What a route answers: a JSON body, or `raw` text sent as is (an HTML error page from a proxy, say). */
export interface FakeReply {
  status: number;
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export type RequestOutcome = 'ok' | 'error' | 'injected' | 'unauthorized' | 'dropped' | 'abandoned';

/** A status callback as the provider posts it: to the URL the send named, signed. */
export interface StatusCallback {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The provider's status word it carries ("sent", "delivered"). */
  status: string;
}

/** A status callback the fake posted, and the HTTP status it was answered with (0: no answer). */
export interface PostedCallback {
  url: string;
  status: string;
  answer: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
  /** Status written to the socket; absent when the socket was dropped or the client left. */
  status?: number;
  outcome?: RequestOutcome;
}

/** An error answer injected by a test, shaped into the provider's error body by the fake. */
export interface InjectedError {
  status: number;
  /** Provider error code (Twilio "21610"); providers without codes ignore it. */
  code?: number | string;
  message?: string;
  /** Send this text instead of the provider's JSON error body (e.g. a load balancer's 503 page). */
  rawBody?: string;
}

/**
 * `number`: the next N API calls. `{ to }`: the next `times` (default 1) sends to that recipient.
 * `{ path }`: the next `times` calls whose path contains `path` (and use `method`, when given).
 */
export type FailTarget = number | { to: string; times?: number } | PathTarget;

/** The next `times` (default 1) calls whose path contains `path` (and use `method`, when given). */
export interface PathTarget {
  path: string;
  method?: string;
  times?: number;
}

export interface FakeControls {
  readonly baseUrl: string;
  /** Every call that reached the server, in arrival order (auth failures included). */
  readonly requests: readonly LoggedRequest[];
  /** Answer the targeted calls with `error` instead of handling them. */
  fail(target: FailTarget, error: InjectedError): void;
  /**
   * Hold the next `times` calls (default 1), or the next calls `target` names, for `ms` before
   * handling them. A call whose client gave up meanwhile is not handled at all: a timeout here means
   * "never reached the provider".
   */
  delay(ms: number, target?: number | PathTarget): void;
  /** The next `times` sends (default 1) are accepted and stored, then the socket is destroyed unanswered. */
  acceptThenDrop(times?: number): void;
  /**
   * Random faults on top of the targeted ones, until changed (all 0 turns them off): each call is
   * answered with `error` (default HTTP 503) with probability `errorRate`; each successful send is
   * accepted, stored, then dropped unanswered with probability `dropRate`. For chaos runs.
   */
  randomFaults(faults: { errorRate?: number; dropRate?: number; error?: InjectedError }): void;
  /**
   * From now on (null: no more), every accepted send first posts a status callback for each of
   * `statuses` to the URL the send named — `reach` turns that public URL into one this process can
   * call — and answers the API call only once they were answered: a provider whose callbacks outrun
   * its API answer.
   */
  callbacksBeforeAnswer(options: { statuses: string[]; reach(url: string): string } | null): void;
  /** Every status callback posted, in order. */
  readonly postedCallbacks: readonly PostedCallback[];
  /** Resolves once no call is being held or handled. */
  settled(): Promise<void>;
  /** Clears injected faults, callbacks before answers and the logs; stored state stays. */
  resetFaults(): void;
  stop(): Promise<void>;
}

export interface FakeServerSpec {
  /** Parses the body bytes for a content type. */
  parseBody(raw: string, contentType: string | undefined): Record<string, unknown>;
  /** Basic-auth check for the call; false answers `unauthorized()`. */
  authorized(req: FakeRequest, credentials: { username: string; password: string } | null): boolean;
  unauthorized(req: FakeRequest): FakeReply;
  /** The provider's error body for an injected fault. */
  errorReply(req: FakeRequest, error: InjectedError): FakeReply;
  /** True for "create a message" calls (targets of acceptThenDrop and `fail({ to })`). */
  isSend(req: FakeRequest): boolean;
  /** Recipient of a send, for `fail({ to })`. */
  recipientOf(req: FakeRequest): string | undefined;
  route(req: FakeRequest, baseUrl: string): FakeReply;
  /** The provider's signed status callbacks for an accepted send (none when it named no URL). */
  statusCallbacks(req: FakeRequest, reply: FakeReply, statuses: string[]): StatusCallback[];
}

interface MatchFault {
  matches(req: FakeRequest): boolean;
  remaining: number;
  error: InjectedError;
}

interface Delay {
  ms: number;
  remaining: number;
  /** Absent: whatever call comes next. */
  matches?: (req: FakeRequest) => boolean;
}

const digits = (s: string) => s.replace(/\D/g, '');

function pathMatcher(target: PathTarget): (req: FakeRequest) => boolean {
  return (req) =>
    req.path.includes(target.path) && (!target.method || target.method.toUpperCase() === req.method);
}

export async function startFakeServer(spec: FakeServerSpec): Promise<FakeControls> {
  const requests: LoggedRequest[] = [];
  let nextFailures: { remaining: number; error: InjectedError }[] = [];
  let matchFaults: MatchFault[] = [];
  let delays: Delay[] = [];
  let drops = 0;
  let random: { errorRate: number; dropRate: number; error: InjectedError } = {
    errorRate: 0,
    dropRate: 0,
    error: { status: 503 },
  };
  let callbacksFirst: { statuses: string[]; reach(url: string): string } | null = null;
  const postedCallbacks: PostedCallback[] = [];
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  const timers = new Set<{ timer: NodeJS.Timeout; release: () => void }>();
  let baseUrl = '';

  const finish = () => {
    inFlight -= 1;
    if (inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      waiters.forEach((w) => w());
    }
  };

  /** Waits `ms`, or less when `release` is called (the client left, or the fake stops). */
  const hold = (ms: number, onRelease: (release: () => void) => void) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => release(), ms),
        release: () => release(),
      };
      const release = () => {
        clearTimeout(entry.timer);
        timers.delete(entry);
        resolve();
      };
      timers.add(entry);
      onRelease(release);
    });

  const takeInjected = (req: FakeRequest): InjectedError | null => {
    const head = nextFailures[0];
    if (head) {
      head.remaining -= 1;
      if (head.remaining <= 0) nextFailures.shift();
      return head.error;
    }
    const fault = matchFaults.find((f) => f.matches(req));
    if (!fault) return null;
    fault.remaining -= 1;
    if (fault.remaining <= 0) matchFaults = matchFaults.filter((f) => f !== fault);
    return fault.error;
  };

  const write = (
    res: http.ServerResponse,
    entry: LoggedRequest,
    reply: FakeReply,
    outcome: RequestOutcome,
  ) => {
    entry.status = reply.status;
    entry.outcome = outcome;
    if (reply.raw !== undefined) {
      res.writeHead(reply.status, { 'content-type': 'text/html', ...reply.headers });
      res.end(reply.raw);
    } else if (reply.json === undefined) {
      res.writeHead(reply.status, { ...reply.headers });
      res.end();
    } else {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.json));
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const parsed: FakeRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      body: raw === '' ? {} : spec.parseBody(raw, req.headers['content-type']),
      headers: req.headers,
    };
    const entry: LoggedRequest = {
      method: parsed.method,
      path: parsed.path,
      query: Object.fromEntries(url.searchParams),
      body: parsed.body,
    };
    requests.push(entry);
    let clientGone = false;
    let releaseHold: (() => void) | undefined;
    res.on('close', () => {
      if (res.writableEnded) return;
      clientGone = true;
      releaseHold?.();
    });

    const delay = delays.find((d) => !d.matches || d.matches(parsed));
    if (delay) {
      delay.remaining -= 1;
      if (delay.remaining <= 0) delays = delays.filter((d) => d !== delay);
      await hold(delay.ms, (release) => {
        releaseHold = release;
      });
      if (clientGone || res.destroyed || req.socket.destroyed) {
        entry.outcome = 'abandoned';
        return;
      }
    }

    if (!spec.authorized(parsed, basicCredentials(req.headers.authorization))) {
      write(res, entry, spec.unauthorized(parsed), 'unauthorized');
      return;
    }
    const injected = takeInjected(parsed) ?? (Math.random() < random.errorRate ? random.error : null);
    if (injected) {
      write(res, entry, spec.errorReply(parsed, injected), 'injected');
      return;
    }
    const reply = spec.route(parsed, baseUrl);
    if (callbacksFirst && spec.isSend(parsed) && reply.status < 300) {
      const { statuses, reach } = callbacksFirst;
      for (const callback of spec.statusCallbacks(parsed, reply, statuses)) {
        const answer = await fetch(reach(callback.url), {
          method: 'POST',
          headers: callback.headers,
          body: callback.body,
        }).then(
          async (res) => (await res.arrayBuffer(), res.status),
          () => 0,
        );
        postedCallbacks.push({ url: callback.url, status: callback.status, answer });
      }
    }
    const randomDrop = spec.isSend(parsed) && reply.status < 300 && Math.random() < random.dropRate;
    if (spec.isSend(parsed) && reply.status < 300 && (drops > 0 || randomDrop)) {
      if (!randomDrop) drops -= 1;
      entry.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    write(res, entry, reply, reply.status < 400 ? 'ok' : 'error');
  };

  const server = http.createServer((req, res) => {
    inFlight += 1;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8'))
        .catch((err: unknown) => {
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`fake crashed: ${String(err)}`);
          }
        })
        .finally(finish);
    });
    req.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    requests,
    fail(target, error) {
      if (typeof target === 'number') {
        nextFailures.push({ remaining: target, error });
      } else if ('to' in target) {
        const matches = (req: FakeRequest) => {
          const to = spec.isSend(req) ? spec.recipientOf(req) : undefined;
          return to !== undefined && digits(to) === digits(target.to);
        };
        matchFaults.push({ matches, remaining: target.times ?? 1, error });
      } else {
        matchFaults.push({ matches: pathMatcher(target), remaining: target.times ?? 1, error });
      }
    },
    delay(ms, target = 1) {
      delays.push(
        typeof target === 'number'
          ? { ms, remaining: target }
          : { ms, remaining: target.times ?? 1, matches: pathMatcher(target) },
      );
    },
    acceptThenDrop(times = 1) {
      drops += times;
    },
    randomFaults(faults) {
      random = {
        errorRate: faults.errorRate ?? 0,
        dropRate: faults.dropRate ?? 0,
        error: faults.error ?? { status: 503 },
      };
    },
    callbacksBeforeAnswer(options) {
      callbacksFirst = options;
    },
    postedCallbacks,
    settled() {
      return inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    resetFaults() {
      nextFailures = [];
      matchFaults = [];
      delays = [];
      drops = 0;
      random = { errorRate: 0, dropRate: 0, error: { status: 503 } };
      callbacksFirst = null;
      requests.length = 0;
      postedCallbacks.length = 0;
    },
    async stop() {
      for (const t of [...timers]) t.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A fake (startTwilioFake, startPlivoFake) for the enclosing suite, started in beforeAll and stopped
 * after, its injected faults and request log cleared after every test.
 */
export function useFake<F extends FakeControls>(start: () => Promise<F>): F {
  let live: F | undefined;
  const fake = useResource(
    async () => (live = await start()),
    async (started) => {
      live = undefined;
      await started.stop();
    },
  );
  afterEach(() => live?.resetFaults());
  return fake;
}

function basicCredentials(header: string | undefined): { username: string; password: string } | null {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? null : { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** Polls `condition` until it holds (or throws after `timeoutMs`): waiting on state, never on the clock alone. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 5_000, intervalMs = 10, what = 'condition' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function randomHex(length: number): string {
  let out = '';
  while (out.length < length)
    out += Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return out.slice(0, length);
}
