#!/usr/bin/env node
// The package's install step (package.json "install"). The package ships
// prebuilt addons (prebuilds/, scripts/prebuild), which load without any
// step at all: where install scripts are blocked (pnpm 10, --ignore-scripts)
// nothing is lost. This step compiles only where no addon here loads: no
// prebuild for this platform, or one this system cannot load (an older
// glibc), or `--build-from-source` (npm_config_build_from_source). Before it
// compiles it checks for the tools, and says in one message what is missing
// instead of letting node-gyp fail with a traceback.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const say = (text) => process.stderr.write(`ipvs: ${text}\n`);

// The library's own loader (src/addon.ts), so that this step and the library
// agree on what loads; a checkout has none before its first build.
const addonModule = join(root, 'dist', 'addon.cjs');
const addon = existsSync(addonModule) ? require(addonModule) : undefined;
const fromSource = process.env.npm_config_build_from_source === 'true';

let reason = 'building from source (--build-from-source)';
if (!fromSource) {
  if (addon === undefined) {
    reason = 'a checkout: building the addon from source';
  } else {
    try {
      addon.loadAddon();
      process.exit(0); // a prebuild (or an earlier build) loads: nothing to do
    } catch (error) {
      if (!addon.isAddonError(error)) throw error;
      // A missing libnl is not cured by compiling, which needs it too: say what
      // to install, and leave the package installed.
      if (error.failure === 'library' || error.failure === 'platform') {
        say(error.message);
        process.exit(0);
      }
      reason = error.what;
    }
  }
}

/** The file `name` resolves to on PATH (or itself when it has a slash), or undefined. */
function which(name) {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// What node-gyp's Makefile runs: $CXX (make's default: g++), make, python3.
const compiler = (process.env.CXX || 'g++').trim().split(/\s+/)[0];
const python = process.env.npm_config_python || process.env.PYTHON || 'python3';
const missing = [];
if (!which(compiler)) missing.push(`a C++ compiler (${compiler})`);
if (!which('make')) missing.push('make');
if (!which(python)) missing.push(python);
if (!which('pkg-config')) missing.push('pkg-config');
else if (spawnSync('pkg-config', ['--exists', 'libnl-3.0', 'libnl-genl-3.0']).status !== 0) {
  missing.push("libnl-3's headers");
}
// node-gyp: the package manager's own (npm and pnpm say where), or one on PATH.
const nodeGyp =
  process.env.npm_config_node_gyp ||
  which('node-gyp') ||
  (() => {
    try {
      return require.resolve('node-gyp/bin/node-gyp.js');
    } catch {
      return undefined;
    }
  })();
if (nodeGyp === undefined) missing.push('node-gyp (npm brings its own: install with npm, or npm install -g node-gyp)');

if (missing.length > 0) {
  say(reason);
  say(
    `cannot build the native addon here: missing ${missing.join(', ')}. ` +
      `A build needs ${addon?.BUILD_NEEDS ?? 'what the README\'s "Building from source" lists'}; ` +
      'then run `npm rebuild ipvs`.',
  );
  process.exit(1);
}

say(reason);
say('building the addon from source with node-gyp');
const args = nodeGyp.endsWith('.js') ? [nodeGyp, 'rebuild'] : ['rebuild'];
const build = spawnSync(nodeGyp.endsWith('.js') ? process.execPath : nodeGyp, args, { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
