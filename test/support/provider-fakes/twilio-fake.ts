import type { TwilioProviderOptions } from '../../../providers/twilio/twilio-provider';
import { formBody, twilioHeaders } from '../webhook-signing';
import {
  randomHex,
  startFakeServer,
  type FakeControls,
  type FakeReply,
  type FakeRequest,
  type InjectedError,
} from './fake-server';

export interface TwilioFakeMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  statusCallback?: string;
  status: string;
  dateCreated: Date;
  dateSent: Date | null;
}

export interface TwilioFakeNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  smsUrl?: string;
  smsMethod?: string;
  purchasedAt: Date;
  releasedAt?: Date;
}

export interface TwilioFake extends FakeControls {
  readonly accountSid: string;
  readonly authToken: string;
  /** Every message Twilio accepted (a 201 was produced, whether or not the client saw it). */
  messages(): TwilioFakeMessage[];
  /** Every number ever bought, released ones included (see `releasedAt`). */
  purchases(): TwilioFakeNumber[];
  /** Numbers currently owned. */
  ownedNumbers(): TwilioFakeNumber[];
}

const API_VERSION = '2010-04-01';
/** Countries the fake has inventory for, with the prefix its numbers get. */
const INVENTORY: Record<string, { prefix: string; length: number }> = {
  US: { prefix: '+1628', length: 12 },
  CA: { prefix: '+1438', length: 12 },
  GB: { prefix: '+447700', length: 13 },
};

/** Twilio's "Wed, 01 May 2024 12:00:00 +0000". */
function rfc2822(date: Date | null): string | null {
  return date ? date.toUTCString().replace('GMT', '+0000') : null;
}

function twilioError(status: number, code: number | undefined, message: string): FakeReply {
  return {
    status,
    json: {
      code: code ?? null,
      message,
      more_info: code ? `https://www.twilio.com/docs/errors/${code}` : null,
      status,
    },
  };
}

/**
 * A Twilio REST API (2010-04-01) on 127.0.0.1 speaking exactly the endpoints the adapter's SDK
 * calls: Messages (create, list with paging), AvailablePhoneNumbers/{cc}/Local, IncomingPhoneNumbers
 * (create, list, fetch, delete). Bodies follow Twilio's documented JSON.
 */
export async function startTwilioFake(
  options: {
    accountSid?: string;
    authToken?: string;
    /** Caps PageSize, to make the SDK follow next_page_uri links with few records. */
    maxPageSize?: number;
    /**
     * false: accepted messages stay `queued` with no date_sent (a backlog at Twilio), so DateSent
     * filters do not see them. Default true: the fake's carrier takes them at once.
     */
    dispatch?: boolean;
  } = {},
): Promise<TwilioFake> {
  const accountSid = options.accountSid ?? `AC${randomHex(32)}`;
  const authToken = options.authToken ?? randomHex(32);
  const messages: TwilioFakeMessage[] = [];
  const numbers: TwilioFakeNumber[] = [];
  const accountPath = `/${API_VERSION}/Accounts/${accountSid}`;

  const messageJson = (m: TwilioFakeMessage, view: { status: string; dateSent: Date | null }) => ({
    account_sid: accountSid,
    api_version: API_VERSION,
    body: m.body,
    date_created: rfc2822(m.dateCreated),
    date_sent: rfc2822(view.dateSent),
    date_updated: rfc2822(view.dateSent ?? m.dateCreated),
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: m.from,
    messaging_service_sid: null,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: view.status,
    subresource_uris: { media: `${accountPath}/Messages/${m.sid}/Media.json` },
    to: m.to,
    uri: `${accountPath}/Messages/${m.sid}.json`,
  });

  const numberJson = (n: TwilioFakeNumber) => ({
    account_sid: accountSid,
    address_requirements: 'none',
    api_version: API_VERSION,
    beta: false,
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    date_created: rfc2822(n.purchasedAt),
    date_updated: rfc2822(n.purchasedAt),
    friendly_name: n.friendlyName,
    origin: 'twilio',
    phone_number: n.phoneNumber,
    sid: n.sid,
    sms_method: n.smsMethod ?? 'POST',
    sms_url: n.smsUrl ?? '',
    status: 'in-use',
    status_callback: '',
    uri: `${accountPath}/IncomingPhoneNumbers/${n.sid}.json`,
    voice_url: '',
  });

  const owned = () => numbers.filter((n) => !n.releasedAt);

  /** Twilio's page envelope: `key` holds the records, paging links are relative URIs. */
  const paged = (req: FakeRequest, key: string, records: unknown[]): FakeReply => {
    const pageSize = Math.min(
      Math.max(Number(req.query.get('PageSize') ?? 50) || 50, 1),
      options.maxPageSize ?? 1000,
    );
    const page = Math.max(Number(req.query.get('Page') ?? 0) || 0, 0);
    const slice = records.slice(page * pageSize, (page + 1) * pageSize);
    const link = (p: number) => {
      const q = new URLSearchParams(req.query);
      q.set('PageSize', String(pageSize));
      q.set('Page', String(p));
      q.set('PageToken', `PA${randomHex(8)}`);
      return `${req.path}?${q.toString()}`;
    };
    const first = new URLSearchParams(req.query);
    first.set('PageSize', String(pageSize));
    first.set('Page', '0');
    return {
      status: 200,
      json: {
        [key]: slice,
        end: page * pageSize + Math.max(slice.length - 1, 0),
        first_page_uri: `${req.path}?${first.toString()}`,
        next_page_uri: (page + 1) * pageSize < records.length ? link(page + 1) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? link(page - 1) : null,
        start: page * pageSize,
        uri: `${req.path}?${req.query.toString()}`,
      },
    };
  };

  const createMessage = (req: FakeRequest): FakeReply => {
    const to = String(req.body.To ?? '');
    const from = String(req.body.From ?? '');
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!from) return twilioError(400, 21603, "A 'From' phone number is required.");
    const message: TwilioFakeMessage = {
      sid: `SM${randomHex(32)}`,
      to,
      from,
      body: String(req.body.Body ?? ''),
      statusCallback: req.body.StatusCallback === undefined ? undefined : String(req.body.StatusCallback),
      status: 'queued',
      dateCreated: new Date(),
      dateSent: null,
    };
    messages.push(message);
    const reply: FakeReply = {
      status: 201,
      json: messageJson(message, { status: 'queued', dateSent: null }),
    };
    if (options.dispatch !== false) {
      // The fake's carrier is instant: by the next read the message has left the queue.
      message.status = 'sent';
      message.dateSent = new Date();
    }
    return reply;
  };

  const listMessages = (req: FakeRequest): FakeReply => {
    const q = req.query;
    const at = (name: string) => (q.get(name) ? new Date(q.get(name) as string) : null);
    const after = at('DateSent>');
    const before = at('DateSent<');
    const on = q.get('DateSent');
    const records = messages
      .filter((m) => !q.get('To') || m.to === q.get('To'))
      .filter((m) => !q.get('From') || m.from === q.get('From'))
      // Like Twilio, date filters apply to date_sent: a message still queued has none and is not listed.
      .filter((m) => !after || (m.dateSent !== null && m.dateSent.getTime() >= after.getTime()))
      .filter((m) => !before || (m.dateSent !== null && m.dateSent.getTime() < before.getTime()))
      .filter(
        (m) => !on || (m.dateSent !== null && m.dateSent.toISOString().slice(0, 10) === on.slice(0, 10)),
      )
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())
      .map((m) => messageJson(m, m));
    return paged(req, 'messages', records);
  };

  const availableNumbers = (req: FakeRequest, country: string): FakeReply => {
    const inventory = INVENTORY[country];
    if (!inventory) {
      return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
    }
    const taken = new Set(owned().map((n) => n.phoneNumber));
    const offers: unknown[] = [];
    while (offers.length < 20) {
      const rest = inventory.length - inventory.prefix.length;
      const tail = `${2 + Math.floor(Math.random() * 8)}${String(Math.floor(Math.random() * 10 ** (rest - 1))).padStart(rest - 1, '0')}`;
      const phoneNumber = `${inventory.prefix}${tail}`;
      if (taken.has(phoneNumber)) continue;
      offers.push({
        friendly_name: phoneNumber,
        phone_number: phoneNumber,
        lata: null,
        locality: null,
        rate_center: null,
        latitude: null,
        longitude: null,
        region: null,
        postal_code: null,
        iso_country: country,
        address_requirements: 'none',
        beta: false,
        capabilities: { voice: true, SMS: true, MMS: true, fax: false },
      });
    }
    return paged(req, 'available_phone_numbers', offers);
  };

  const buyNumber = (req: FakeRequest): FakeReply => {
    const phoneNumber = String(req.body.PhoneNumber ?? '');
    if (!/^\+\d{8,15}$/.test(phoneNumber)) {
      return twilioError(400, 21421, 'PhoneNumber is invalid.');
    }
    if (owned().some((n) => n.phoneNumber === phoneNumber)) {
      return twilioError(400, 21422, 'PhoneNumber requested is not available');
    }
    const number: TwilioFakeNumber = {
      sid: `PN${randomHex(32)}`,
      phoneNumber,
      friendlyName: req.body.FriendlyName === undefined ? phoneNumber : String(req.body.FriendlyName),
      smsUrl: req.body.SmsUrl === undefined ? undefined : String(req.body.SmsUrl),
      smsMethod: req.body.SmsMethod === undefined ? undefined : String(req.body.SmsMethod),
      purchasedAt: new Date(),
    };
    numbers.push(number);
    return { status: 201, json: numberJson(number) };
  };

  const route = (req: FakeRequest): FakeReply => {
    if (!req.path.startsWith(`${accountPath}/`)) {
      return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
    }
    const rest = req.path.slice(accountPath.length);
    const key = `${req.method} ${rest}`;
    if (key === 'POST /Messages.json') return createMessage(req);
    if (key === 'GET /Messages.json') return listMessages(req);
    const available = /^GET \/AvailablePhoneNumbers\/([A-Z]{2})\/Local\.json$/.exec(key);
    if (available) return availableNumbers(req, available[1]);
    if (key === 'POST /IncomingPhoneNumbers.json') return buyNumber(req);
    if (key === 'GET /IncomingPhoneNumbers.json') {
      const friendlyName = req.query.get('FriendlyName');
      const phoneNumber = req.query.get('PhoneNumber');
      return paged(
        req,
        'incoming_phone_numbers',
        owned()
          .filter((n) => friendlyName === null || n.friendlyName === friendlyName)
          .filter((n) => phoneNumber === null || n.phoneNumber === phoneNumber)
          .map(numberJson),
      );
    }
    const one = /^(GET|DELETE) \/IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(key);
    if (one) {
      const number = owned().find((n) => n.sid === one[2]);
      if (!number) return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
      if (one[1] === 'GET') return { status: 200, json: numberJson(number) };
      number.releasedAt = new Date();
      return { status: 204 };
    }
    return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
  };

  const controls = await startFakeServer({
    parseBody: (raw) => Object.fromEntries(new URLSearchParams(raw)),
    authorized: (_req, credentials) =>
      credentials?.username === accountSid && credentials.password === authToken,
    unauthorized: () => twilioError(401, 20003, 'Authenticate'),
    errorReply: (_req, error: InjectedError) =>
      error.rawBody !== undefined
        ? { status: error.status, raw: error.rawBody }
        : twilioError(
            error.status,
            error.code === undefined ? undefined : Number(error.code),
            error.message ?? `injected HTTP ${error.status}`,
          ),
    isSend: (req) => req.method === 'POST' && req.path === `${accountPath}/Messages.json`,
    recipientOf: (req) => (req.body.To === undefined ? undefined : String(req.body.To)),
    route,
    // Twilio's StatusCallback: a form POST signed with the account's auth token over the exact URL.
    statusCallbacks: (req, reply, statuses) => {
      const url = req.body.StatusCallback === undefined ? '' : String(req.body.StatusCallback);
      const sid = (reply.json as { sid?: string } | undefined)?.sid;
      if (!url || !sid) return [];
      return statuses.map((status) => {
        const fields = {
          MessageSid: sid,
          SmsSid: sid,
          MessageStatus: status,
          SmsStatus: status,
          AccountSid: accountSid,
          From: String(req.body.From ?? ''),
          To: String(req.body.To ?? ''),
          ApiVersion: API_VERSION,
        };
        return { url, headers: twilioHeaders(authToken, url, fields), body: formBody(fields), status };
      });
    },
  });

  return Object.assign(controls, {
    accountSid,
    authToken,
    messages: () => [...messages],
    purchases: () => [...numbers],
    ownedNumbers: owned,
  });
}

/** The environment that points a worker's Twilio SDK at this fake. */
export function twilioEnv(
  fake: Pick<TwilioFake, 'accountSid' | 'authToken' | 'baseUrl'>,
): Record<string, string> {
  return {
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_API_BASE_URL: fake.baseUrl,
  };
}

/** The options that point a TwilioProvider (the adapter itself, no worker) at this fake. */
export function twilioProviderOptions(
  fake: Pick<TwilioFake, 'accountSid' | 'authToken' | 'baseUrl'>,
): Pick<TwilioProviderOptions, 'accountSid' | 'authToken' | 'apiBaseUrl'> {
  return { accountSid: fake.accountSid, authToken: fake.authToken, apiBaseUrl: fake.baseUrl };
}
