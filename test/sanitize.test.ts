// scripts/sanitize's judge (test/sanitize/report.mjs) on canned reports: what
// fails a run and what does not, so that a leak through the addon can never
// pass as one of Node's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { tempFiles } from './helpers/files.js';

const JUDGE = fileURLToPath(new URL('./sanitize/report.mjs', import.meta.url));
const { dir } = tempFiles('ipvs-sanitize-');
let runs = 0;

/** Runs the judge on a directory holding `reports` (file name to text). */
function judge(reports: Record<string, string>): { status: number | null; out: string } {
  const logs = join(dir, String(runs++));
  mkdirSync(logs);
  for (const [name, text] of Object.entries(reports)) writeFileSync(join(logs, name), text);
  const r = spawnSync(process.execPath, [JUDGE, logs], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout };
}

const leak = (frames: string[]) =>
  `\n=================================================================\n==1==ERROR: LeakSanitizer: detected memory leaks\n\n` +
  `Direct leak of 16 byte(s) in 1 object(s) allocated from:\n` +
  frames.map((f, i) => `    #${i} ${f}\n`).join('') +
  `\nSUMMARY: AddressSanitizer: 16 byte(s) leaked in 1 allocation(s).\n`;

const NEW = '0x7f0 in operator new[](unsigned long) ../../../../src/libsanitizer/asan/asan_new_delete.cpp:98';
const NODE_MAIN = '0xc68 in node::Start(int, char**) (/usr/bin/node+0xc6853e)';

describe('the sanitizers report judge', () => {
  it('passes a run without reports, and leaks of other programs', () => {
    expect(judge({}).status).toBe(0);
    const r = judge({ 'asan.7': leak([NEW, '0x55 (/usr/bin/sort+0x13338)']) });
    expect(r.status).toBe(0);
    expect(r.out).toContain('1 leak(s) not through the addon, in /usr/bin/sort');
  });

  it('fails a leak whose stack passes through the addon, its sources or libnl, below any of Node', () => {
    for (const frame of [
      '0x7f1 in ipvs::ParseConnections(Napi::CallbackInfo const&) ../native/connections.cc:292',
      '0x7f2 (/work/ipvs/build/asan/build/Release/ipvs.node+0x3081fa)',
      '0x7f3 in nl_msg_alloc (/lib/x86_64-linux-gnu/libnl-3.so.200+0x1234)',
    ]) {
      const r = judge({
        'asan.8': leak([NEW, '0xc50 in napi_create_external (/usr/bin/node+0xc50413)', frame, NODE_MAIN]),
      });
      expect(r.status).toBe(1);
      expect(r.out).toContain('a leak through the addon');
    }
  });

  it('fails any memory error, undefined behaviour, data race or fatal error of a sanitizer', () => {
    for (const text of [
      '=================================================================\n==9==ERROR: AddressSanitizer: heap-use-after-free on address 0x60',
      '../native/conn_parse.cc:40:12: runtime error: shift exponent 64 is too large',
      '==================\nWARNING: ThreadSanitizer: data race (pid=9)\n  Write of size 8',
      '==9==LeakSanitizer has encountered a fatal error.',
    ]) {
      expect(judge({ 'asan.9': text }).status).toBe(1);
    }
  });
});
