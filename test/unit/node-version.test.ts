import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decide, wantedMajor } from '../../scripts/check-node';
import { assertSupportedNode, SUPPORTED_NODE_MAJOR } from '../../scripts/node-version';

const ROOT = path.resolve(__dirname, '../..');
type Deps = Record<string, string>;
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
  dependencies: Deps;
  devDependencies: Deps;
  optionalDependencies?: Deps;
};

const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

test('engines, the provisioned node package, .nvmrc and both guards name one Node major', () => {
  expect(pkg.engines.node).toMatch(/^\^\d+\.\d+\.\d+$/);
  expect(major(pkg.engines.node)).toBe(SUPPORTED_NODE_MAJOR);
  expect(wantedMajor(pkg)).toBe(SUPPORTED_NODE_MAJOR);
  expect(fs.readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim()).toBe(String(SUPPORTED_NODE_MAJOR));
  const provisioned = pkg.optionalDependencies?.node ?? '';
  expect(provisioned).toMatch(/^\d+\.\d+\.\d+$/); // pinned, as every dependency is
  expect(major(provisioned)).toBe(SUPPORTED_NODE_MAJOR);
  // The provisioned version satisfies engines' caret range (same major, not below its minimum).
  const [, minMinor, minPatch] = pkg.engines.node.slice(1).split('.').map(Number);
  const [, minor, patch] = provisioned.split('.').map(Number);
  expect(minor * 1000 + patch).toBeGreaterThanOrEqual(minMinor * 1000 + minPatch);
  // Only optional: a platform with no build must not fail the whole install (see the npm test below).
  expect(pkg.dependencies.node).toBeUndefined();
  expect(pkg.devDependencies.node).toBeUndefined();
  expect(pkg.scripts.prestart).toBe('node scripts/check-node.js');
  expect(pkg.scripts.pretest).toBe('node scripts/check-node.js');
});

test('the tests themselves run on that Node (npm puts the provisioned one first on PATH)', () => {
  expect(major(process.versions.node)).toBe(SUPPORTED_NODE_MAJOR);
});

test('an older Node is refused with a way out, a supported one passes', () => {
  expect(() => assertSupportedNode('20.20.2')).toThrow(
    /Node 20\.20\.2 is too old: .*Node 24.*npm install.*nvm/,
  );
  expect(() => assertSupportedNode('24.21.0')).not.toThrow();
});

describe('check-node decides on the Node that npm scripts get', () => {
  const base = { wanted: 24, platform: 'darwin-arm64' };

  test('the provisioned Node 24: quiet', () => {
    expect(decide({ ...base, version: '24.21.0', provisioned: true })).toEqual({ ok: true, message: null });
  });

  test('no provisioned build, system Node 24 or newer: used, and said so', () => {
    for (const version of ['24.0.0', 'v25.1.0']) {
      const result = decide({ ...base, version, provisioned: false });
      expect(result.ok).toBe(true);
      expect(result.message).toMatch(/Using the system Node .*no build for darwin-arm64/);
    }
  });

  test('no provisioned build, system Node older: refused with nvm and .nvmrc named', () => {
    const result = decide({ ...base, version: '20.20.2', provisioned: false });
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/Node 20\.20\.2 is too old/);
    expect(result.message).toMatch(/could not provision Node 24 for darwin-arm64/);
    expect(result.message).toMatch(/nvm install && nvm use .*\.nvmrc/);
  });

  test('provisioned, but run outside npm on an older Node: told to go through npm', () => {
    const result = decide({ ...base, version: '22.1.0', provisioned: true });
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/did not run through npm/);
  });
});

/**
 * A real `npm install` (offline: local tarballs only) of a project whose `node` package fails its
 * preinstall the way the registry's does when no build exists for the platform. The control, with
 * `node` as a devDependency, must fail (else the fake proves nothing); the section our own
 * package.json uses must install everything else and leave no node_modules/.bin/node behind.
 */
describe('npm install with no Node build for the platform', () => {
  let dir: string;
  let fakeNode: string;
  let otherDep: string;

  const pack = (name: string, files: Record<string, string>, manifest: object): string => {
    const src = path.join(dir, `src-${name}`);
    fs.mkdirSync(path.join(src, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(src, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...manifest }));
    for (const [file, text] of Object.entries(files))
      fs.writeFileSync(path.join(src, file), text, { mode: 0o755 });
    const out = npm(src, ['pack', '--silent']);
    expect(out.status).toBe(0);
    return path.join(src, out.stdout.trim().split('\n').pop()!);
  };

  const npm = (cwd: string, args: string[]) => {
    // Not the npm_config_* of the `npm test` that runs us (prefix, global, …).
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    return spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  };

  const install = (section: string): { status: number | null; root: string; log: string } => {
    const root = fs.mkdtempSync(path.join(dir, `proj-${section}-`));
    fs.writeFileSync(
      path.join(root, 'package.json'),
      JSON.stringify({
        name: 'proj',
        version: '1.0.0',
        private: true,
        dependencies: { other: `file:${otherDep}` },
        [section]: { node: `file:${fakeNode}` },
      }),
    );
    const out = npm(root, ['install', '--offline', '--no-audit', '--no-fund']);
    return { status: out.status, root, log: out.stdout + out.stderr };
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-provisioning-'));
    fakeNode = pack(
      'node',
      { 'bin/node': '#!/bin/sh\necho fake\n' },
      {
        bin: { node: 'bin/node' },
        scripts: {
          preinstall: 'node -e "console.error(\'no node build for this platform\'); process.exit(1)"',
        },
      },
    );
    otherDep = pack('other', { 'bin/other': '#!/bin/sh\n' }, { bin: { other: 'bin/other' } });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('as a devDependency (the old wiring) the whole install fails', () => {
    const { status, log } = install('devDependencies');
    expect(status).not.toBe(0);
    expect(log).toMatch(/no node build for this platform/);
  });

  test("in our package.json's section the install succeeds without it, and the system Node is used", () => {
    const section = (['dependencies', 'devDependencies', 'optionalDependencies'] as const).find(
      (s) => pkg[s]?.node !== undefined,
    )!;
    const { status, root, log } = install(section);
    expect({ status, log }).toEqual({ status: 0, log: expect.any(String) });
    expect(fs.existsSync(path.join(root, 'node_modules/other/package.json'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'node_modules/node'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'node_modules/.bin/node'))).toBe(false);
  });
});
