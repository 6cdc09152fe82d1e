import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { status } from '@grpc/grpc-js';

/**
 * What every ops command shares: exit codes, the I/O seam tests replace, argument parsing with
 * `--help`, and the errors that pick an exit code. Codes follow sysexits.h where one fits, so
 * scripts and runbooks can tell "the order was refused" from "Temporal was not there".
 */
export const EXIT = {
  ok: 0,
  /** An order was refused (completed, running…), or a rerun failed (or, with --wait, ended failed). */
  refused: 1,
  /** An order named on the command line has no workflow (never started, or past retention). */
  notFound: 3,
  usage: 64, // EX_USAGE
  unavailable: 69, // EX_UNAVAILABLE: Temporal did not answer
  software: 70, // EX_SOFTWARE: anything unexpected (the message says what)
  config: 78, // EX_CONFIG: the environment is invalid (loadConfigOrExit)
} as const;

export const EXIT_CODES_TEXT = `exit codes: 0 done, 1 an order was refused or its rerun failed, 3 an order was not found,
  64 bad usage, 69 Temporal did not answer, 70 unexpected error, 78 bad configuration`;

/** The program name the usage texts show: the compiled entry, what the image runs. */
export const OPS = 'node dist/scripts/ops.js';

export interface OpsIo {
  /** Results: one line per order, or one JSON document (stdout, for scripts and pipes). */
  out(line: string): void;
  /** Progress and messages for the person at the terminal (stderr). */
  err(text: string): void;
  /** Whether stderr is a terminal, so the progress bar can redraw one line instead of printing many. */
  tty?: boolean;
  /** Waits between reruns; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** Connects on first use only: help and usage errors never wait on Temporal or need its settings. */
export type Connect = () => Promise<Client>;

export interface OpsCommand {
  name: string;
  /** One line for the top-level usage. */
  summary: string;
  usage: string;
  run(connect: Connect, args: string[], io: OpsIo): Promise<number>;
}

/** Bad arguments: the command's usage is printed with the problem, exit 64. */
export class UsageError extends Error {}

/** The server could not be reached (or answered too late): exit 69, not "refused". */
export class TemporalUnavailableError extends Error {}

/** Runs a command, turning a usage problem into its usage text and exit 64; `--help` into exit 0. */
export async function runCommand(command: OpsCommand, connect: Connect, args: string[], io: OpsIo) {
  if (args.some((a) => a === '--help' || a === '-h')) {
    io.out(command.usage);
    return EXIT.ok;
  }
  try {
    return await command.run(connect, args, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n${command.usage}\n`);
    return EXIT.usage;
  }
}

/** node:util's parseArgs in strict mode, its complaints as UsageError. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function orderIdArg(value: string, flag?: string): string {
  if (!UUID.test(value)) throw new UsageError(`${flag ? `${flag}: ` : ''}not an OrderId (uuid): ${value}`);
  return value.toLowerCase();
}

export function sinceArg(value: string | undefined, flag: string): Date {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  const since = new Date(value);
  if (Number.isNaN(since.getTime())) throw new UsageError(`${flag} must be an ISO-8601 time`);
  return since;
}

export function positiveIntArg(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0)) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

/** The exit code for an error that escaped a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof TemporalUnavailableError) return EXIT.unavailable;
  // Temporal went away mid-command: the same answer as not reaching it at all.
  if (isGrpcServiceError(err) && (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED))
    return EXIT.unavailable;
  return EXIT.software;
}
