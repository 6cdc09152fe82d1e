import { randomUUID } from 'node:crypto';
import type { PlivoProviderOptions } from '../../../providers/plivo/plivo-provider';
import { formBody, plivoV2Headers } from '../webhook-signing';
import {
  randomHex,
  startFakeServer,
  type FakeControls,
  type FakeReply,
  type FakeRequest,
  type InjectedError,
} from './fake-server';

export interface PlivoFakeMessage {
  uuid: string;
  /** As Plivo stores them: digits, no '+'. */
  src: string;
  dst: string;
  text: string;
  url?: string;
  method?: string;
  state: string;
  time: Date;
}

export interface PlivoFakeNumber {
  number: string;
  alias: string;
  appId: string | null;
  purchasedAt: Date;
  releasedAt?: Date;
}

export interface PlivoFakeApplication {
  appId: string;
  appName: string;
  messageUrl: string;
  messageMethod: string;
}

export interface PlivoFake extends FakeControls {
  readonly authId: string;
  readonly authToken: string;
  /** Every message Plivo accepted (a 202 was produced, whether or not the client saw it). */
  messages(): PlivoFakeMessage[];
  /** Every number ever bought, released ones included. */
  purchases(): PlivoFakeNumber[];
  ownedNumbers(): PlivoFakeNumber[];
  applications(): PlivoFakeApplication[];
  /**
   * Puts `count` numbers on the account as if rented long ago, ahead of every later purchase in the
   * lists (as on a real account, a new number is not on the first pages); `shape(i)` gives each its
   * alias and application. For tests of accounts with hundreds of numbers.
   */
  seedOwnedNumbers(
    count: number,
    shape?: (i: number) => { alias?: string; appId?: string | null },
  ): PlivoFakeNumber[];
}

const INVENTORY: Record<string, { prefix: string; digits: number; country: string }> = {
  US: { prefix: '1628', digits: 11, country: 'UNITED STATES' },
  CA: { prefix: '1438', digits: 11, country: 'CANADA' },
  GB: { prefix: '447700', digits: 12, country: 'UNITED KINGDOM' },
};

const onlyDigits = (s: string) => s.replace(/\D/g, '');

/** Plivo's "2024-05-01 12:00:00.123456+00:00" (its MDR timestamps; the fake's account runs on UTC). */
function plivoTime(date: Date): string {
  const iso = date.toISOString(); // 2024-05-01T12:00:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000+00:00`;
}

/** Plivo's filter format "YYYY-MM-DD HH:MM[:ss[.uuuuuu]]", read as UTC. */
function parseFilterTime(value: string): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})(:\d{2}(\.\d{1,6})?)?$/.exec(value.trim());
  if (!m) return null;
  const seconds = m[3] ? m[3].slice(0, 7) : ':00';
  return new Date(`${m[1]}T${m[2]}${seconds.padEnd(3, '0')}Z`);
}

function plivoError(status: number, error: string): FakeReply {
  return { status, json: { api_id: randomUUID(), error } };
}

/**
 * Plivo's REST API (v1) on 127.0.0.1 for the endpoints the adapter uses: Message (send, list),
 * PhoneNumber (search, buy), Number (list, get, update alias/app, unrent) and Application (list,
 * create, update). JSON in, JSON out, like Plivo; list bodies carry `meta` and `objects`.
 */
export async function startPlivoFake(
  options: { authId?: string; authToken?: string } = {},
): Promise<PlivoFake> {
  const authId = options.authId ?? `MA${randomHex(18).toUpperCase()}`;
  const authToken = options.authToken ?? randomHex(40);
  const accountPath = `/v1/Account/${authId}`;
  const messages: PlivoFakeMessage[] = [];
  const numbers: PlivoFakeNumber[] = [];
  const applications: PlivoFakeApplication[] = [];
  const owned = () => numbers.filter((n) => !n.releasedAt);

  const list = (req: FakeRequest, objects: unknown[]): FakeReply => {
    const limit = Math.min(Math.max(Number(req.query.get('limit') ?? 20) || 20, 1), 20);
    const offset = Math.max(Number(req.query.get('offset') ?? 0) || 0, 0);
    const link = (o: number) => {
      const q = new URLSearchParams(req.query);
      q.set('limit', String(limit));
      q.set('offset', String(o));
      return `${req.path}?${q.toString()}`;
    };
    return {
      status: 200,
      json: {
        api_id: randomUUID(),
        meta: {
          limit,
          next: offset + limit < objects.length ? link(offset + limit) : null,
          offset,
          previous: offset > 0 ? link(Math.max(offset - limit, 0)) : null,
          total_count: objects.length,
        },
        objects: objects.slice(offset, offset + limit),
      },
    };
  };

  const messageJson = (m: PlivoFakeMessage) => ({
    error_code: '',
    from_number: m.src,
    message_direction: 'outbound',
    message_state: m.state,
    message_time: plivoTime(m.time),
    message_type: 'sms',
    message_uuid: m.uuid,
    resource_uri: `${accountPath}/Message/${m.uuid}/`,
    to_number: m.dst,
    total_amount: '0.00000',
    total_rate: '0.00500',
    units: 1,
    // Like the real API, the text is never returned.
  });

  const numberJson = (n: PlivoFakeNumber) => ({
    added_on: n.purchasedAt.toISOString().slice(0, 10),
    alias: n.alias || null,
    application: n.appId ? `${accountPath}/Application/${n.appId}/` : null,
    carrier: 'Plivo',
    monthly_rental_rate: '0.80000',
    number: n.number,
    number_type: 'local',
    region: null,
    resource_uri: `${accountPath}/Number/${n.number}/`,
    sms_enabled: true,
    sms_rate: '0.00000',
    sub_account: null,
    voice_enabled: true,
    voice_rate: '0.00850',
  });

  const applicationJson = (a: PlivoFakeApplication) => ({
    answer_method: 'POST',
    answer_url: null,
    app_id: a.appId,
    app_name: a.appName,
    application_type: 'XML',
    default_app: false,
    default_endpoint_app: false,
    enabled: true,
    message_method: a.messageMethod,
    message_url: a.messageUrl,
    resource_uri: `${accountPath}/Application/${a.appId}/`,
    sub_account: null,
  });

  const sendMessage = (req: FakeRequest): FakeReply => {
    const src = typeof req.body.src === 'string' ? req.body.src : '';
    const dst = typeof req.body.dst === 'string' ? req.body.dst : '';
    if (!src) return plivoError(400, 'src parameter not found');
    if (!dst) return plivoError(400, 'dst parameter not found');
    if (typeof req.body.text !== 'string' || req.body.text === '') {
      return plivoError(400, 'text parameter not found');
    }
    const message: PlivoFakeMessage = {
      uuid: randomUUID(),
      src: onlyDigits(src),
      dst: onlyDigits(dst),
      text: req.body.text,
      url: typeof req.body.url === 'string' ? req.body.url : undefined,
      method: typeof req.body.method === 'string' ? req.body.method : undefined,
      state: 'queued',
      time: new Date(),
    };
    messages.push(message);
    const reply: FakeReply = {
      status: 202,
      json: { api_id: randomUUID(), message: 'message(s) queued', message_uuid: [message.uuid] },
    };
    message.state = 'sent'; // the fake's carrier is instant
    return reply;
  };

  const listMessages = (req: FakeRequest): FakeReply => {
    const q = req.query;
    const bound = (name: string) => (q.get(name) ? parseFilterTime(q.get(name) as string) : null);
    for (const name of ['message_time__gt', 'message_time__gte', 'message_time__lt', 'message_time__lte']) {
      if (q.get(name) && !bound(name)) return plivoError(400, `${name} is not a valid date-time`);
    }
    const gt = bound('message_time__gt');
    const gte = bound('message_time__gte');
    const lt = bound('message_time__lt');
    const lte = bound('message_time__lte');
    const objects = messages
      .filter(() => !q.get('message_direction') || q.get('message_direction') === 'outbound')
      .filter((m) => !q.get('from_number') || m.src === onlyDigits(q.get('from_number') as string))
      .filter((m) => !q.get('to_number') || m.dst === onlyDigits(q.get('to_number') as string))
      .filter((m) => !q.get('message_state') || m.state === q.get('message_state'))
      .filter((m) => !gt || m.time > gt)
      .filter((m) => !gte || m.time >= gte)
      .filter((m) => !lt || m.time < lt)
      .filter((m) => !lte || m.time <= lte)
      .sort((a, b) => b.time.getTime() - a.time.getTime())
      .map(messageJson);
    return list(req, objects);
  };

  const searchNumbers = (req: FakeRequest): FakeReply => {
    const iso = req.query.get('country_iso');
    if (!iso) return plivoError(400, 'country_iso is required');
    const inventory = INVENTORY[iso.toUpperCase()];
    if (!inventory) return list(req, []);
    const taken = new Set(owned().map((n) => n.number));
    const offers: unknown[] = [];
    while (offers.length < 20) {
      const rest = inventory.digits - inventory.prefix.length;
      const number = `${inventory.prefix}${2 + Math.floor(Math.random() * 8)}${String(
        Math.floor(Math.random() * 10 ** (rest - 1)),
      ).padStart(rest - 1, '0')}`;
      if (taken.has(number)) continue;
      offers.push({
        city: null,
        country: inventory.country,
        lata: null,
        monthly_rental_rate: '0.80000',
        number,
        prefix: inventory.prefix.slice(-3),
        rate_center: null,
        region: null,
        resource_uri: `${accountPath}/PhoneNumber/${number}/`,
        restriction: null,
        restriction_text: null,
        setup_rate: '0.00000',
        sms_enabled: true,
        sms_rate: '0.00000',
        sub_type: 'local',
        type: 'local',
        voice_enabled: true,
        voice_rate: '0.00850',
      });
    }
    return list(req, offers);
  };

  const buyNumber = (req: FakeRequest, number: string): FakeReply => {
    if (owned().some((n) => n.number === number)) return plivoError(400, 'number is not available');
    const appId = typeof req.body.app_id === 'string' ? req.body.app_id : null;
    if (appId && !applications.some((a) => a.appId === appId))
      return plivoError(404, 'application not found');
    numbers.push({ number, alias: '', appId, purchasedAt: new Date() });
    return {
      status: 201,
      json: {
        api_id: randomUUID(),
        message: 'created',
        numbers: [{ number, status: 'Success' }],
        status: 'fulfilled',
      },
    };
  };

  const route = (req: FakeRequest): FakeReply => {
    if (!req.path.startsWith(`${accountPath}/`)) return plivoError(404, 'not found');
    const rest = req.path.slice(accountPath.length);
    const key = `${req.method} ${rest}`;
    if (key === 'POST /Message/') return sendMessage(req);
    if (key === 'GET /Message/') return listMessages(req);
    if (key === 'GET /PhoneNumber/') return searchNumbers(req);
    const buy = /^POST \/PhoneNumber\/(\d{6,15})\/$/.exec(key);
    if (buy) return buyNumber(req, buy[1]);
    if (key === 'GET /Number/') {
      const alias = req.query.get('alias');
      const startsWith = req.query.get('number_startswith');
      return list(
        req,
        owned()
          .filter((n) => alias === null || n.alias === alias)
          .filter((n) => startsWith === null || n.number.startsWith(startsWith))
          .map(numberJson),
      );
    }
    const one = /^(GET|POST|DELETE) \/Number\/(\d{6,15})\/$/.exec(key);
    if (one) {
      const number = owned().find((n) => n.number === one[2]);
      if (!number) return plivoError(404, 'not found');
      if (one[1] === 'GET') return { status: 200, json: { api_id: randomUUID(), ...numberJson(number) } };
      if (one[1] === 'DELETE') {
        number.releasedAt = new Date();
        return { status: 204 };
      }
      if (typeof req.body.alias === 'string') number.alias = req.body.alias;
      if (typeof req.body.app_id === 'string') number.appId = req.body.app_id;
      return { status: 202, json: { api_id: randomUUID(), message: 'changed' } };
    }
    if (key === 'GET /Application/') {
      const appName = req.query.get('app_name');
      return list(
        req,
        applications.filter((a) => appName === null || a.appName === appName).map(applicationJson),
      );
    }
    if (key === 'POST /Application/') {
      if (typeof req.body.app_name !== 'string' || req.body.app_name === '') {
        return plivoError(400, 'app_name parameter not found');
      }
      const app: PlivoFakeApplication = {
        appId: String(10 ** 16 + Math.floor(Math.random() * 9 * 10 ** 16)),
        appName: req.body.app_name,
        messageUrl: typeof req.body.message_url === 'string' ? req.body.message_url : '',
        messageMethod: typeof req.body.message_method === 'string' ? req.body.message_method : 'POST',
      };
      applications.push(app);
      return { status: 201, json: { api_id: randomUUID(), app_id: app.appId, message: 'created' } };
    }
    const app = /^(GET|POST) \/Application\/(\d+)\/$/.exec(key);
    if (app) {
      const found = applications.find((a) => a.appId === app[2]);
      if (!found) return plivoError(404, 'not found');
      if (app[1] === 'GET') return { status: 200, json: { api_id: randomUUID(), ...applicationJson(found) } };
      if (typeof req.body.message_url === 'string') found.messageUrl = req.body.message_url;
      if (typeof req.body.message_method === 'string') found.messageMethod = req.body.message_method;
      return { status: 202, json: { api_id: randomUUID(), message: 'changed' } };
    }
    return plivoError(404, 'not found');
  };

  const controls = await startFakeServer({
    parseBody: (raw, contentType) => {
      if (contentType?.includes('application/x-www-form-urlencoded')) {
        return Object.fromEntries(new URLSearchParams(raw));
      }
      try {
        const parsed: unknown = JSON.parse(raw);
        return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    },
    authorized: (_req, credentials) => credentials?.username === authId && credentials.password === authToken,
    unauthorized: () => plivoError(401, 'authentication failed'),
    errorReply: (_req, error: InjectedError) =>
      error.rawBody !== undefined
        ? { status: error.status, raw: error.rawBody }
        : plivoError(error.status, error.message ?? `injected HTTP ${error.status}`),
    isSend: (req) => req.method === 'POST' && req.path === `${accountPath}/Message/`,
    recipientOf: (req) => (typeof req.body.dst === 'string' ? req.body.dst : undefined),
    route,
    // Plivo's message callback (the send's `url`): a form POST signed V2, as Plivo signs them.
    statusCallbacks: (req, reply, statuses) => {
      const url = typeof req.body.url === 'string' ? req.body.url : '';
      const [uuid] = (reply.json as { message_uuid?: string[] } | undefined)?.message_uuid ?? [];
      if (!url || !uuid) return [];
      return statuses.map((status) => {
        const fields = {
          MessageUUID: uuid,
          Status: status,
          From: onlyDigits(String(req.body.src ?? '')),
          To: onlyDigits(String(req.body.dst ?? '')),
          ErrorCode: '',
          Units: '1',
          MessageTime: plivoTime(new Date()),
        };
        return { url, headers: plivoV2Headers(authToken, url), body: formBody(fields), status };
      });
    },
  });

  return Object.assign(controls, {
    authId,
    authToken,
    messages: () => [...messages],
    purchases: () => [...numbers],
    ownedNumbers: owned,
    applications: () => [...applications],
    seedOwnedNumbers(
      count: number,
      shape: (i: number) => { alias?: string; appId?: string | null } = () => ({}),
    ) {
      const taken = new Set(numbers.map((n) => n.number));
      const rentedAt = new Date(Date.now() - 365 * 24 * 3_600_000);
      const seeded: PlivoFakeNumber[] = [];
      // A prefix of their own (1629…), so they never collide with what searchNumbers offers (1628…).
      for (let i = 0; seeded.length < count; i++) {
        const number = `1629${String(i).padStart(7, '0')}`;
        if (taken.has(number)) continue;
        const { alias = '', appId = null } = shape(seeded.length);
        seeded.push({ number, alias, appId, purchasedAt: rentedAt });
      }
      numbers.unshift(...seeded);
      return seeded;
    },
  });
}

/** The environment that points a worker's Plivo SDK at this fake. */
export function plivoEnv(fake: Pick<PlivoFake, 'authId' | 'authToken' | 'baseUrl'>): Record<string, string> {
  return {
    SMS_PROVIDER: 'plivo',
    PLIVO_AUTH_ID: fake.authId,
    PLIVO_AUTH_TOKEN: fake.authToken,
    PLIVO_API_BASE_URL: fake.baseUrl,
  };
}

/** The options that point a PlivoProvider (the adapter itself, no worker) at this fake. */
export function plivoProviderOptions(
  fake: Pick<PlivoFake, 'authId' | 'authToken' | 'baseUrl'>,
): Pick<PlivoProviderOptions, 'authId' | 'authToken' | 'apiBaseUrl'> {
  return { authId: fake.authId, authToken: fake.authToken, apiBaseUrl: fake.baseUrl };
}
