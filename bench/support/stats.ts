/** Nearest-rank percentile; null for no values. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  count: number;
}

export function percentiles(values: number[]): Percentiles {
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  return {
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    count: values.length,
  };
}

/** Distinct valid US numbers (555-2000 … 555-6999 in ten area codes): 50,000 customers. */
export function phoneFor(i: number): string {
  const areas = ['415', '628', '510', '650', '408', '707', '925', '831', '209', '559'];
  return `+1${areas[Math.floor(i / 5000) % areas.length]}555${String(2000 + (i % 5000)).padStart(4, '0')}`;
}

/**
 * The most events in any one-second window of `sortedTimes` (epoch ms, ascending). The server's token
 * bucket lets a burst of up to the rate through on top of the steady rate, so a paced queue can reach
 * twice its limit here while its average stays under it.
 */
export function peakInAnySecond(sortedTimes: readonly number[]): number {
  let peak = 0;
  for (let i = 0, j = 0; i < sortedTimes.length; i++) {
    while (sortedTimes[i] - sortedTimes[j] >= 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}
