import { useResource } from '../../support/lifecycle';

// The suites' set-up rests on useResource: what it starts is stopped in reverse, and its stand-in
// behaves as the object it stands for.

const log: string[] = [];

class Counter {
  private count = 0;
  increment(): number {
    return ++this.count;
  }
}

function resource(name: string) {
  return useResource(
    async () => {
      log.push(`start ${name}`);
      const query = Object.assign((table: string) => `${name}:${table}`, { raw: () => 'raw' });
      return { name, counter: new Counter(), query, hello: () => `hello from ${name}` };
    },
    () => {
      log.push(`stop ${name}`);
    },
  );
}

let outer: ReturnType<typeof resource>;

describe('a suite with two resources', () => {
  const a = resource('a');
  const b = resource('b');
  outer = a;

  test('both started in order; the stand-ins forward fields, closures, methods and callable values', () => {
    expect(log).toEqual(['start a', 'start b']);
    expect(a.name).toBe('a');
    expect(b.hello()).toBe('hello from b');
    const { counter } = b;
    expect(counter.increment()).toBe(1);
    expect(b.counter.increment()).toBe(2);
    // A callable value with properties of its own (as a knex instance is) is handed out unchanged.
    expect(a.query('t')).toBe('a:t');
    expect(a.query.raw()).toBe('raw');
    expect('name' in a).toBe(true);
    expect({ ...a }).toMatchObject({ name: 'a' });
  });
});

describe('per test', () => {
  const each = useResource(
    async () => ({ started: log.filter((l) => l.startsWith('start each')).length }),
    () => undefined,
    { perTest: true },
  );
  beforeEach(() => log.push('start each'));

  test('a fresh one for the first test', () => expect(each.started).toBe(0));
  test('and another for the second', () => expect(each.started).toBe(1));
});

test('after the suite: stopped in reverse start order, and the stand-in refuses to be used', () => {
  expect(log.slice(0, 4)).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  expect(() => outer.name).toThrow(/used before its hook started it or after it stopped/);
});
