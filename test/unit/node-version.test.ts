import fs from 'node:fs';
import path from 'node:path';
import { assertSupportedNode, SUPPORTED_NODE_MAJOR } from '../../scripts/node-version';

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

test('engines, the provisioned node devDependency and the guard name one Node major', () => {
  expect(pkg.engines.node).toMatch(/^\^\d+\.\d+\.\d+$/);
  expect(major(pkg.engines.node)).toBe(SUPPORTED_NODE_MAJOR);
  const provisioned = pkg.devDependencies.node;
  expect(provisioned).toMatch(/^\d+\.\d+\.\d+$/); // pinned, as every dependency is
  expect(major(provisioned)).toBe(SUPPORTED_NODE_MAJOR);
  // The provisioned version satisfies engines' caret range (same major, not below its minimum).
  const [, minMinor, minPatch] = pkg.engines.node.slice(1).split('.').map(Number);
  const [, minor, patch] = provisioned.split('.').map(Number);
  expect(minor * 1000 + patch).toBeGreaterThanOrEqual(minMinor * 1000 + minPatch);
});

test('the tests themselves run on that Node (npm puts the provisioned one first on PATH)', () => {
  expect(major(process.versions.node)).toBe(SUPPORTED_NODE_MAJOR);
});

test('an older Node is refused with a way out, a supported one passes', () => {
  expect(() => assertSupportedNode('20.20.2')).toThrow(/Node 20\.20\.2 is too old: .*Node 24.*npm install/);
  expect(() => assertSupportedNode('24.21.0')).not.toThrow();
});
