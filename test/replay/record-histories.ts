import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HISTORIES_DIR, REPLAY_HISTORIES } from '../support/histories';

/**
 * `npm run histories:record [-- --baseline]`: runs the tests that keep replay fixtures (keepHistory
 * in test/support/histories.ts) with RECORD_HISTORIES set, so each fixture not yet recorded is
 * written; the recorded ones stay as older code wrote them. `--baseline` records every fixture
 * afresh: only for the baseline of a release allowed to break replay (docs/releasing.md).
 */
function main(): number {
  const baseline = process.argv.includes('--baseline');
  const root = path.resolve(__dirname, '../..');
  const testFiles = spawnSync('git', ['grep', '-l', 'keepHistory(', '--', 'test/**/*.test.ts'], {
    cwd: root,
    encoding: 'utf8',
  })
    .stdout.split('\n')
    .filter(Boolean);
  if (baseline)
    for (const f of fs.readdirSync(HISTORIES_DIR))
      if (f.endsWith('.json')) fs.rmSync(path.join(HISTORIES_DIR, f));

  const jest = spawnSync('npx', ['jest', '--runInBand', ...testFiles], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, RECORD_HISTORIES: baseline ? 'overwrite' : 'new' },
  });
  if (jest.status !== 0) return jest.status ?? 1;

  const written = fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));
  const missing = REPLAY_HISTORIES.filter((name) => !written.includes(`${name}.json`));
  if (missing.length > 0) {
    console.error(`not recorded: ${missing.join(', ')}`);
    return 1;
  }
  console.log(`recorded ${written.length} histories in test/fixtures/histories`);
  return 0;
}

process.exit(main());
