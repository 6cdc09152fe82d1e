/**
 * The one way the adapter reads a Plivo list (messages, numbers, applications): by limit/offset, 20
 * records a page, to the end of the list. That rule holds for the SDK's list methods and the raw
 * Application/ request alike, so all three reads share it.
 *
 * There is no page cap. A record past a cap counted as "not found", and for adoption "not found"
 * means buying the venue a second number (issue 18 item 9: 10 pages missed a purchase on an account
 * of 500 numbers). Every read runs inside a providerCall, whose budget is what bounds it: on an
 * account too large to read within it, the operation fails retryably instead of answering wrongly.
 * Callers keep reads short by filtering on Plivo's side wherever the API can.
 */

/** Plivo caps list pages at 20. */
const PAGE_SIZE = 20;

interface PageParams {
  limit: number;
  offset: number;
}

/** One page as Plivo answers it: its records, and `meta.next`, null on the last page. */
export interface PlivoPage<T> {
  objects: T[];
  meta?: { next?: unknown };
}

/** The page of an SDK list call: the SDK returns the records as an array with Plivo's `meta` attached. */
export function sdkPage<T>(list: unknown): PlivoPage<T> {
  const meta = (list as { meta?: { next?: unknown } }).meta;
  return { objects: Array.isArray(list) ? (list as T[]) : [], meta };
}

/**
 * The pages of one list, in order, read one at a time as the caller asks for them: a caller that
 * stops early (found what it looked for) causes no further request. The list ends where Plivo says
 * there is no next page, or where a page comes back short (an answer without `meta`).
 */
export async function* plivoPages<T>(
  readPage: (page: PageParams) => Promise<PlivoPage<T>>,
): AsyncGenerator<T[], void, undefined> {
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const { objects, meta } = await readPage({ limit: PAGE_SIZE, offset });
    yield objects;
    if (objects.length < PAGE_SIZE || (meta && !meta.next)) return;
  }
}

/** The first record, page by page, that `predicate` accepts; null when none does. */
export async function findInPlivoPages<T>(
  readPage: (page: PageParams) => Promise<PlivoPage<T>>,
  predicate: (record: T) => boolean,
): Promise<T | null> {
  for await (const records of plivoPages(readPage)) {
    const match = records.find(predicate);
    if (match) return match;
  }
  return null;
}
