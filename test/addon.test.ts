// Loading the addon where it cannot load (src/addon.ts): each failure says
// its real cause and what to do in the message itself, the command line
// reports it as it is (not as a kernel without IPVS), and the install step
// (scripts/install.mjs) compiles only where that could help, after checking
// for the tools. Each case runs in a fresh node with the addon taken from a
// directory of its own (IPVS_PREBUILD, node-gyp-build's override of where to
// look), so the checkout's own addon is never touched.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addonPath } from '../src/native.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string;

/** A directory whose build/Release/ipvs.node is `bytes`. */
function addonDir(name: string, bytes: Uint8Array | undefined): string {
  const at = join(dir, name);
  mkdirSync(join(at, 'build', 'Release'), { recursive: true });
  if (bytes !== undefined) writeFileSync(join(at, 'build', 'Release', 'ipvs.node'), bytes);
  return at;
}

/** Runs node with ARGS, the addon looked for in `addon` only. */
function node(addon: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const base = { ...process.env };
  delete base.IPVS_ADDON_VARIANT; // scripts/sanitize's variant would win over IPVS_PREBUILD
  return spawnSync(process.execPath, args, {
    encoding: 'utf8',
    cwd: root,
    env: { ...base, IPVS_PREBUILD: addon, PREBUILDS_ONLY: '', ...env },
  });
}

/** What loading the library's addon throws, as JSON. */
function loadError(addon: string) {
  const out = node(addon, [
    '-e',
    `require('./dist/index.cjs').open({ modprobe: false }).then(
       () => console.log('{}'),
       (e) => console.log(JSON.stringify({ name: e.name, code: e.code, failure: e.failure, message: e.message })));`,
  ]);
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as { name: string; code: string; failure: string; message: string };
}

let noLibnl: string;
let missing: string;
let notElf: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipvs-addon-'));
  // The checkout's addon, one of whose libnl libraries is renamed in its
  // dynamic section (same length): as on a machine without libnl-genl.
  const addon = readFileSync(addonPath());
  const at = addon.indexOf('libnl-genl-3.so.200');
  expect(at).toBeGreaterThan(0);
  addon.write('libnl-genl-X.so.200', at);
  noLibnl = addonDir('no-libnl', addon);
  missing = addonDir('missing', undefined);
  notElf = addonDir('not-elf', Buffer.from('not an ELF file\n'.repeat(8)));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a missing shared library', () => {
  it('is named, with the package that brings it on each distribution', () => {
    const e = loadError(noLibnl);
    expect(e).toMatchObject({ name: 'Error', code: 'ERR_IPVS_ADDON', failure: 'library' });
    expect(e.message).toContain('libnl-genl-X.so.200: cannot open shared object file');
    expect(e.message).toContain('apt-get install libnl-3-200 libnl-genl-3-200');
    expect(e.message).toContain('dnf install libnl3');
    expect(e.message).toContain('apk add libnl3');
  });

  it('is what the command line says, without blaming the kernel', () => {
    for (const args of [['-Ln'], ['export']]) {
      const out = node(noLibnl, ['dist/cli.cjs', ...args]);
      expect(out.status, args.join(' ')).toBe(1);
      expect(out.stderr).toContain('libnl-genl-X.so.200: cannot open shared object file');
      expect(out.stderr).not.toMatch(/IP Virtual Server|Can't initialize/);
    }
  });

  it('leaves the install step installed, saying what to install (compiling would need it too)', () => {
    const out = node(noLibnl, ['scripts/install.mjs']);
    expect(out.status).toBe(0);
    expect(out.stderr).toContain('apt-get install libnl-3-200 libnl-genl-3-200');
  });
});

describe('no addon that fits', () => {
  it('says how to build one', () => {
    const e = loadError(missing);
    expect(e).toMatchObject({ code: 'ERR_IPVS_ADDON', failure: 'missing' });
    expect(e.message).toContain(`no prebuilt ipvs addon fits this system (linux-${process.arch}`);
    expect(e.message).toContain('npm rebuild ipvs');
    expect(e.message).toContain('apt-get install g++ make python3 pkg-config libnl-3-dev libnl-genl-3-dev');
  });

  it('makes the install step check for the tools first, and name every one missing in one message', () => {
    // A PATH with node alone: no compiler, make, python3, pkg-config, node-gyp.
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, 'node'));
    const out = node(missing, ['scripts/install.mjs'], { PATH: bin, CXX: '', npm_config_node_gyp: '' });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('cannot build the native addon here: missing a C++ compiler (g++), make, python3');
    expect(out.stderr).not.toMatch(/gyp (ERR|info)/);
    expect(out.stderr.trim().split('\n')).toHaveLength(2); // why, and what is missing
  });
});

describe('an addon this system cannot load', () => {
  it('gives the loader’s own reason and says to rebuild', () => {
    const e = loadError(notElf);
    expect(e).toMatchObject({ code: 'ERR_IPVS_ADDON', failure: 'unusable' });
    expect(e.message).toContain('invalid ELF header');
    expect(e.message).toContain('Rebuild it with `npm rebuild ipvs`');
  });
});
