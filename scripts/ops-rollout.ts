import os from 'node:os';
import { LOCAL_API_TOKEN } from '../config';
import { PROVIDER_NAMES } from '../domain/enums';
import { ORDER_CONFIRMATION_SMS_FLAG as FLAG } from '../rollout/control';
import {
  EXIT,
  OPS,
  parseOptions,
  positiveIntArg,
  UsageError,
  type OpsCommand,
  type OpsIo,
} from './ops-common';

/**
 * The rollout commands (issue 21): the SMS flag and the pauses. They go through the API, not to SQL
 * or Temporal directly, so every change is validated and audited in one place and a resume wakes
 * the paused orders: API_URL (default http://127.0.0.1:$PORT, PORT 3000) and API_TOKEN (default the
 * local stack's). The audit trail's "who" is --by, else $OPS_ACTOR, else the login name.
 */

export const ROLLOUT_EXIT_CODES_TEXT = `exit codes: 0 done, 64 bad usage or the API refused the request (400),
  69 the API did not answer (or answered 5xx), 70 unexpected error, 78 the API refused API_TOKEN (401)`;

const ENV_TEXT = `The API is API_URL (default http://127.0.0.1:$PORT, PORT default 3000), with API_TOKEN. The audit
trail records --by, else $OPS_ACTOR, else your login name.`;

const REQUEST_TIMEOUT_MS = 15_000;

/** An API answer the command reports and exits on. */
class ApiProblem extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface ApiCall {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  body?: object;
}

async function callApi<T>(call: ApiCall): Promise<T> {
  const base = process.env.API_URL || `http://127.0.0.1:${process.env.PORT || '3000'}`;
  const url = new URL(call.path, base.endsWith('/') ? base : `${base}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method: call.method,
      headers: {
        authorization: `Bearer ${process.env.API_TOKEN || LOCAL_API_TOKEN}`,
        ...(call.body ? { 'content-type': 'application/json' } : {}),
      },
      body: call.body ? JSON.stringify(call.body) : undefined,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const cause =
      err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new ApiProblem(`the API at ${url.origin} did not answer: ${cause}`, EXIT.unavailable);
  }
  const text = await res.text();
  const json = parseJson(text);
  if (res.ok) return json as T;
  const problem = json as
    { message?: string; fields?: Array<{ field: string; message: string }> } | undefined;
  const fields = problem?.fields?.map((f) => `  ${f.field}: ${f.message}`).join('\n');
  const message = `the API answered ${res.status}: ${problem?.message ?? text.slice(0, 200)}${fields ? `\n${fields}` : ''}`;
  if (res.status === 401) throw new ApiProblem(`${message} (check API_TOKEN)`, EXIT.config);
  if (res.status >= 500) throw new ApiProblem(message, EXIT.unavailable);
  throw new ApiProblem(message, EXIT.usage);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Runs a command's API work, turning an ApiProblem into its message and exit code. */
async function reported(io: OpsIo, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    io.err(`${err.message}\n`);
    return err.exitCode;
  }
}

function actor(by: string | undefined): string {
  const fromEnv = process.env.OPS_ACTOR;
  if (by) return by;
  if (fromEnv) return fromEnv;
  try {
    return os.userInfo().username;
  } catch {
    return 'ops-cli';
  }
}

function reasonArg(value: string | undefined): string {
  if (!value?.trim()) throw new UsageError('--reason is required: it goes into the audit trail');
  return value;
}

const changeOptions = {
  reason: { type: 'string' },
  by: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

// ---- flags ----------------------------------------------------------------------------------------

const FLAGS_USAGE = `usage: ${OPS} flags <get|set|venue|audit> [options]
The ${FLAG} flag: a global switch, a rollout percentage of venues (stable buckets: raising it
keeps the venues already in) and per-venue overrides. Changes reach every process within
ROLLOUT_CACHE_MS (2 s by default); the monolith's cached answers within 5 minutes.
  flags get [--venue N] [--json]          the definition and overrides; with --venue, that venue's answer
  flags set [--percent N] [--on|--off] --reason TEXT [--by WHO] [--json]
                                          change the percentage (0-100) and/or the global switch
  flags venue <venueId> --on|--off|--clear --reason TEXT [--by WHO] [--json]
                                          force one venue on or off, or give it back to its bucket
  flags audit [--limit N] [--json]        the latest changes to the flag and the pauses, newest first
${ENV_TEXT}
${ROLLOUT_EXIT_CODES_TEXT}`;

interface Definition {
  enabled: boolean;
  rolloutPercent: number;
  stored: boolean;
  updatedAt: string | null;
  updatedBy: string | null;
  overrides: Array<{
    venueId: number;
    enabled: boolean;
    reason: string;
    updatedBy: string;
    updatedAt: string;
  }>;
}

interface AuditItem {
  changedAt: string;
  changedBy: string;
  subject: string;
  action: string;
  from: unknown;
  to: unknown;
  reason: string;
}

const flagPath = `api/flags/${FLAG}`;

async function flagsGet(args: string[], io: OpsIo): Promise<number> {
  const { values } = parseOptions(args, {
    venue: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const venueId = positiveIntArg(values.venue, '--venue');
  if (venueId !== undefined) {
    const answer = await callApi<{ enabled: boolean; reason: string }>({
      method: 'GET',
      path: `${flagPath}?venueId=${venueId}`,
    });
    if (values.json) io.out(JSON.stringify({ venueId, ...answer }));
    else io.out(`venue ${venueId}: ${answer.enabled ? 'on' : 'off'} (${answer.reason})`);
    return EXIT.ok;
  }
  const def = await callApi<Definition>({ method: 'GET', path: `${flagPath}/definition` });
  if (values.json) {
    io.out(JSON.stringify(def));
    return EXIT.ok;
  }
  const since = def.stored
    ? ` (set by ${def.updatedBy ?? '?'} at ${def.updatedAt ?? '?'})`
    : ' (never set: the default)';
  io.out(`${FLAG}: ${def.enabled ? 'on' : 'OFF for every venue'}, ${def.rolloutPercent} % of venues${since}`);
  if (def.overrides.length === 0) io.out('overrides: none');
  for (const o of def.overrides) {
    io.out(
      `override: venue ${o.venueId} ${o.enabled ? 'on' : 'off'} (${o.reason}; ${o.updatedBy} at ${o.updatedAt})`,
    );
  }
  return EXIT.ok;
}

async function flagsSet(args: string[], io: OpsIo): Promise<number> {
  const { values } = parseOptions(args, {
    percent: { type: 'string' },
    on: { type: 'boolean' },
    off: { type: 'boolean' },
    ...changeOptions,
  });
  if (values.on && values.off) throw new UsageError('--on and --off exclude each other');
  let rolloutPercent: number | undefined;
  if (values.percent !== undefined) {
    rolloutPercent = Number(values.percent);
    if (!(
      values.percent.trim() !== '' &&
      Number.isInteger(rolloutPercent) &&
      rolloutPercent >= 0 &&
      rolloutPercent <= 100
    )) {
      throw new UsageError('--percent must be a whole number from 0 to 100');
    }
  }
  const enabled = values.on ? true : values.off ? false : undefined;
  if (enabled === undefined && rolloutPercent === undefined)
    throw new UsageError('give --percent, --on or --off');
  const reason = reasonArg(values.reason);
  const result = await callApi<{
    enabled: boolean;
    rolloutPercent: number;
    changed: boolean;
    previous: { enabled: boolean; rolloutPercent: number };
  }>({
    method: 'PUT',
    path: flagPath,
    body: { enabled, rolloutPercent, reason, changedBy: actor(values.by) },
  });
  if (values.json) io.out(JSON.stringify(result));
  else {
    const state = (s: { enabled: boolean; rolloutPercent: number }) =>
      `${s.enabled ? 'on' : 'off'} at ${s.rolloutPercent} %`;
    io.out(
      result.changed
        ? `${FLAG}: ${state(result.previous)} → ${state(result)}`
        : `${FLAG}: already ${state(result)}, nothing changed`,
    );
  }
  return EXIT.ok;
}

async function flagsVenue(args: string[], io: OpsIo): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { on: { type: 'boolean' }, off: { type: 'boolean' }, clear: { type: 'boolean' }, ...changeOptions },
    true,
  );
  if (positionals.length !== 1) throw new UsageError('name one venue id');
  const venueId = positiveIntArg(positionals[0], 'venueId') ?? 0;
  const chosen = [values.on, values.off, values.clear].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError('give exactly one of --on, --off, --clear');
  const reason = reasonArg(values.reason);
  const changedBy = actor(values.by);
  const result = await callApi<{ override: boolean | null; previous: boolean | null; changed: boolean }>(
    values.clear
      ? { method: 'DELETE', path: `${flagPath}/venues/${venueId}`, body: { reason, changedBy } }
      : {
          method: 'PUT',
          path: `${flagPath}/venues/${venueId}`,
          body: { enabled: !!values.on, reason, changedBy },
        },
  );
  const name = (v: boolean | null) => (v === null ? 'no override' : v ? 'forced on' : 'forced off');
  if (values.json) io.out(JSON.stringify({ venueId, ...result }));
  else
    io.out(
      result.changed
        ? `venue ${venueId}: ${name(result.previous)} → ${name(result.override)}`
        : `venue ${venueId}: already ${name(result.override)}, nothing changed`,
    );
  return EXIT.ok;
}

async function flagsAudit(args: string[], io: OpsIo): Promise<number> {
  const { values } = parseOptions(args, {
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const limit = positiveIntArg(values.limit, '--limit') ?? 20;
  const { items } = await callApi<{ items: AuditItem[] }>({
    method: 'GET',
    path: `api/rollout/audit?limit=${limit}`,
  });
  if (values.json) io.out(JSON.stringify({ items }));
  else
    for (const e of items) {
      io.out(
        `${e.changedAt} ${e.changedBy} ${e.action} ${e.subject} ${JSON.stringify(e.from)} → ${JSON.stringify(e.to)}: ${e.reason}`,
      );
    }
  return EXIT.ok;
}

export const flagsCommand: OpsCommand = {
  name: 'flags',
  summary: `show or change the ${FLAG} flag (global switch, percentage, venue overrides)`,
  usage: FLAGS_USAGE,
  run(_connect, args, io) {
    const [sub, ...rest] = args;
    const subcommands: Record<string, (a: string[], o: OpsIo) => Promise<number>> = {
      get: flagsGet,
      set: flagsSet,
      venue: flagsVenue,
      audit: flagsAudit,
    };
    const handler = sub === undefined ? undefined : subcommands[sub];
    if (!handler) throw new UsageError(sub === undefined ? 'name a subcommand' : `unknown subcommand ${sub}`);
    return reported(io, () => handler(rest, io));
  },
};

// ---- pause / resume / pauses ----------------------------------------------------------------------

const scopeOptions = {
  global: { type: 'boolean' },
  provider: { type: 'string' },
  venue: { type: 'string' },
  ...changeOptions,
} as const;

const SCOPE_TEXT = `  --global | --provider ${PROVIDER_NAMES.join('|')} | --venue N   what to pause (exactly one)
  --reason TEXT   why (required, audited)     --by WHO   who (audited)     --json   one JSON document`;

interface PauseJson {
  scope: string;
  provider?: string;
  venueId?: number;
  reason: string;
  pausedBy: string;
  pausedAt: string;
}

type Scope = Pick<PauseJson, 'scope' | 'provider' | 'venueId'>;

function scopeOf(values: { global?: boolean; provider?: string; venue?: string }): Scope {
  const given = [values.global, values.provider, values.venue].filter((v) => v !== undefined && v !== false);
  if (given.length !== 1) throw new UsageError('give exactly one of --global, --provider P, --venue N');
  if (values.global) return { scope: 'global' };
  if (values.provider !== undefined) return { scope: 'provider', provider: values.provider };
  return { scope: 'venue', venueId: positiveIntArg(values.venue, '--venue') };
}

function describe(p: Pick<PauseJson, 'scope' | 'provider' | 'venueId'>): string {
  return p.scope === 'global'
    ? 'all sends'
    : p.scope === 'provider'
      ? `provider ${p.provider}`
      : `venue ${p.venueId}`;
}

function pauseLine(p: PauseJson): string {
  return `${describe(p)} paused since ${p.pausedAt} by ${p.pausedBy}: ${p.reason}`;
}

export const pauseCommand: OpsCommand = {
  name: 'pause',
  summary: 'hold SMS sends globally, for a provider or a venue (orders wait, none are lost)',
  usage: `usage: ${OPS} pause (--global | --provider P | --venue N) --reason TEXT [--by WHO] [--json]
Holds sends: every worker sees the pause within ROLLOUT_CACHE_MS (2 s by default). Orders in its
scope wait in their workflows (SmsOutcome=paused) and go out after \`resume\`, at the provider's
send rate; an order still paused after MAX_EVENT_AGE_HOURS ends expired. Pausing what is already
paused keeps the first pause.
${SCOPE_TEXT}
${ENV_TEXT}
${ROLLOUT_EXIT_CODES_TEXT}`,
  run(_connect, args, io) {
    const { values } = parseOptions(args, scopeOptions);
    const body = { ...scopeOf(values), reason: reasonArg(values.reason), changedBy: actor(values.by) };
    return reported(io, async () => {
      const result = await callApi<{ pause: PauseJson; created: boolean; providerConfigured?: boolean }>({
        method: 'POST',
        path: 'api/pause',
        body,
      });
      if (values.json) io.out(JSON.stringify(result));
      else {
        io.out(
          result.created
            ? `paused: ${pauseLine(result.pause)}`
            : `already paused: ${pauseLine(result.pause)}`,
        );
        if (result.providerConfigured === false) {
          io.err(
            `note: this deployment does not send through ${result.pause.provider}; the pause applies if it ever does\n`,
          );
        }
      }
      return EXIT.ok;
    });
  },
};

export const resumeCommand: OpsCommand = {
  name: 'resume',
  summary: 'lift a pause and wake the orders it held',
  usage: `usage: ${OPS} resume (--global | --provider P | --venue N) --reason TEXT [--by WHO] [--json]
Lifts exactly that pause (--global leaves provider and venue pauses in force) and wakes the paused
orders in its scope; they go out at the provider's send rate. Resuming what is not paused still
wakes them (safe to repeat).
${SCOPE_TEXT}
${ENV_TEXT}
${ROLLOUT_EXIT_CODES_TEXT}`,
  run(_connect, args, io) {
    const { values } = parseOptions(args, scopeOptions);
    const target = scopeOf(values);
    const body = { ...target, reason: reasonArg(values.reason), changedBy: actor(values.by) };
    return reported(io, async () => {
      const result = await callApi<{ lifted: PauseJson | null; stillPaused: PauseJson[] }>({
        method: 'POST',
        path: 'api/resume',
        body,
      });
      if (values.json) io.out(JSON.stringify(result));
      else {
        io.out(result.lifted ? `resumed: ${describe(result.lifted)}` : `${describe(target)} was not paused`);
        for (const p of result.stillPaused) io.out(`still paused: ${pauseLine(p)}`);
      }
      return EXIT.ok;
    });
  },
};

export const pausesCommand: OpsCommand = {
  name: 'pauses',
  summary: 'list the pauses in force',
  usage: `usage: ${OPS} pauses [--json]
Lists the pauses in force, oldest first. The Web UI shows the orders they hold: SmsOutcome="paused".
${ENV_TEXT}
${ROLLOUT_EXIT_CODES_TEXT}`,
  run(_connect, args, io) {
    const { values } = parseOptions(args, { json: { type: 'boolean', default: false } });
    return reported(io, async () => {
      const { pauses } = await callApi<{ pauses: PauseJson[] }>({ method: 'GET', path: 'api/pause' });
      if (values.json) io.out(JSON.stringify({ pauses }));
      else if (pauses.length === 0) io.out('no pauses: sends flow');
      else for (const p of pauses) io.out(pauseLine(p));
      return EXIT.ok;
    });
  },
};
