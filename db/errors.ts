/**
 * Database errors, cleaned. A driver's error is personal data waiting to leak: knex prefixes the SQL
 * to the message, PostgreSQL's `detail` quotes the row ("Key (VenueID, PhoneNumber)=(7, +1415…)
 * already exists", "Failing row contains (…)"), SQL Server's message quotes the duplicate key or the
 * truncated value, and a trigger's message says whatever it was written to say. No such error leaves
 * db/: every repository call goes through cleanDatabaseError (db/index.ts), which keeps what ops need
 * (the driver's code or number, the kind of problem, schema names the driver reports as separate
 * fields) and drops the text. This file imports nothing, so the logger can use it too.
 */

/** What the database refused, in words safe for a log line, a Temporal failure or ErrorMessage. */
export type DatabaseProblem =
  | 'unique'
  | 'foreign_key'
  | 'not_null'
  | 'check'
  | 'constraint'
  | 'too_long'
  | 'out_of_range'
  | 'invalid_value'
  | 'unavailable'
  /** The row a statement wrote was not there when read back (a concurrent delete). */
  | 'row_vanished'
  | 'other';

const PROBLEM_TEXT: Record<DatabaseProblem, string> = {
  unique: 'a unique constraint refused the row',
  foreign_key: 'a foreign key refused the row',
  not_null: 'a required column was null',
  check: 'a check constraint refused the row',
  constraint: 'a constraint refused the row',
  too_long: 'a value is too long for its column',
  out_of_range: 'a number is out of range for its column',
  invalid_value: 'a value has the wrong type or format for its column',
  unavailable: 'the database is unavailable',
  row_vanished: 'the row written was not found afterwards',
  other: 'the statement failed',
};

/** Problems in the data itself: the same statement fails the same way every time. */
const DATA_PROBLEMS: ReadonlySet<DatabaseProblem> = new Set([
  'unique',
  'foreign_key',
  'not_null',
  'check',
  'constraint',
  'too_long',
  'out_of_range',
  'invalid_value',
]);

export interface DatabaseErrorFields {
  problem: DatabaseProblem;
  /** PostgreSQL's SQLSTATE, SQLite's extended code (SQLITE_CONSTRAINT_UNIQUE), a Node socket code. */
  code?: string;
  /** SQL Server's error number. */
  number?: number;
  table?: string;
  column?: string;
  constraint?: string;
}

/** A database failure with a message that names tables and columns, never values or SQL. */
export class DatabaseError extends Error {
  readonly problem: DatabaseProblem;
  readonly code?: string;
  readonly number?: number;
  readonly table?: string;
  readonly column?: string;
  readonly constraint?: string;

  constructor(what: string, fields: DatabaseErrorFields) {
    const names = [
      fields.table && `table ${fields.table}`,
      fields.column && `column ${fields.column}`,
      fields.constraint && `constraint ${fields.constraint}`,
    ].filter(Boolean);
    const code = fields.code ?? (fields.number === undefined ? undefined : String(fields.number));
    super(
      `${what}: ${PROBLEM_TEXT[fields.problem]}` +
        (names.length > 0 ? ` (${names.join(', ')})` : '') +
        (code ? ` [${code}]` : ''),
    );
    this.name = 'DatabaseError';
    this.problem = fields.problem;
    // Only defined fields become properties, so a log line or a failure carries nothing empty.
    if (fields.code !== undefined) this.code = fields.code;
    if (fields.number !== undefined) this.number = fields.number;
    if (fields.table !== undefined) this.table = fields.table;
    if (fields.column !== undefined) this.column = fields.column;
    if (fields.constraint !== undefined) this.constraint = fields.constraint;
  }

  /** The database refused the data: retrying the same statement cannot help. */
  get dataError(): boolean {
    return DATA_PROBLEMS.has(this.problem);
  }
}

/**
 * The clean version of whatever a knex call threw. `what` names the operation and its table
 * ("SmsSendHistory insert"). The original is not kept as `cause`: loggers and Temporal's failure
 * converter print causes.
 */
export function cleanDatabaseError(err: unknown, what: string): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const number = typeof e.number === 'number' ? e.number : undefined;
  const fields: DatabaseErrorFields = { problem: classify(code, number, e.name), code, number };
  // PostgreSQL reports the schema names involved as fields of their own: identifiers, no values.
  for (const key of ['table', 'column', 'constraint'] as const) {
    const value = e[key];
    if (typeof value === 'string' && IDENTIFIER.test(value)) fields[key] = value;
  }
  // SQLite names them only in its message: "UNIQUE constraint failed: SmsConsent.VenueID, …".
  if (code?.startsWith('SQLITE_CONSTRAINT') && typeof e.message === 'string') {
    const named = /constraint failed: ([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)/.exec(e.message);
    if (named) [fields.table, fields.column] = [fields.table ?? named[1], fields.column ?? named[2]];
  }
  return new DatabaseError(what, fields);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const SQLITE_PROBLEMS: Record<string, DatabaseProblem> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
  SQLITE_CONSTRAINT_NOTNULL: 'not_null',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_TOOBIG: 'too_long',
  SQLITE_MISMATCH: 'invalid_value',
  // A bound parameter out of range: the same statement fails the same way again.
  SQLITE_RANGE: 'out_of_range',
  SQLITE_BUSY: 'unavailable',
  SQLITE_LOCKED: 'unavailable',
  SQLITE_CANTOPEN: 'unavailable',
  SQLITE_IOERR: 'unavailable',
  SQLITE_FULL: 'unavailable',
};

const POSTGRES_PROBLEMS: Record<string, DatabaseProblem> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23502': 'not_null',
  '23514': 'check',
  '22001': 'too_long',
  '22003': 'out_of_range',
};

/**
 * SQL Server: 2601/2627 duplicate key, 547 foreign key or check, 515 NULL, 8152/2628 truncation,
 * 220/8115 arithmetic overflow, 241/242/245 conversion.
 */
const MSSQL_PROBLEMS: Record<number, DatabaseProblem> = {
  2601: 'unique',
  2627: 'unique',
  547: 'constraint',
  515: 'not_null',
  8152: 'too_long',
  2628: 'too_long',
  220: 'out_of_range',
  8115: 'out_of_range',
  241: 'invalid_value',
  242: 'invalid_value',
  245: 'invalid_value',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  // tedious
  'ESOCKET',
  'ETIMEOUT',
  'ECONNCLOSED',
]);

function classify(code: string | undefined, number: number | undefined, name: unknown): DatabaseProblem {
  if (number !== undefined && MSSQL_PROBLEMS[number]) return MSSQL_PROBLEMS[number];
  if (name === 'KnexTimeoutError') return 'unavailable';
  if (code === undefined) return 'other';
  if (code in SQLITE_PROBLEMS) return SQLITE_PROBLEMS[code];
  if (/^SQLITE_IOERR/.test(code)) return 'unavailable';
  if (code.startsWith('SQLITE_CONSTRAINT')) return 'constraint';
  if (code in POSTGRES_PROBLEMS) return POSTGRES_PROBLEMS[code];
  // SQLSTATE classes: 22 data exception, 23 integrity constraint, 08 connection, 53 resources,
  // 57P admin shutdown / cannot connect now.
  if (/^22[0-9A-Z]{3}$/.test(code)) return 'invalid_value';
  if (/^23[0-9A-Z]{3}$/.test(code)) return 'constraint';
  if (/^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[1-3])$/.test(code)) return 'unavailable';
  if (NETWORK_CODES.has(code)) return 'unavailable';
  return 'other';
}

/** A unique-constraint violation on any of the three dialects, raw or cleaned. */
export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof DatabaseError) return err.problem === 'unique';
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; number?: unknown };
  return (
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e.code === '23505' ||
    e.number === 2601 ||
    e.number === 2627
  );
}

/**
 * The database refused the statement's data (a constraint, an overflow, a value too long), raw or
 * cleaned: the same statement fails the same way every time, so a retry cannot help, unlike a
 * connection error.
 */
export function isDataError(err: unknown): boolean {
  if (err instanceof DatabaseError) return err.dataError;
  if (typeof err !== 'object' || err === null) return false;
  return cleanDatabaseError(err, 'database').dataError;
}

/**
 * A driver's own error (pg, better-sqlite3, tedious, knex's pool): the logger cleans these should one
 * ever reach a log line without passing through cleanDatabaseError.
 */
export function isDriverError(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof DatabaseError) return false;
  const e = err as Error & { code?: unknown; severity?: unknown; routine?: unknown; number?: unknown };
  if (err.name === 'SqliteError' || (typeof e.code === 'string' && e.code.startsWith('SQLITE_'))) return true;
  // pg's DatabaseError carries the server's severity and the C routine that raised it.
  if (typeof e.severity === 'string' && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code))
    return true;
  if ((err.name === 'RequestError' || err.name === 'ConnectionError') && typeof e.number === 'number')
    return true;
  return err.name === 'KnexTimeoutError';
}
