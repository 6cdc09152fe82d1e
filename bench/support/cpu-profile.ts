/**
 * V8 .cpuprofile files (node --cpu-prof) summed by module: where a process spent its CPU time.
 */

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string };
    children?: number[];
  }>;
  /** Microseconds, on the machine's monotonic clock (process.hrtime in any process of it). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled time inside the window, idle excluded, in ms. */
  busyMs: number;
  /** Idle time inside the window (the event loop waiting), in ms. */
  idleMs: number;
  /** Self time by module, in ms, the largest first. */
  byModule: Array<{ module: string; ms: number }>;
}

/**
 * The module a function belongs to: the package under node_modules (scoped packages keep their
 * scope), our own top-level folder, Node's internals, or V8's own entries ("(garbage collector)").
 */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  // node:internal/modules/… (loading code) apart from node:internal/streams/… and the rest.
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  // The workflow bundle is one file: its code runs in the workflow thread's V8 context.
  if (/workflow-bundle|bundle\.js$/.test(path)) return 'workflow bundle';
  const ours =
    /\/(activities|api|bench|bridge|config|db|domain|providers|rollout|runtime|scripts|temporal|workers|workflows)\//.exec(
      path,
    );
  return ours ? `ours: ${ours[1]}` : path;
}

/** Self time by module over the samples taken between `fromUs` and `toUs` (the whole profile without them). */
export function summarizeProfile(
  profile: CpuProfile,
  window: { fromUs?: number; toUs?: number } = {},
): ProfileSummary {
  const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
  const byModule = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const span = profile.timeDeltas[i + 1] ?? 0;
    if (window.fromUs !== undefined && at < window.fromUs) continue;
    if (window.toUs !== undefined && at > window.toUs) break;
    const node = nodeById.get(profile.samples[i]);
    if (!node) continue;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += span;
      continue;
    }
    busyUs += span;
    const module = moduleOf(url, functionName);
    byModule.set(module, (byModule.get(module) ?? 0) + span);
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    busyMs: ms(busyUs),
    idleMs: ms(idleUs),
    byModule: [...byModule].map(([module, us]) => ({ module, ms: ms(us) })).sort((a, b) => b.ms - a.ms),
  };
}
