import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createMetrics, SEND_FAILURE_OUTCOMES } from '../../runtime/metrics';

/**
 * What promtool cannot know about the rules file: every metric name in every expression against
 * the names the code registers (renaming a metric without updating the rules fails this test), each
 * alert's runbook section, and the conventions of its labels and annotations. Whether Prometheus
 * parses the rules and each alert fires is promtool's job: test/unit/promtool.test.ts.
 */
const ROOT = path.resolve(__dirname, '../..');
const rulesFile = fs.readFileSync(path.join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8');
const runbook = fs.readFileSync(path.join(ROOT, 'docs/runbook.md'), 'utf8');

interface Rule {
  alert?: unknown;
  record?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}
const doc = parse(rulesFile) as { groups: Array<{ name: unknown; rules: Rule[] }> };
const rules = doc.groups.flatMap((g) => g.rules);

/** Names a scrape of our registry shows: histograms as their _bucket, _sum and _count series. */
function registeredNames(): Set<string> {
  const names = new Set<string>();
  for (const metric of createMetrics().registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

/** Identifiers that are not metric names: PromQL functions, keywords and label names. */
const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'rate',
  'increase',
  'absent',
  'time',
  'histogram_quantile',
  'by',
  'without',
  'and',
  'or',
  'unless',
  'le',
]);

/** Series Prometheus makes itself for every scrape target, not our code. */
const PROMETHEUS_SERIES = new Set(['up']);

/** Metric names in an expression: identifiers outside `{…}` label matchers and `[…]` ranges, and not functions. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/"[^"]*"/g, ' ');
  const groupingLabels = new Set(
    [...stripped.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
      m[1].split(',').map((l) => l.trim()),
    ),
  );
  return [...stripped.matchAll(/\b[a-zA-Z_:][\w:]*\b/g)]
    .map((m) => m[0])
    .filter((word) => !PROMQL_WORDS.has(word) && !groupingLabels.has(word) && !/^\d/.test(word));
}

test('the file has groups of rules, each alert fully described', () => {
  expect(doc.groups.length).toBeGreaterThan(0);
  for (const group of doc.groups) {
    expect(typeof group.name).toBe('string');
    expect(group.rules.length).toBeGreaterThan(0);
  }
  const names = rules.map((r) => r.alert);
  expect(new Set(names).size).toBe(names.length);
  for (const rule of rules) {
    expect(typeof rule.alert).toBe('string');
    expect(String(rule.alert)).toMatch(/^[A-Z][A-Za-z0-9]+$/);
    expect(typeof rule.expr).toBe('string');
    if (rule.for !== undefined) expect(String(rule.for)).toMatch(/^\d+[smh]$/);
    expect(['critical', 'warning']).toContain(rule.labels?.severity);
    expect(typeof rule.annotations?.summary).toBe('string');
    expect(typeof rule.annotations?.description).toBe('string');
    const expr = String(rule.expr);
    // Balanced brackets: a cheap stand-in for promtool's parser.
    for (const [open, close] of ['()', '{}', '[]']) {
      expect(expr.split(open).length).toBe(expr.split(close).length);
    }
  }
});

test('the issues’ alerts are there, the silent-role and held-bridge ones included', () => {
  expect(rules.map((r) => r.alert).sort()).toEqual(
    [
      'SmsBridgeHolding',
      'SmsDeadLetter',
      'SmsOrdersFailed',
      'SmsPausedLong',
      'SmsProviderAuthErrors',
      'SmsSendFailureRateHigh',
      'SmsSendLatencyHigh',
      'SmsWebhookSignatureFailures',
      'SmsTargetAbsent',
      'SmsTargetDown',
      'SmsWorkflowsRunningLong',
    ].sort(),
  );
});

test('every metric an expression names is one the code registers', () => {
  const registered = registeredNames();
  for (const rule of rules) {
    const used = metricNames(String(rule.expr));
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) {
      if (!registered.has(name) && !PROMETHEUS_SERIES.has(name))
        throw new Error(`${String(rule.alert)} uses ${name}, which no code registers`);
    }
  }
});

test('the checker would notice a renamed metric', () => {
  expect(metricNames('sum(rate(sms_sendz_total{outcome="x"}[5m])) by (provider) > 0')).toEqual([
    'sms_sendz_total',
  ]);
  expect(registeredNames().has('sms_sendz_total')).toBe(false);
});

test('the failure-rate alert counts exactly the outcomes the code calls failures', () => {
  const rule = rules.find((r) => r.alert === 'SmsSendFailureRateHigh');
  const match = /outcome=~"([^"]+)"/.exec(String(rule?.expr));
  expect(match?.[1].split('|').sort()).toEqual([...SEND_FAILURE_OUTCOMES].sort());
});

test('each alert has its runbook section and its annotation points there', () => {
  for (const rule of rules) {
    const alert = String(rule.alert);
    expect(runbook).toMatch(new RegExp(`^### ${alert}$`, 'm'));
    expect(rule.annotations?.runbook).toBe(`docs/runbook.md#${alert.toLowerCase()}`);
  }
});

test('the up rules name exactly the scrape jobs docs/metrics.md configures', () => {
  const metricsDoc = fs.readFileSync(path.join(ROOT, 'docs/metrics.md'), 'utf8');
  const documented = [...metricsDoc.matchAll(/^- job_name: (sms-[\w-]+)$/gm)].map((m) => m[1]).sort();
  const down = String(rules.find((r) => r.alert === 'SmsTargetDown')?.expr);
  const absent = String(rules.find((r) => r.alert === 'SmsTargetAbsent')?.expr);
  const inDown = /job=~"([^"]+)"/.exec(down)?.[1].split('|').sort();
  const inAbsent = [...absent.matchAll(/absent\(up\{job="([^"]+)"\}\)/g)].map((m) => m[1]).sort();
  expect(documented).toEqual(['sms-api', 'sms-bridge', 'sms-worker']);
  expect(inDown).toEqual(documented);
  expect(inAbsent).toEqual(documented);
});
