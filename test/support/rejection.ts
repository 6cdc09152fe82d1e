/**
 * What `promise` rejects with, checked to be a `type` so the test reads its fields; a promise that
 * resolves fails the test. One helper for the provider, activity and abort tests' own copies.
 */
export async function rejectionOf<T>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => T,
): Promise<T> {
  const error = await promise.then(
    () => {
      throw new Error(`expected the call to fail with a ${type.name}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}
