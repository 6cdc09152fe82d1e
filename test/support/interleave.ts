import type { Knex } from 'knex';

/**
 * Statement-level interleavings of concurrent repository calls, staged deterministically against a
 * real database. Each actor gets its own knex instance (its own connection), whose every statement
 * waits at knex's driver boundary (`client.query`) for its turn; the scheduler lets one statement
 * run at a time, so a schedule is the exact order in which the database sees the actors' statements.
 * Nothing in the code under test knows about it.
 */

/** Picks which of the actors waiting with their next statement goes: one index of `ready`. */
export type Choose = (ready: readonly number[], step: number) => number;

interface Gate {
  /** Set while a schedule runs; undefined lets statements through (setup, assertions). */
  park?: () => Promise<void>;
}

const gates = new WeakMap<Knex, Gate>();

/** Makes `knex` wait for the scheduler before each statement (once per instance). */
export function gated(knex: Knex): Knex {
  if (gates.has(knex)) return knex;
  const gate: Gate = {};
  gates.set(knex, gate);
  const client = knex.client as { query: (conn: unknown, obj: unknown) => Promise<unknown> };
  const query = client.query.bind(client);
  client.query = async (conn, obj) => {
    if (gate.park) await gate.park();
    return query(conn, obj);
  };
  return knex;
}

export interface Schedule {
  /** The actor index that ran each statement, in order. */
  trace: number[];
  /** The ready set at each step (what could have run instead). */
  choices: number[][];
  /** Each actor's result, or its error. */
  results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
}

/**
 * Runs `actors[i](knexes[i])` concurrently, one statement at a time in the order `choose` decides,
 * until every actor has finished.
 */
export async function runSchedule(
  knexes: readonly Knex[],
  actors: ReadonlyArray<(knex: Knex) => Promise<unknown>>,
  choose: Choose,
): Promise<Schedule> {
  const parked = new Map<number, () => void>();
  const done = new Set<number>();
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const settled = () => new Promise<void>((resolve) => (wake = resolve));

  knexes.forEach((knex, i) => {
    const gate = gates.get(knex);
    if (!gate) throw new Error('runSchedule needs gated() knex instances');
    gate.park = () =>
      new Promise<void>((resolve) => {
        parked.set(i, resolve);
        notify();
      });
  });
  const results: Schedule['results'] = [];
  const running = actors.map((actor, i) =>
    actor(knexes[i]).then(
      (value) => (results[i] = { ok: true, value }),
      (error: unknown) => (results[i] = { ok: false, error }),
    ),
  );
  running.forEach((p, i) =>
    p.finally(() => {
      done.add(i);
      notify();
    }),
  );

  const trace: number[] = [];
  const choices: number[][] = [];
  try {
    for (;;) {
      // Every actor still running is waiting with its next statement: nothing is in flight.
      while (parked.size + done.size < actors.length) await settled();
      if (done.size === actors.length) break;
      const ready = [...parked.keys()].sort((a, b) => a - b);
      const pick = ready[choose(ready, trace.length)];
      if (pick === undefined) throw new Error('choose returned an index outside the ready set');
      choices.push(ready);
      trace.push(pick);
      const resume = parked.get(pick)!;
      parked.delete(pick);
      resume();
    }
  } finally {
    for (const knex of knexes) delete gates.get(knex)!.park;
    for (const resume of parked.values()) resume();
  }
  await Promise.all(running);
  return { trace, choices, results };
}

/** One run of a staged race: fresh actors (fresh ids), and what must hold once they are done. */
export interface Trial {
  actors: ReadonlyArray<(knex: Knex) => Promise<unknown>>;
  check(schedule: Schedule): Promise<void>;
}

/**
 * Every schedule of the actors, depth first: a schedule is replayed up to its last untried choice,
 * which then takes its next alternative. Returns how many there were.
 */
export async function everySchedule(
  knexes: readonly Knex[],
  trial: () => Trial,
  { limit = 100_000 } = {},
): Promise<number> {
  // Position in the ready set chosen at each step of the next schedule; beyond it, the first.
  let prefix: number[] = [];
  for (let runs = 1; ; runs++) {
    if (runs > limit) throw new Error(`more than ${limit} schedules`);
    const taken: number[] = [];
    const { actors, check } = trial();
    const schedule = await runSchedule(knexes, actors, (ready, step) => {
      const at = step < prefix.length ? prefix[step] : 0;
      taken.push(at);
      return Math.min(at, ready.length - 1);
    });
    await check(schedule);
    let i = taken.length - 1;
    while (i >= 0 && taken[i] + 1 >= schedule.choices[i].length) i--;
    if (i < 0) return runs;
    prefix = [...taken.slice(0, i), taken[i] + 1];
  }
}

/** `count` schedules drawn at random, seeds 1…count, so a failing one replays from its seed. */
export async function sampledSchedules(
  knexes: readonly Knex[],
  trial: () => Trial,
  count: number,
): Promise<number> {
  for (let seed = 1; seed <= count; seed++) {
    const random = seededRandom(seed);
    const { actors, check } = trial();
    await check(await runSchedule(knexes, actors, (ready) => Math.floor(random() * ready.length)));
  }
  return count;
}

/** A small seeded PRNG (mulberry32). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
