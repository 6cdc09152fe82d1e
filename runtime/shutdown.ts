import type { Logger } from '../config/logger';

/**
 * On the first SIGINT or SIGTERM, runs `close` (finish in-flight work, release connections) once and
 * exits: 0 when it finished, 1 when it threw, so an orchestrator sees a failed drain.
 */
export function exitOnSignal(logger: Logger, role: string, close: (signal: string) => Promise<void>): void {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    try {
      await close(signal);
      logger.info(`${role} stopped`);
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
