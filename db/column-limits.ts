import { COLUMN_LIMITS, INT_MAX, type LimitedTable } from '../domain/limits';
import { DatabaseError } from './errors';

/**
 * Refuses a row a column would refuse, before it is sent: SQLite enforces no width and no int range,
 * so without this the embedded default would store what PostgreSQL and SQL Server refuse, and the
 * refusal carries the table and column name only, never the value.
 */
export function assertFits(table: LimitedTable, row: Record<string, unknown>, what: string): void {
  const limits: Readonly<Record<string, number | 'int'>> = COLUMN_LIMITS[table];
  for (const [column, value] of Object.entries(row)) {
    const limit = limits[column];
    if (limit === undefined || value === null || value === undefined) continue;
    if (limit === 'int') {
      if (typeof value !== 'number') continue;
      if (!Number.isInteger(value))
        throw new DatabaseError(what, { problem: 'invalid_value', table, column });
      if (value > INT_MAX || value < -INT_MAX - 1)
        throw new DatabaseError(what, { problem: 'out_of_range', table, column });
    } else if (typeof value === 'string' && value.length > limit) {
      throw new DatabaseError(what, { problem: 'too_long', table, column });
    }
  }
}
