// Finds and loads the native addon, and says why when it cannot. Where it
// comes from, first found first:
//   build/NAME/build/Release/ipvs.node   IPVS_ADDON_VARIANT=NAME (scripts/sanitize's builds)
//   build/Release/ipvs.node              a build from source (a checkout, or an install
//                                        where no prebuild fitted)
//   prebuilds/linux-ARCH/ipvs.glibc.node the prebuild shipped in the package (prebuildify's
//                                        layout; node-gyp-build chooses, as it does for others)
// The first two are looked for directly (ownPath); node-gyp-build, loaded
// only then, chooses wherever its choice could differ.
// The prebuilds link libnl's runtime libraries dynamically (README,
// "Prebuilt addon"), so the most common failure on a new machine is a
// missing libnl-3.so.200: the message says which package brings it.
// scripts/install.mjs loads this module (dist/addon.cjs) to decide whether a
// source build is needed, so what it checks and what the library loads agree.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/*.cjs and src/addon.ts both sit one level below the package root.
const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/** The `code` of every error that says the addon could not be loaded. */
export const ADDON_ERROR = 'ERR_IPVS_ADDON';

/** Why the addon did not load: what the messages and the install script act on. */
export type AddonFailure =
  | 'platform' // not Linux
  | 'missing' // no build here and no prebuild for this platform
  | 'library' // a shared library it links (libnl) is not installed
  | 'unusable'; // it exists but this system cannot load it (an older glibc, another architecture)

/** An addon that could not be loaded: the real cause in the message, and as `cause`. */
export interface AddonError extends Error {
  code: typeof ADDON_ERROR;
  failure: AddonFailure;
  /** The file that was tried; undefined when none was found. */
  path: string | undefined;
  /** What went wrong, without the remedy that the message adds. */
  what: string;
}

/** What to install, per distribution, for libnl's runtime libraries. */
const LIBNL_RUNTIME =
  'Debian/Ubuntu: apt-get install libnl-3-200 libnl-genl-3-200; Fedora/RHEL: dnf install libnl3; ' +
  'Alpine: apk add libnl3';

/** What a build from source needs, per distribution. */
export const BUILD_NEEDS =
  'a C++17 compiler, make, python3, pkg-config and libnl-3 headers (Debian/Ubuntu: apt-get install g++ make ' +
  'python3 pkg-config libnl-3-dev libnl-genl-3-dev; Fedora/RHEL: dnf install gcc-c++ make python3 pkgconf ' +
  'libnl3-devel; Alpine: apk add g++ make python3 pkgconf libnl3-dev)';

/** How to build the addon here; the install step (scripts/install.mjs) compiles where nothing here loads. */
const BUILD_HOW =
  '`npm rebuild ipvs` (pnpm: allow its build with `pnpm approve-builds`, then `pnpm rebuild ipvs`), ' +
  'which needs ' +
  BUILD_NEEDS;

/**
 * Where the addon is loaded from (see the top of this file). Throws an
 * AddonError (`failure: 'missing'`) when there is none for this platform.
 */
export function addonPath(): string {
  const variant = variantDirectory();
  if (variant !== undefined) return join(root, 'build', variant, 'build', 'Release', 'ipvs.node');
  const own = ownPath();
  if (own !== undefined) return own;
  try {
    const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as { path(dir: string): string };
    return nodeGypBuild.path(root);
  } catch (cause) {
    const libc = existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
    throw addonError(
      'missing',
      undefined,
      `no prebuilt ipvs addon fits this system (linux-${process.arch}, ${libc}; they are for linux-x64 and ` +
        'linux-arm64 with glibc 2.34 or newer), and none was built here',
      `Build it here with ${BUILD_HOW}`,
      cause,
    );
  }
}

/**
 * The addon where this package's build or prebuilt addon is, found without
 * node-gyp-build: its module, the package.json it reads and the directories
 * it lists were a tenth of the command line's start-up under emulation.
 * Undefined, for node-gyp-build to choose as it always does, wherever its
 * choice could differ from this one: a setting of its own in the
 * environment, Electron or NW.js, a debug build, musl, or no file where ours
 * go.
 */
function ownPath(): string | undefined {
  const env = process.env;
  const settings = ['IPVS_PREBUILD', 'PREBUILDS_ONLY', 'npm_config_arch', 'npm_config_platform', 'LIBC', 'ARM_VERSION'];
  if (
    settings.some((name) => env[name]) ||
    env.ELECTRON_RUN_AS_NODE ||
    process.versions.electron ||
    process.versions.nw
  )
    return undefined;
  const built = join(root, 'build', 'Release', 'ipvs.node');
  if (existsSync(built)) return built;
  if (existsSync(join(root, 'build', 'Debug'))) return undefined;
  const prebuilt = join(root, 'prebuilds', `linux-${process.arch}`, 'ipvs.glibc.node');
  return existsSync(prebuilt) && !existsSync('/etc/alpine-release') ? prebuilt : undefined;
}

/**
 * IPVS_ADDON_VARIANT=NAME loads the addon built into build/NAME/build/Release
 * instead of build/Release: scripts/sanitize builds `asan` (AddressSanitizer and
 * UndefinedBehaviorSanitizer) and `tsan` there, and runs the tests with it. A
 * name is letters, digits and dashes only, so it never leaves build/.
 */
function variantDirectory(): string | undefined {
  const name = process.env.IPVS_ADDON_VARIANT;
  if (!name) return undefined;
  if (!/^[a-z0-9-]+$/.test(name)) {
    throw new Error(`IPVS_ADDON_VARIANT must be letters, digits and dashes (a directory under build/), not '${name}'`);
  }
  return name;
}

/**
 * Loads the addon's exports (as require() would, without the module system
 * around it). Throws an AddonError whose message holds the real cause and
 * what to do about it.
 */
export function loadAddon<T>(): T {
  if (process.platform !== 'linux') {
    throw addonError(
      'platform',
      undefined,
      `ipvs works only on Linux (IPVS is part of the Linux kernel); this is ${process.platform}`,
      '',
    );
  }
  const path = addonPath();
  try {
    const module = { exports: {} as T };
    process.dlopen(module, path);
    return module.exports;
  } catch (cause) {
    throw explain(path, cause);
  }
}

/** The AddonError for a dlopen() of `path` that failed with `cause`. */
function explain(path: string, cause: unknown): AddonError {
  const text = (cause instanceof Error ? cause.message : String(cause)).trim();
  const what = `the ipvs native addon could not be loaded from ${path}: ${text}`;
  // "libnl-genl-3.so.200: cannot open shared object file: No such file or directory"
  const library = /(lib[\w.+-]+\.so[\d.]*): cannot open shared object file/.exec(text)?.[1];
  if (library !== undefined && library.startsWith('libnl')) {
    return addonError('library', path, what, `It needs libnl's runtime libraries: ${LIBNL_RUNTIME}`, cause);
  }
  if (library !== undefined) {
    return addonError('library', path, what, `Install the package that provides ${library}`, cause);
  }
  // "version `GLIBC_2.34' not found", "wrong ELF class", "invalid ELF header", a missing file.
  const remedy = path.includes(join('prebuilds', ''))
    ? `The prebuilt addon needs glibc 2.34 or newer; elsewhere, build it here with ${BUILD_HOW}`
    : `Rebuild it with ${BUILD_HOW}`;
  return addonError('unusable', path, what, remedy, cause);
}

function addonError(
  failure: AddonFailure,
  path: string | undefined,
  what: string,
  remedy: string,
  cause?: unknown,
): AddonError {
  const message = remedy === '' ? what : `${what}. ${remedy}`;
  const error = new Error(message, cause === undefined ? undefined : { cause }) as AddonError;
  return Object.assign(error, { code: ADDON_ERROR, failure, path, what } as const);
}

/** True for the error loadAddon() throws. */
export function isAddonError(error: unknown): error is AddonError {
  return error instanceof Error && (error as Partial<AddonError>).code === ADDON_ERROR;
}
