import { execFile } from 'node:child_process';
import path from 'node:path';
import { testTemporalAddress } from './temporal';

const ROOT = path.resolve(__dirname, '../..');

export interface OpsCliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The ops CLI as an operator runs it: its own process and its own client from the environment,
 * against the test server unless `env` says otherwise. `compiled` runs dist/scripts/ops.js (what the
 * image ships, after `npm run build`) instead of the TypeScript through tsx (`npm run ops`).
 */
export function runOpsCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; compiled?: boolean } = {},
): Promise<OpsCliRun> {
  const entry = options.compiled ? ['dist/scripts/ops.js'] : ['--import', 'tsx', 'scripts/ops.ts'];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...entry, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, TEMPORAL_ADDRESS: testTemporalAddress(), ...options.env },
        timeout: 120_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

/** The one JSON document a `--json` run prints, or a failure that shows what it printed instead. */
export function jsonOf<T>(run: OpsCliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `not one JSON document (exit ${run.code}):\n${run.stdout}\n--- stderr ---\n${run.stderr}`,
    );
  }
}
