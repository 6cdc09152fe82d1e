import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { startTwilioFake, twilioEnv, type TwilioFake } from '../../test/support/provider-fakes/twilio-fake';
import { startStandaloneTemporal } from '../../test/support/workflow-bundle';
import { startTestWorkers, type TestWorkers } from '../../test/support/workers';
import { peakInAnySecond } from './stats';

export interface Pacing {
  accepted: number;
  /** When the first message was accepted (epoch ms). */
  firstAt: number;
  /** Messages per second between the first and the last. */
  observedPerSecond: number;
  peakInAnySecond: number;
}

/** A stack whose sends go through the real Twilio SDK to the local fake, paced by the server. */
export interface PacedStack {
  w: TestWorkers;
  fake: TwilioFake;
  db: TestDatabase;
  taskQueue: string;
  /** How the messages the fake accepted were spread in time. */
  pacing(): Pacing;
  stop(): Promise<void>;
}

/**
 * A dev server, the Twilio fake, a test database and the production workers on `taskQueue`, the
 * send queue limited to `rate` per second (maxTaskQueueActivitiesPerSecond): the pacing benches'
 * shared stack. `env` adds to the workers' environment.
 */
export async function startPacedStack(options: {
  taskQueue: string;
  rate: string;
  env?: Record<string, string>;
}): Promise<PacedStack> {
  const server = await startStandaloneTemporal();
  const fake = await startTwilioFake();
  const db = await createTestDatabase();
  const w = await startTestWorkers({
    knex: db.knex,
    taskQueue: options.taskQueue,
    env: { ...twilioEnv(fake), SEND_RATE_PER_SECOND: options.rate, ...options.env },
  });
  return {
    w,
    fake,
    db,
    taskQueue: options.taskQueue,
    pacing: () => pacingOf(fake.messages().map((m) => m.dateCreated.getTime())),
    async stop() {
      await w.shutdown();
      await db.destroy();
      await fake.stop();
      await server.stop();
    },
  };
}

function pacingOf(acceptedAt: number[]): Pacing {
  const times = [...acceptedAt].sort((a, b) => a - b);
  const spanS = (times[times.length - 1] - times[0]) / 1000;
  return {
    accepted: times.length,
    firstAt: times[0],
    observedPerSecond: +((times.length - 1) / spanS).toFixed(2),
    peakInAnySecond: peakInAnySecond(times),
  };
}
