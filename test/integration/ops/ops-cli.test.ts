import { randomUUID } from 'node:crypto';
import { freePort } from '../../../scripts/temporal-cli';
import { runOpsCli } from '../../support/ops-cli';

/**
 * The ops CLI's contract with scripts and runbooks, run as a process: help, usage errors and the
 * exit codes that tell "refused" from "not found" from "Temporal is not there". What the commands
 * list and do against real orders is in test/integration/workflows/rerun.test.ts.
 */

const COMMANDS = ['failed', 'status', 'rerun'];

/** A port nothing listens on: a CLI that tried to connect there would wait 10 s and exit 69. */
let closedAddress: string;
beforeAll(async () => {
  closedAddress = `127.0.0.1:${await freePort()}`;
});

test('help on every command and in every spelling exits 0 with that usage, without connecting', async () => {
  const env = { TEMPORAL_ADDRESS: closedAddress };
  const top = await Promise.all(['--help', '-h', 'help'].map((flag) => runOpsCli([flag], { env })));
  for (const run of top) {
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^usage: node dist\/scripts\/ops\.js <command>/);
    for (const name of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(run.stdout).toMatch(/exit codes: 0 done, 1 .*refused.*3 .*not found/s);
  }
  const perCommand = await Promise.all(
    COMMANDS.flatMap((name) =>
      [
        [name, '--help'],
        [name, '-h'],
        ['help', name],
        [name, '--json', '--help'],
      ].map(async (args) => ({
        name,
        args,
        run: await runOpsCli(args, { env }),
      })),
    ),
  );
  for (const { name, args, run } of perCommand) {
    expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
    expect(run.stdout).toMatch(new RegExp(`usage:\\s+node dist/scripts/ops\\.js ${name} `));
    expect(run.stdout).toContain('69 Temporal did not answer');
  }
}, 120_000);

test('an unknown command, no command, or bad arguments: usage on stderr, exit 64, nothing on stdout', async () => {
  const env = { TEMPORAL_ADDRESS: closedAddress };
  const runs = await Promise.all(
    [
      ['nope'],
      [],
      ['help', 'nope'],
      ['status'],
      ['status', 'not-a-uuid'],
      ['failed'],
      ['rerun', '--wait'],
    ].map(async (args) => ({ args, run: await runOpsCli(args, { env }) })),
  );
  for (const { args, run } of runs) {
    expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 64, stdout: '' });
    expect(run.stderr).toMatch(/usage:/);
  }
  expect(runs[0].run.stderr).toMatch(/^unknown command nope\nusage: /);
}, 120_000);

test('Temporal not answering exits 69 (not 1, "refused"), naming the address', async () => {
  const env = { TEMPORAL_ADDRESS: closedAddress };
  const runs = await Promise.all(
    [
      ['status', randomUUID()],
      ['failed', '--since', new Date().toISOString()],
      ['rerun', '--order', randomUUID(), '--yes'],
    ].map((args) => runOpsCli(args, { env })),
  );
  for (const run of runs) {
    expect(run).toMatchObject({ code: 69, stdout: '' });
    expect(run.stderr).toContain(`Temporal at ${closedAddress} (namespace default) did not answer`);
  }
}, 120_000);

test('an order Temporal does not have exits 3 and says so, for status and for a rerun', async () => {
  const id = randomUUID();
  const status = await runOpsCli(['status', id]);
  expect(status).toMatchObject({
    code: 3,
    stdout: `${id}  not found (never started, or past the namespace's retention)\n`,
  });
  const rerun = await runOpsCli(['rerun', '--order', id, '--yes']);
  expect(rerun.code).toBe(3);
  expect(rerun.stdout).toMatch(new RegExp(`^refused ${id}: not_found: `));
  expect(rerun.stdout).toMatch(/^summary: 0 started, 1 refused, 0 failed, 0 skipped$/m);
  const dryRun = await runOpsCli(['rerun', '--order', id]);
  expect(dryRun.code).toBe(3);
});
