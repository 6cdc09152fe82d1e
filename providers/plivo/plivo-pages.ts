/**
 * The one way the adapter reads a Plivo list (messages, numbers, applications): by limit/offset, 20
 * records a page, and a page shorter than the limit is the last. That rule holds for the SDK's list
 * methods and the raw Application/ request alike, so all three reads share it. Reconciliation and
 * adoption run inside activities, so a busy account must not make one call read without end: at
 * most MAX_PAGES pages are read, and a record beyond them counts as not found.
 */

/** Plivo caps list pages at 20. */
const PAGE_SIZE = 20;
const MAX_PAGES = 10;

interface PageParams {
  limit: number;
  offset: number;
}

/**
 * The pages of one list, in order, read one at a time as the caller asks for them: a caller that
 * stops early (found what it looked for) causes no further request.
 */
export async function* plivoPages<T>(
  readPage: (page: PageParams) => Promise<T[]>,
): AsyncGenerator<T[], void, undefined> {
  for (let page = 0; page < MAX_PAGES; page++) {
    const records = await readPage({ limit: PAGE_SIZE, offset: page * PAGE_SIZE });
    yield records;
    if (records.length < PAGE_SIZE) return;
  }
}

/** The first record, page by page, that `predicate` accepts; null when none does within MAX_PAGES. */
export async function findInPlivoPages<T>(
  readPage: (page: PageParams) => Promise<T[]>,
  predicate: (record: T) => boolean,
): Promise<T | null> {
  for await (const records of plivoPages(readPage)) {
    const match = records.find(predicate);
    if (match) return match;
  }
  return null;
}
