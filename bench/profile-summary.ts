import fs from 'node:fs';
import path from 'node:path';
import { summarizeProfile, type CpuProfile } from './support/cpu-profile';

/**
 * `npx tsx bench/profile-summary.ts DIR [--top N]`: the .cpuprofile files under DIR (as
 * `npm run bench -- --cpu-prof` leaves them, one folder per role, one file per thread) summed by
 * module, over the window the bench recorded in DIR/window.json (the measured phase only, not the
 * role's start-up), with CPU ms per order when the window says how many orders ran in it.
 * Prints a table per file on stderr and one JSON object on stdout.
 */
function main(): void {
  const argv = process.argv.slice(2);
  const dir = argv.find((a) => !a.startsWith('--'));
  if (!dir) throw new Error('usage: profile-summary DIR [--top N]');
  const topAt = argv.indexOf('--top');
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 12;
  const windowFile = path.join(dir, 'window.json');
  const window = fs.existsSync(windowFile)
    ? (JSON.parse(fs.readFileSync(windowFile, 'utf8')) as { fromUs: number; toUs: number; orders?: number })
    : undefined;
  const files = (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const out: Record<string, unknown> = {};
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const s = summarizeProfile(profile, window ?? {});
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread.
    const thread = /\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1] === '0' ? 'main' : 'worker thread';
    const name = `${path.dirname(file)} (${thread}) ${path.basename(file)}`;
    const perOrder = (ms: number) =>
      window?.orders ? Math.round((ms / window.orders) * 100) / 100 : undefined;
    out[name] = {
      busyMs: s.busyMs,
      idleMs: s.idleMs,
      busyMsPerOrder: perOrder(s.busyMs),
      byModule: s.byModule.slice(0, top).map((m) => ({ ...m, msPerOrder: perOrder(m.ms) })),
    };
    process.stderr.write(
      `\n${name}: ${s.busyMs} ms busy, ${s.idleMs} ms idle${window?.orders ? `, ${perOrder(s.busyMs)} ms/order` : ''}\n`,
    );
    for (const m of s.byModule.slice(0, top))
      process.stderr.write(
        `  ${m.ms.toFixed(1).padStart(9)} ms  ${((m.ms / s.busyMs) * 100 || 0).toFixed(1).padStart(5)} %  ${m.module}\n`,
      );
  }
  process.stdout.write(`${JSON.stringify({ window, profiles: out })}\n`);
}

main();
