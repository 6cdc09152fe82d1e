import { cleanDatabaseError, DatabaseError, isDataError, isUniqueViolation } from '../../../db/errors';
import { capturedLogger } from '../../support/logs';

// Errors shaped as the drivers throw them (pg, tedious through knex's mssql client, better-sqlite3),
// each quoting a phone number or another value the way the real ones do.
const PHONE = '+14155550123';
const SQL = 'insert into "SmsConsent" ("PhoneNumber", "VenueID") values ($1, $2)';

const driverError = (message: string, fields: Record<string, unknown>, name = 'error') =>
  Object.assign(new Error(message), { name, ...fields });

const CASES = [
  {
    name: 'PostgreSQL unique violation',
    err: driverError(`${SQL} - duplicate key value violates unique constraint "UX_SmsConsent_Venue_Phone"`, {
      code: '23505',
      severity: 'ERROR',
      routine: '_bt_check_unique',
      detail: `Key ("VenueID", "PhoneNumber")=(7, ${PHONE}) already exists.`,
      table: 'SmsConsent',
      constraint: 'UX_SmsConsent_Venue_Phone',
    }),
    problem: 'unique',
    message:
      'SmsConsent applyChange: a unique constraint refused the row (table SmsConsent, constraint UX_SmsConsent_Venue_Phone) [23505]',
  },
  {
    name: 'PostgreSQL check violation, whose detail is the whole row',
    err: driverError(`${SQL} - new row for relation "SmsSendHistory" violates check constraint "CK_x"`, {
      code: '23514',
      severity: 'ERROR',
      routine: 'ExecConstraints',
      detail: `Failing row contains (1, 6f1c2b8e, A-1, 42, null, ${PHONE}, Hi Ada, ...).`,
      table: 'SmsSendHistory',
      constraint: 'CK_x',
    }),
    problem: 'check',
    message:
      'SmsConsent applyChange: a check constraint refused the row (table SmsSendHistory, constraint CK_x) [23514]',
  },
  {
    name: 'PostgreSQL integer overflow, whose message quotes the value',
    err: driverError(`${SQL} - value "3000000000" is out of range for type integer`, {
      code: '22003',
      severity: 'ERROR',
      routine: 'pg_strtoint32_safe',
    }),
    problem: 'out_of_range',
    message: 'SmsConsent applyChange: a number is out of range for its column [22003]',
  },
  {
    name: 'SQL Server duplicate key, whose message quotes the key',
    err: driverError(
      `Violation of UNIQUE KEY constraint 'UX_SmsConsent_Venue_Phone'. Cannot insert duplicate key in object 'dbo.SmsConsent'. The duplicate key value is (7, ${PHONE}).`,
      { number: 2627, code: 'EREQUEST', state: 1, class: 14 },
      'RequestError',
    ),
    problem: 'unique',
    message: 'SmsConsent applyChange: a unique constraint refused the row [EREQUEST]',
  },
  {
    name: 'SQL Server truncation, whose message quotes the value',
    err: driverError(
      `String or binary data would be truncated in table 'sms.dbo.SmsConsent', column 'PhoneNumber'. Truncated value: '${PHONE}'.`,
      { number: 2628, code: 'EREQUEST' },
      'RequestError',
    ),
    problem: 'too_long',
    message: 'SmsConsent applyChange: a value is too long for its column [EREQUEST]',
  },
  {
    name: 'SQLite trigger, whose message is whatever the trigger says',
    err: driverError(`${SQL} - refused ${PHONE}`, { code: 'SQLITE_CONSTRAINT_TRIGGER' }, 'SqliteError'),
    problem: 'constraint',
    message: 'SmsConsent applyChange: a constraint refused the row [SQLITE_CONSTRAINT_TRIGGER]',
  },
  {
    name: 'SQLite unique violation (table and column names kept)',
    err: driverError(
      `${SQL} - UNIQUE constraint failed: SmsConsent.VenueID, SmsConsent.PhoneNumber`,
      { code: 'SQLITE_CONSTRAINT_UNIQUE' },
      'SqliteError',
    ),
    problem: 'unique',
    message:
      'SmsConsent applyChange: a unique constraint refused the row (table SmsConsent, column VenueID) [SQLITE_CONSTRAINT_UNIQUE]',
  },
  {
    name: 'a refused connection',
    err: driverError('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
    problem: 'unavailable',
    message: 'SmsConsent applyChange: the database is unavailable [ECONNREFUSED]',
  },
  {
    name: "knex's pool timeout",
    err: driverError(
      'Knex: Timeout acquiring a connection. The pool is probably full.',
      {},
      'KnexTimeoutError',
    ),
    problem: 'unavailable',
    message: 'SmsConsent applyChange: the database is unavailable',
  },
] as const;

describe('cleanDatabaseError', () => {
  test.each(CASES)('$name', ({ err, problem, message }) => {
    const clean = cleanDatabaseError(err, 'SmsConsent applyChange');
    expect(clean).toBeInstanceOf(DatabaseError);
    expect(clean.message).toBe(message);
    expect(clean.problem).toBe(problem);
    expect(clean.dataError).toBe(problem !== 'unavailable');
    expect(isDataError(err)).toBe(problem !== 'unavailable');
    expect(isUniqueViolation(clean)).toBe(problem === 'unique');
    // The driver's code or number survives for ops; the SQL, the values and the original do not.
    const e = err as { code?: string; number?: number };
    expect(clean.code).toBe(e.code);
    expect(clean.number).toBe(e.number);
    const everything = JSON.stringify({ ...clean, message: clean.message, stack: clean.stack });
    expect(everything).not.toMatch(/4155550123|3000000000|insert into|Failing row/);
    expect(clean.cause).toBeUndefined();
  });

  test('a cleaned error passes through unchanged', () => {
    const clean = cleanDatabaseError(CASES[0].err, 'SmsConsent applyChange');
    expect(cleanDatabaseError(clean, 'elsewhere')).toBe(clean);
  });
});

describe('the logger never prints a driver error raw', () => {
  const capture = () => capturedLogger('errors-test');

  // A socket error (ECONNREFUSED) is no driver's own and carries no values: it is logged as it is.
  const DRIVER_ERRORS = CASES.filter((c) => c.name !== 'a refused connection');

  test.each(DRIVER_ERRORS.map((c) => [c.name, c.err] as const))('%s', (_name, err) => {
    const { lines, logger } = capture();
    logger.error({ err }, 'query failed');
    // The Temporal SDK logs activity failures under `error`.
    logger.warn({ error: err }, 'Activity failed');
    // And a wrapper whose cause is the driver's error: pino prints causes.
    logger.error({ err: new Error('could not save', { cause: err }) }, 'wrapped');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).not.toMatch(/4155550123|3000000000|insert into|Failing row/);
    expect(JSON.parse(lines[0])).toMatchObject({ err: { type: 'DatabaseError' } });
    expect(JSON.parse(lines[2])).toMatchObject({
      err: { message: expect.stringMatching(/^could not save: /) },
    });
  });

  test('other errors are logged as before', () => {
    const { lines, logger } = capture();
    logger.error({ err: new TypeError('boom') }, 'x');
    expect(JSON.parse(lines[0])).toMatchObject({ err: { type: 'TypeError', message: 'boom' } });
  });
});
