/**
 * The Temporal server's own Prometheus counters (the dev server's --metrics-port): what the bench
 * reads to count server round trips by kind (frontend `service_requests` by operation) and the
 * server's own billable-action estimate (`action` by action_type) over a phase.
 */
export type Counters = Map<string, number>;

const SERIES = /^(service_requests|action)\{([^}]*)\}\s+([0-9.eE+-]+)$/;

/** The counters of one namespace's frontend requests and actions, keyed `requests:<op>` / `actions:<type>`. */
export function parseServerCounters(text: string, namespace: string): Counters {
  const out: Counters = new Map();
  for (const line of text.split('\n')) {
    const m = SERIES.exec(line.trim());
    if (!m) continue;
    const labels = Object.fromEntries(
      [...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]] as [string, string]),
    );
    if (labels.namespace !== namespace) continue;
    let key: string | undefined;
    if (m[1] === 'service_requests' && labels.service_name === 'frontend')
      key = `requests:${labels.operation}`;
    if (m[1] === 'action') key = `actions:${labels.action_type}`;
    if (key) out.set(key, (out.get(key) ?? 0) + Number(m[3]));
  }
  return out;
}

export async function scrapeServerCounters(url: string, namespace: string): Promise<Counters> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!r.ok) throw new Error(`${url} answered HTTP ${r.status}`);
  return parseServerCounters(await r.text(), namespace);
}

/**
 * (after − before) / per for one prefix, rounded to hundredths, without the kinds that did not
 * move by at least 0.01 per unit; the largest first.
 */
export function perUnit(
  before: Counters,
  after: Counters,
  prefix: string,
  per: number,
): Record<string, number> {
  const rows: Array<[string, number]> = [];
  for (const [key, value] of after) {
    if (!key.startsWith(`${prefix}:`)) continue;
    const v = Math.round(((value - (before.get(key) ?? 0)) / per) * 100) / 100;
    if (v >= 0.01) rows.push([key.slice(prefix.length + 1), v]);
  }
  return Object.fromEntries(rows.sort((a, b) => b[1] - a[1]));
}
