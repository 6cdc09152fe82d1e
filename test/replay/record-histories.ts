import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BASELINE_HISTORIES, HISTORIES_DIR } from '../support/histories';

/**
 * `npm run histories:record`: records the replay fixtures afresh by running the tests that keep them
 * (keepHistory in test/support/histories.ts) with RECORD_HISTORIES set. Only for the baseline of a
 * release that is allowed to break replay (docs/releasing.md): after v1.0.0 a workflow change keeps
 * the old fixtures and adds its own, recorded before the change.
 */
function main(): number {
  const root = path.resolve(__dirname, '../..');
  const testFiles = spawnSync('git', ['grep', '-l', 'keepHistory(', '--', 'test/**/*.test.ts'], {
    cwd: root,
    encoding: 'utf8',
  })
    .stdout.split('\n')
    .filter(Boolean);
  for (const f of fs.readdirSync(HISTORIES_DIR))
    if (f.endsWith('.json')) fs.rmSync(path.join(HISTORIES_DIR, f));

  const jest = spawnSync('npx', ['jest', '--runInBand', ...testFiles], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, RECORD_HISTORIES: '1' },
  });
  if (jest.status !== 0) return jest.status ?? 1;

  const written = fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));
  const missing = BASELINE_HISTORIES.filter((name) => !written.includes(`${name}.json`));
  if (missing.length > 0) {
    console.error(`not recorded: ${missing.join(', ')}`);
    return 1;
  }
  console.log(`recorded ${written.length} histories in test/fixtures/histories`);
  return 0;
}

process.exit(main());
