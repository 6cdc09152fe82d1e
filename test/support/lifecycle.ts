/**
 * Stops for what this test file has started through `useResource`, in start order. Jest gives every
 * test file its own module registry, so this list is the file's own.
 */
const started: Array<() => Promise<void>> = [];

export interface ResourceOptions {
  /** A fresh one for each test (beforeEach/afterEach) instead of one for the whole suite. */
  perTest?: boolean;
  /** The start hook's timeout, when a cold start may need more than testTimeout. */
  timeoutMs?: number;
}

/**
 * Starts a resource in the enclosing suite's beforeAll (beforeEach with `perTest`), stops it after,
 * and returns a stand-in for it, so a file names what it runs with a `const` instead of a `let`
 * plus a pair of hooks. Everything started this way is stopped in reverse start order (workers
 * before their database, as the hand-written afterAll blocks did), one failing stop not skipping the
 * others.
 */
export function useResource<T extends object>(
  start: () => Promise<T>,
  stop: (value: T) => Promise<unknown> | unknown,
  options: ResourceOptions = {},
): T {
  let value: T | undefined;
  /** How many stops were pending when this one started: its after hook stops back down to that. */
  let depth: number | undefined;
  const [before, after] = options.perTest ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    depth = started.length;
    const v = await start();
    value = v;
    started.push(async () => {
      value = undefined;
      await stop(v);
    });
  }, options.timeoutMs);
  after(async () => {
    if (depth === undefined) return;
    const errors: unknown[] = [];
    while (started.length > depth) await started.pop()!().catch((err: unknown) => errors.push(err));
    depth = undefined;
    if (errors.length > 0) throw errors[0];
  });
  return standIn(() => value);
}

/**
 * An object that forwards every property to `current()`, so a `const` can name what a hook sets
 * later. Reaching it while `current()` is undefined (outside the tests that have it) throws
 * instead of reading `undefined`.
 */
export function standIn<T extends object>(current: () => T | undefined): T {
  const target = (): T => {
    const value = current();
    if (value === undefined)
      throw new Error('a suite resource was used before its hook started it or after it stopped');
    return value;
  };
  return new Proxy({} as T, {
    get(_, key) {
      const value = target();
      const property: unknown = Reflect.get(value, key, value);
      // A class's methods run on the object itself; own properties (a knex instance is a function,
      // a closure) are handed out as they are.
      const method = typeof property === 'function' && !Object.prototype.hasOwnProperty.call(value, key);
      return method ? (property as (...args: unknown[]) => unknown).bind(value) : property;
    },
    set: (_, key, v) => Reflect.set(target(), key, v),
    has: (_, key) => Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor(_, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
      // The proxy's own target is an empty object: it may only report configurable properties.
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
