import fs from 'node:fs';
import path from 'node:path';

/**
 * The registry mirror our machines use serves only linux-x64 builds of native packages, so
 * `npm install` leaves other platforms' optional binaries (@swc/core-darwin-arm64…) out of
 * package-lock.json, and `npm ci` then refuses the lockfile as out of sync. This adds the entries a
 * full registry would have written, with the os/cpu/libc that keep npm from installing them here.
 * Run after any `npm install` that changes the lockfile: npm run lockfile:complete
 */
interface LockPackage {
  version?: string;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optionalDependencies?: Record<string, string>;
}

const OS = [
  'darwin',
  'win32',
  'linux',
  'android',
  'freebsd',
  'openharmony',
  'sunos',
  'netbsd',
  'openbsd',
  'aix',
];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'wasm32', 'mips64el'];

function platformOf(name: string): Pick<LockPackage, 'os' | 'cpu' | 'libc'> | null {
  const parts = name.split('/').pop()!.split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p)) ?? (parts.includes('arm') ? 'arm' : undefined);
  if (!os || !cpu) return null;
  const libc = os === 'linux' ? (parts.some((p) => p.startsWith('musl')) ? 'musl' : 'glibc') : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

const file = path.resolve(__dirname, '../package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8')) as { packages: Record<string, LockPackage> };
const added: string[] = [];
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const entry = `node_modules/${name}`;
    const nested = key === '' ? entry : `${key}/${entry}`;
    if (lock.packages[entry] || lock.packages[nested]) continue;
    const platform = platformOf(name);
    if (!platform) {
      console.error(`left out ${name}@${version}: cannot tell its platform from the name`);
      continue;
    }
    lock.packages[entry] = { version, optional: true, ...platform };
    added.push(`${name}@${version}`);
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added ${added.length}: ${added.join(', ')}` : 'lockfile already complete');
