// `ipvs apply` and `ipvs export` without a kernel: documents and ipvsadm
// rules read as desired states, plans printed as diffs, usage errors.
import { describe, expect, it } from 'vitest';

import type { Change } from '../src/batch.js';
import { changeLine, parseDocument, parseRules } from '../src/cli/apply.js';
import { main } from '../src/cli/main.js';

async function run(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const status = await main(['ipvs', ...args], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => '',
  });
  return { status, stdout, stderr };
}

describe('reading a desired state', () => {
  it('takes YAML and JSON', () => {
    const yaml =
      'services:\n  - protocol: tcp\n    address: 192.0.2.1\n    port: 80\n    destinations:\n      - address: 198.51.100.1\n';
    expect(parseDocument(yaml, 'x')).toEqual({
      services: [{ protocol: 'tcp', address: '192.0.2.1', port: 80, destinations: [{ address: '198.51.100.1' }] }],
    });
    expect(parseDocument('{"services": []}', 'x')).toEqual({ services: [] });
    expect(() => parseDocument('services: [\n', 'f.yaml')).toThrow(/f\.yaml is not valid YAML or JSON/);
    expect(() => parseDocument('a: 1\na: 2\n', 'f.yaml')).toThrow(/not valid/);
  });

  it('takes ipvsadm -S rules', async () => {
    const rules = [
      '-A -t 192.0.2.1:80 -s rr -p 300 -M 255.255.255.0',
      '-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3 -x 10 -y 2',
      '-A -f 5 -6 -s sh -b sh-port',
      '-a -f 5 -6 -r [2001:db8::2]:0 -i --tun-type gue --tun-port 6080 --tun-csum',
      '',
    ].join('\n');
    expect(await parseRules(rules, 'rules', 'ipvs')).toEqual({
      services: [
        {
          protocol: 'tcp',
          address: '192.0.2.1',
          port: 80,
          scheduler: 'rr',
          persistence: { timeout: 300, netmask: '255.255.255.0' },
          destinations: [
            {
              address: '198.51.100.1',
              port: 8080,
              forwarding: 'masq',
              weight: 3,
              upperThreshold: 10,
              lowerThreshold: 2,
            },
          ],
        },
        {
          fwmark: 5,
          family: 'inet6',
          scheduler: 'sh',
          schedulerFlags: ['sh-port'],
          destinations: [
            {
              address: '2001:db8::2',
              port: 0,
              forwarding: 'tunnel',
              weight: 1,
              tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
            },
          ],
        },
      ],
    });
    await expect(parseRules('-D -t 192.0.2.1:80\n', 'r', 'ipvs')).rejects.toThrow(/r, line 1: only -A and -a/);
    await expect(parseRules('-a -t 192.0.2.1:80 -r 198.51.100.1\n', 'r', 'ipvs')).rejects.toThrow(
      /no earlier line adds/,
    );
    await expect(parseRules('-A -t nope\n', 'r', 'ipvs')).rejects.toThrow(/^r, line 1: /);
  });
});

describe('printing a plan', () => {
  it('reads as a diff', () => {
    const changes: Change[] = [
      {
        kind: 'service',
        action: 'add',
        service: 'TCP 192.0.2.1:80',
        after: { protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'rr', persistence: { timeout: 60 } },
      },
      {
        kind: 'service',
        action: 'edit',
        service: 'TCP 192.0.2.1:80',
        fields: ['scheduler'],
        before: { protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'rr' },
        after: { protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'wlc' },
      },
      {
        kind: 'destination',
        action: 'edit',
        service: 'TCP 192.0.2.1:80',
        destination: '198.51.100.1:80',
        fields: ['weight'],
        before: { address: '198.51.100.1', weight: 1 },
        after: { address: '198.51.100.1', weight: 0 },
      },
      {
        kind: 'service',
        action: 'delete',
        service: 'UDP 192.0.2.2:53',
        destinations: [{ address: '198.51.100.2' }],
      },
      {
        kind: 'destination',
        action: 'add',
        service: 'FWM 5',
        destination: '198.51.100.3:0',
        after: { address: '198.51.100.3', forwarding: 'tunnel', tunnel: { type: 'gue', port: 9, checksum: 'csum' } },
      },
    ];
    expect(changes.map(changeLine)).toEqual([
      '+ service TCP 192.0.2.1:80 scheduler rr persistence 60s',
      '~ service TCP 192.0.2.1:80 scheduler rr -> wlc',
      '~ destination TCP 192.0.2.1:80 -> 198.51.100.1:80 weight 1 -> 0',
      '- service UDP 192.0.2.2:53 (with its 1 destination)',
      '+ destination FWM 5 -> 198.51.100.3:0 tunnel weight 1 tunnel gue:9,csum',
    ]);
  });
});

describe('the commands', () => {
  it('print their usage, and refuse bad command lines before opening IPVS', async () => {
    const help = await run('apply', '--help');
    expect(help).toMatchObject({ status: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: ipvs apply /);
    const none = await run('apply');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^ipvs apply: give one FILE/);
    const bad = await run('apply', '--max-changes', 'ten', 'x.yaml');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--max-changes takes a number/);
    const unknown = await run('export', '--bogus');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^ipvs export: Unknown option '--bogus'/);
    const missing = await run('apply', '/nonexistent/x.yaml');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/x\.yaml/);
  });
});
