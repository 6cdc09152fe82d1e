import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

/**
 * The SDK's default logger prints every worker state change, and sdk-core warns about each worker
 * on the time-skipping server. The Runtime is a per-process singleton that shuts itself down when
 * its last worker and connection close, so install ours whenever none is live; if one is, it is
 * already ours.
 */
export function quietRuntime(): void {
  const level = (process.env.TEST_SDK_LOG_LEVEL as LogLevel | undefined) ?? 'ERROR';
  try {
    Runtime.install({
      logger: new DefaultLogger(level),
      telemetryOptions: { logging: { filter: { core: level, other: level }, forward: {} } },
    });
  } catch {
    // already installed for this process
  }
}
