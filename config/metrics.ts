import { z } from 'zod';
import { port } from './primitives';

export const metricsEnv = z.object({
  // Unset: the role's default (worker 9464, bridge 9465); 0 asks for an ephemeral port.
  METRICS_PORT: port.optional(),
  // 0 turns the Temporal SDK's own exporter off.
  TEMPORAL_METRICS_PORT: port.default(9466),
});

export interface MetricsConfig {
  /** METRICS_PORT as given; undefined means the role's default (metricsPort()). */
  port?: number;
  /** The worker's Temporal SDK runtime metrics (Prometheus); 0 = off. */
  temporalPort: number;
}

/** Where each role serves Prometheus metrics unless METRICS_PORT says otherwise. */
export const DEFAULT_METRICS_PORTS = { worker: 9464, bridge: 9465 } as const;

/** The port a worker or bridge serves /metrics on (0: an ephemeral one, as tests and the chaos suite ask). */
export function metricsPort(
  config: { metrics: MetricsConfig },
  role: keyof typeof DEFAULT_METRICS_PORTS,
): number {
  return config.metrics.port ?? DEFAULT_METRICS_PORTS[role];
}
