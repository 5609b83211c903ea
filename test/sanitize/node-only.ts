// Under scripts/sanitize, the sanitizer's runtime is preloaded into node
// (LD_PRELOAD) and every child inherits it: ip, nsenter, ipvsadm, python3,
// tc. Those are not ours to check, and with the runtime each pays a leak scan
// at exit (the kernel suite's thousands of them made a run outlast its 70
// minutes; ps never ended at all), and their own bugs (an ipvsadm crash)
// read as findings. This setup file (vitest.config.ts) gives the preload only
// to children that run node (our command line, the exporter, helper
// scripts), and takes it from the rest. Without a sanitizer it does nothing.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { promisify } from 'node:util';

const preload = process.env.LD_PRELOAD;
const SANITIZER = ['ASAN_OPTIONS', 'LSAN_OPTIONS', 'UBSAN_OPTIONS', 'TSAN_OPTIONS'];

if (process.env.IPVS_ADDON_VARIANT !== undefined && preload !== undefined && preload !== '') {
  /**
   * Whether a command line runs node: directly, through ip netns exec, nsenter
   * or sh -c, or as a script that starts with `#!/usr/bin/env node` (dist/cli.cjs).
   */
  const runsNode = (file: string, args: readonly string[]) =>
    [file, ...args].some(
      (a) =>
        typeof a === 'string' &&
        (a.includes(process.execPath) || /(^|[/\s])node(\s|$)/.test(a) || /\.[cm]?js(\s|$)/.test(a)),
    );

  const withoutPreload = (env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv => {
    const out = { ...(env ?? process.env) };
    if (out.LD_PRELOAD === preload) delete out.LD_PRELOAD;
    // A node started without the runtime (one this did not recognise) loads the plain addon.
    delete out.IPVS_ADDON_VARIANT;
    for (const name of SANITIZER) delete out[name];
    return out;
  };

  /** A call's arguments (file, [args], [options], [callback]) with the options' env adjusted. */
  const adjust = (call: unknown[]): unknown[] => {
    const [file, ...rest] = call;
    const at = Array.isArray(rest[0]) ? 1 : 0;
    const args = at === 1 ? (rest[0] as string[]) : [];
    if (typeof file !== 'string' || runsNode(file, args)) return call;
    const given = rest[at];
    const isOptions = typeof given === 'object' && given !== null;
    const options = {
      ...(isOptions ? given : {}),
      env: withoutPreload(isOptions ? (given as { env?: NodeJS.ProcessEnv }).env : undefined),
    };
    const out = [file, ...rest];
    out.splice(1 + at, isOptions ? 1 : 0, options);
    return out;
  };

  type Callable = ((...a: unknown[]) => unknown) & { [promisify.custom]?: (...a: unknown[]) => unknown };
  const cp = childProcess as unknown as Record<string, Callable>;
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
    const original = cp[name]!;
    const wrapped: Callable = function (this: unknown, ...call: unknown[]) {
      return original.apply(this, adjust(call));
    };
    // promisify(execFile) resolves to { stdout, stderr } through execFile's own promisified form.
    const custom = original[promisify.custom];
    if (custom !== undefined) wrapped[promisify.custom] = (...call: unknown[]) => custom(...adjust(call));
    cp[name] = wrapped;
  }
  // The ESM named imports of node:child_process see the wrapped functions too.
  syncBuiltinESMExports();
}
