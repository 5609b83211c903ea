// `ipvs apply` and `ipvs export` against the real kernel, as processes (the
// executable in dist/) and in-process: export | apply changes nothing; a
// document lands as `ipvsadm -R` of the same rules; a refusal exits 1 with
// the table as it was; --rules, --dry-run, --max-changes, --json.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { main } from '../src/cli/main.js';
import { createLab, type Lab } from './helpers/netns.js';
import { desiredState, rulesOf } from './helpers/rules.js';

const CLI = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ipvs-apply-'));

let lab: Lab;
let reference: Lab;
beforeAll(async () => {
  [lab, reference] = await Promise.all([createLab(), createLab()]);
});
afterAll(async () => {
  await lab?.close();
  await reference?.close();
});
beforeEach(async () => {
  await lab.ipvs.clear();
});

/** The executable, as a user runs it, in the lab's namespace (a process costs seconds under emulation: a few only). */
function ipvsProcess(args: string[], input = '') {
  const r = spawnSync(process.execPath, [CLI, '--netns', lab.path, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same program in-process (main), in the lab's namespace. */
async function ipvs(args: string[], input = '') {
  let stdout = '';
  let stderr = '';
  const status = await main(['ipvs', ...args], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => input,
    netns: lab.path,
  });
  return { status, stdout, stderr };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('ipvs apply', () => {
  it('makes a YAML document the table, as ipvsadm -R makes its rules (the executable)', { timeout: 120_000 }, () => {
    const state = desiredState(101, 20);
    const applied = ipvsProcess(['apply', file('a.yaml', stringify(state))]);
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(/^\+ service /);
    expect(applied.stdout).toMatch(/Applied: \d+ added, 0 changed, 0 deleted\.\n$/);
    spawnSync('ip', ['netns', 'exec', reference.name, 'ipvsadm', '-C']);
    const r = spawnSync('ip', ['netns', 'exec', reference.name, 'ipvsadm', '-R'], {
      input: rulesOf(state),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(lab.saved()).toBe(reference.saved());
  });

  it('changes nothing when given what export printed (YAML and JSON)', async () => {
    await ipvs(['apply', file('b.json', JSON.stringify(desiredState(102, 15)))]);
    const saved = lab.saved();
    for (const args of [['export'], ['export', '--json']]) {
      const exported = await ipvs(args);
      expect(exported.status).toBe(0);
      const again = await ipvs(['apply', '-'], exported.stdout);
      expect(again).toMatchObject({ status: 0, stderr: '' });
      expect(again.stdout).toBe('No changes: the table already equals stdin.\n');
      expect(lab.saved()).toBe(saved);
    }
  });

  it('takes ipvsadm -S rules with --rules', async () => {
    // ipvsadm -S leaves thresholds out: a table with none saves whole.
    const state = desiredState(103, 8);
    for (const s of state.services)
      for (const d of s.destinations ?? []) (delete d.upperThreshold, delete d.lowerThreshold);
    const rules = rulesOf(state);
    expect((await ipvs(['apply', '--rules', '-'], rules)).status).toBe(0);
    spawnSync('ip', ['netns', 'exec', reference.name, 'ipvsadm', '-C']);
    spawnSync('ip', ['netns', 'exec', reference.name, 'ipvsadm', '-R'], { input: rules });
    expect(lab.saved()).toBe(reference.saved());
    const saved = await ipvs(['apply', '--rules', '-'], lab.saved());
    expect(saved.stdout).toBe('No changes: the table already equals stdin.\n');
  });

  it(
    'exits 1 with the table unchanged when the kernel refuses a change (the executable)',
    { timeout: 120_000 },
    async () => {
      await ipvs(['apply', file('c.yaml', stringify(desiredState(104, 6)))]);
      const saved = lab.saved();
      const next = desiredState(104, 6);
      next.services[0]!.scheduler = 'wrr';
      delete next.services[0]!.schedulerFlags;
      next.services.push({ protocol: 'tcp', address: '203.0.113.5', port: 80, scheduler: 'nosuch' });
      const r = ipvsProcess(['apply', file('d.yaml', stringify(next))]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /^ipvs apply: apply: change \d+ of \d+ \(add service TCP 203\.0\.113\.5:80\) was refused: .*\[ENOENT\]; the table was restored/,
      );
      expect(lab.saved()).toBe(saved);
    },
  );

  it('prints the plan and changes nothing with --dry-run; refuses more than --max-changes', async () => {
    const doc = file('e.yaml', stringify(desiredState(105, 3, 2)));
    const dry = await ipvs(['apply', '--dry-run', doc]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to delete \(dry run: nothing changed\)\.\n$/);
    // A line per change, although a dry run makes none of the steps that apply() makes as it sends.
    const planned = Number(/Plan: (\d+) to add/.exec(dry.stdout)![1]);
    expect(dry.stdout.split('\n').filter((l) => l.startsWith('+ '))).toHaveLength(planned);
    expect(lab.saved()).toBe('');
    const capped = await ipvs(['apply', '--max-changes', '1', doc]);
    expect(capped.status).toBe(1);
    expect(capped.stderr).toMatch(/more than maxChanges \(1\): nothing was changed/);
    expect(capped.stdout).toBe('');
    expect(lab.saved()).toBe('');
    const json = await ipvs(['apply', '--json', doc]);
    expect(json.status).toBe(0);
    const result = JSON.parse(json.stdout) as { applied: boolean; changes: { text: string }[]; drift: unknown[] };
    expect(result.applied).toBe(true);
    expect(result.drift).toEqual([]);
    expect(result.changes[0]!.text).toMatch(/^add service /);
  });

  it('names a bad document and changes nothing', async () => {
    const r = await ipvs([
      'apply',
      file('f.yaml', 'services:\n  - protocol: tcp\n    address: 192.0.2.1\n    port: 99999\n'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/services\[0\]: .*port/);
    expect(lab.saved()).toBe('');
  });
});
