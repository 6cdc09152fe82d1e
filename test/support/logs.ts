import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../config/logger';

/** The service's logger at info, writing into `lines`: a test reads what production would print. */
export function capturedLogger(name: string): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'info', name }, stream), lines };
}
