import path from 'node:path';
import { attachAbortSignal } from '../provider-call';

/**
 * The places where the adapter works around the plivo SDK (4.x) rather than just calling it:
 * loading it without the process-wide side effect it has on axios (and with the abort-signal hook its
 * requests lack), and reaching its request function directly for the Application/ endpoints, which
 * its own interface mishandles. All lean on SDK
 * internals (dist/ paths, option names), so they live here, next to each other, and nowhere else.
 */

type PlivoModule = typeof import('plivo');

/** The SDK's own request function (rest/axios.js behind its camel-casing wrapper). */
export type PlivoRequest = (
  method: 'GET' | 'POST' | 'DELETE',
  action: string,
  params?: Record<string, unknown>,
) => Promise<{ body: Record<string, unknown> }>;

interface AxiosDefaults {
  defaults: { httpAgent?: unknown; httpsAgent?: unknown };
  interceptors: {
    request: { use(onFulfilled: <C extends { signal?: unknown }>(config: C) => C): number };
  };
}

let plivoModule: PlivoModule | undefined;

/**
 * Loads the plivo SDK without letting it reconfigure the process. On load, plivo/dist/rest/axios.js
 * sets `axios.defaults.httpAgent` / `httpsAgent` on the shared axios singleton to its own keep-alive
 * agents (60 s socket timeout), which every other axios user in the process would then inherit.
 * The previous defaults are put back; if plivo was already loaded by someone else, its agents are
 * recognised by their `freeSocketTimeout` option (not a Node option: only plivo sets it) and removed.
 * Plivo then uses Node's global agents, like any other client.
 */
export function loadPlivo(): PlivoModule {
  if (plivoModule) return plivoModule;
  const axios = sharedAxios();
  const before = { httpAgent: axios.defaults.httpAgent, httpsAgent: axios.defaults.httpsAgent };
  const alreadyLoaded = require.resolve('plivo') in require.cache;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, to snapshot axios defaults first
    plivoModule = require('plivo') as PlivoModule;
  } finally {
    if (!alreadyLoaded) {
      axios.defaults.httpAgent = before.httpAgent;
      axios.defaults.httpsAgent = before.httpsAgent;
    }
    if (isPlivoAgent(axios.defaults.httpAgent)) axios.defaults.httpAgent = undefined;
    if (isPlivoAgent(axios.defaults.httpsAgent)) axios.defaults.httpsAgent = undefined;
  }
  // The SDK takes no abort signal and sends every request through the shared axios instance; this
  // interceptor gives each request the signal of the adapter operation it runs in (providerCall),
  // so a cancelled attempt's request is aborted on the wire. Outside such an operation (any other
  // axios user in the process) it changes nothing: no signal is in scope there.
  axios.interceptors.request.use(attachAbortSignal);
  return plivoModule;
}

/** The axios module instance plivo itself resolves (the same singleton other packages get). */
function sharedAxios(): AxiosDefaults {
  const plivoDir = path.dirname(require.resolve('plivo'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- plivo's own axios, resolved from its location
  return require(require.resolve('axios', { paths: [plivoDir] })) as AxiosDefaults;
}

function isPlivoAgent(agent: unknown): boolean {
  const options = (agent as { options?: { freeSocketTimeout?: unknown } } | undefined)?.options;
  return options?.freeSocketTimeout === 30000;
}

/**
 * For Application/: the SDK's ApplicationInterface marks its calls as "voice" requests, which
 * ignores the `url` option (always https://api.plivo.com) and console.logs every create. The same
 * SDK request function, built with the client's options, avoids both.
 */
export function sdkRequest(options: {
  url: string;
  timeout: number;
  authId: string;
  authToken: string;
}): PlivoRequest {
  loadPlivo();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped SDK internals, loaded after loadPlivo()
  const { Axios } = require('plivo/dist/rest/axios.js') as {
    Axios: (config: Record<string, unknown>) => unknown;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped SDK internals, loaded after loadPlivo()
  const { camelCaseRequestWrapper } = require('plivo/dist/rest/utils.js') as {
    camelCaseRequestWrapper: (fn: unknown) => PlivoRequest;
  };
  return camelCaseRequestWrapper(
    Axios({
      ...options,
      // What plivo.Client adds itself before calling Axios(): the API version and a user agent.
      version: 'v1',
      userAgent: `plivo-node (sms-order-confirmation; Node: ${process.version})`,
    }),
  );
}
