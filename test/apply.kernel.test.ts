// apply, plan, batch and export against the real kernel: generated desired
// states land exactly as `ipvsadm -R` of the same rules does in another
// namespace; a plan the kernel refuses at its start, middle or end leaves
// `ipvsadm -Sn` exactly as it was; maxChanges; drift when ipvsadm changes
// the table during an apply; batches of the caller's own changes.
import { spawnSync } from 'node:child_process';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { BATCH_COLUMNS, encode } from '../src/batch.js';
import { ApplyError, IpvsError, type DesiredState } from '../src/index.js';
import { destinationSpecToRaw } from '../src/destination.js';
import { serviceSpecToRaw } from '../src/service.js';
import { createLab, type Lab } from './helpers/netns.js';
import { desiredState, rulesOf } from './helpers/rules.js';

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

function restore(target: Lab, rules: string): void {
  const r = spawnSync('ip', ['netns', 'exec', target.name, 'ipvsadm', '-R'], { input: rules, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ipvsadm -R failed: ${r.stderr}\n${rules}`);
}

describe('apply', () => {
  it.each([1, 2, 3, 4])('makes generated state %i as ipvsadm -R makes it', async (seed) => {
    const state = desiredState(seed, 24);
    const result = await lab.ipvs.apply(state);
    expect(result.applied).toBe(true);
    expect(result.drift).toEqual([]);
    await reference.ipvs.clear();
    restore(reference, rulesOf(state));
    expect(lab.saved()).toBe(reference.saved());
    // What the table now holds plans to nothing, through a JSON round trip.
    const exported = JSON.parse(JSON.stringify(await lab.ipvs.export())) as DesiredState;
    expect((await lab.ipvs.plan(exported)).changes).toEqual([]);
    const again = await lab.ipvs.apply(exported);
    expect(again.changes).toEqual([]);
    expect(lab.saved()).toBe(reference.saved());
  });

  it('moves one generated state to another, editing in place what keeps its key', async () => {
    const first = desiredState(10, 30);
    await lab.ipvs.apply(first);
    // The same services with other settings, some dropped, some new.
    const second = desiredState(10, 30);
    second.services = second.services.filter((_, i) => i % 5 !== 0);
    second.services.forEach((s, i) => {
      if (i % 3 === 0) reschedule(s, s.scheduler === 'rr' ? 'wlc' : 'rr');
      for (const d of s.destinations ?? []) d.weight = (d.weight ?? 1) + 1;
    });
    second.services.push(...desiredState(11, 3).services.map((s, i) => ({ ...s, ...portOf(s, 60000 + i) })));
    const plan = await lab.ipvs.plan(second);
    expect(plan.changes.every((c) => c.action !== 'delete' || c.kind === 'service')).toBe(true);
    expect(plan.changes.filter((c) => c.kind === 'service' && c.action === 'edit').length).toBeGreaterThan(0);
    const result = await lab.ipvs.apply(plan);
    expect(result.drift).toEqual([]);
    await reference.ipvs.clear();
    restore(reference, rulesOf(second));
    expect(lab.saved()).toBe(reference.saved());
  });

  it.each(['first', 'middle', 'last'] as const)(
    'leaves the table exactly as it was when the kernel refuses the %s change',
    async (where) => {
      const before = desiredState(20, 12);
      await lab.ipvs.apply(before);
      const saved = lab.saved();
      // A plan that deletes, edits and adds, with one change the kernel refuses.
      const next = desiredState(20, 12);
      if (where !== 'first') next.services.splice(3, 1); // a delete (its destinations to restore)
      reschedule(next.services[0]!, where === 'first' ? 'nosuch' : next.services[0]!.scheduler === 'rr' ? 'sh' : 'rr');
      for (const d of next.services[1]!.destinations ?? []) d.weight = 77; // destination edits
      const added = desiredState(21, 24, 0).services.map((s, i) => ({ ...s, ...portOf(s, 50000 + i) }));
      next.services.push(...added);
      // The refused change: a scheduler that does not exist, or, last of all,
      // a destination the kernel will not take (a multicast address).
      if (where === 'middle') reschedule(added[12]!, 'nosuch');
      if (where === 'last') {
        const last = added[added.length - 1]!;
        const v6 = 'protocol' in last ? (last.address ?? '').includes(':') : last.family === 'inet6';
        last.destinations = [{ address: v6 ? 'ff0e::1' : '224.0.0.1', forwarding: 'tunnel' }];
      }
      const plan = await lab.ipvs.plan(next);
      const index =
        where === 'first'
          ? 0
          : where === 'middle'
            ? plan.changes.findIndex((c) => c.kind === 'service' && c.action === 'add') + 12
            : plan.changes.length - 1;
      const error = await lab.ipvs.apply(plan).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApplyError);
      const e = error as ApplyError;
      expect(e).toMatchObject({ op: 'apply', index, restored: true, undoFailures: [] });
      expect(e.code).toBe(where === 'last' ? 'EINVAL' : 'ENOENT');
      expect(e.change).toBe(plan.changes[index]);
      // The changes before it, and those after it in its window that the kernel took.
      expect(e.undone).toBeGreaterThanOrEqual(index);
      // Even the first: the kernel took the rest of its datagram, which was undone too.
      expect(e.message).toMatch(/the table was restored \(\d+ changes? undone\)$/);
      expect(lab.saved()).toBe(saved);
    },
  );

  // A large plan goes in several native calls (1,024 changes, then parts that
  // grow): a refusal in a later part undoes the parts before it too.
  it.each([2000, 5400])(
    'leaves the table as it was when the kernel refuses change %i of 5,500, sent in parts',
    async (at) => {
      const before = desiredState(22, 12);
      await lab.ipvs.apply(before);
      const saved = lab.saved();
      const added: DesiredState['services'] = Array.from({ length: 500 }, (_, i) => ({
        protocol: 'udp' as const,
        address: '192.0.2.254',
        port: 40000 + i,
        scheduler: 'wrr',
        destinations: Array.from({ length: 10 }, (_, j) => ({
          address: `198.51.100.${j + 1}`,
          port: 53,
          forwarding: 'masq' as const,
          weight: j + 1,
        })),
      }));
      // The plan adds the 500 services, then their destinations in order: a
      // multicast destination the kernel will not take is change `at`.
      const refused = at - 500;
      added[Math.floor(refused / 10)]!.destinations![refused % 10] = {
        address: '224.0.0.1',
        port: 53,
        forwarding: 'tunnel',
        weight: 1,
      };
      const plan = await lab.ipvs.plan({ services: [...before.services, ...added] });
      expect(plan.changes.length).toBe(5500);
      expect(plan.changes[at]).toMatchObject({ kind: 'destination', action: 'add', destination: '224.0.0.1:53' });
      const error = await lab.ipvs.apply(plan).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApplyError);
      expect(error).toMatchObject({ op: 'apply', code: 'EINVAL', index: at, restored: true, undoFailures: [] });
      expect((error as ApplyError).undone).toBeGreaterThanOrEqual(at);
      expect(lab.saved()).toBe(saved);
    },
    120_000,
  );

  it('refuses a plan larger than maxChanges before changing anything', async () => {
    const state = desiredState(30, 10);
    const plan = await lab.ipvs.plan(state);
    const error = await lab.ipvs.apply(state, { maxChanges: plan.changes.length - 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IpvsError);
    expect(error).toMatchObject({ op: 'apply', code: 'E2BIG' });
    expect(lab.saved()).toBe('');
    const ok = await lab.ipvs.apply(state, { maxChanges: plan.changes.length });
    expect(ok.changes.length).toBe(plan.changes.length);
  });

  it('changes nothing on a dry run, and says what it would do', async () => {
    const state = desiredState(31, 5);
    const result = await lab.ipvs.apply(state, { dryRun: true });
    expect(result.applied).toBe(false);
    expect(result.changes.length).toBeGreaterThan(0);
    expect(lab.saved()).toBe('');
  });

  it('reports drift when ipvsadm changes the table during an apply', async () => {
    const state = desiredState(40, 20);
    let changed = false;
    const result = await lab.ipvs.apply(state, {
      onProgress: () => {
        if (changed) return;
        changed = true;
        lab.ipvsadm('-A', '-t', '203.0.113.9:80', '-s', 'rr');
      },
    });
    expect(changed).toBe(true);
    expect(result.drift).toEqual([
      expect.objectContaining({ kind: 'service', action: 'delete', service: 'TCP 203.0.113.9:80' }),
    ]);
    // A plan made before another process changed the table: its changes
    // still go in, and what it did not expect is drift.
    const plan = await lab.ipvs.plan({ services: [] });
    lab.ipvsadm('-A', '-u', '203.0.113.10:53');
    const cleared = await lab.ipvs.apply(plan);
    expect(cleared.drift.map((c) => c.service)).toEqual(['UDP 203.0.113.10:53']);
  });

  it('leaves unnamed services alone with onlyListed', async () => {
    lab.ipvsadm('-A', '-t', '203.0.113.1:80');
    const state = desiredState(50, 4);
    const result = await lab.ipvs.apply(state, { onlyListed: true });
    expect(result.drift).toEqual([]);
    expect(lab.saved()).toContain('-A -t 203.0.113.1:80 -s wlc');
  });

  it('refuses a document it cannot validate before anything is sent', async () => {
    await expect(
      lab.ipvs.apply({ services: [{ protocol: 'tcp', address: '192.0.2.1', port: 70000 }] } as never),
    ).rejects.toThrow(/^services\[0\]: /);
    expect(lab.saved()).toBe('');
  });
});

describe('batch', () => {
  it('makes a caller’s changes pipelined, and undoes them all when one is refused', async () => {
    const web = { protocol: 'tcp', address: '192.0.2.1', port: 80 } as const;
    const made = await lab.ipvs.batch([
      { action: 'add', service: { ...web, scheduler: 'rr' } },
      ...Array.from({ length: 100 }, (_, i) => ({
        action: 'add' as const,
        service: web,
        destination: { address: `198.51.100.${i + 1}`, forwarding: 'masq' as const },
      })),
    ]);
    expect(made.changes).toHaveLength(101);
    const saved = lab.saved();
    const error = await lab.ipvs
      .batch([
        { action: 'edit', service: { ...web, scheduler: 'sh' } },
        { action: 'delete', service: web, destination: { address: '198.51.100.7' } },
        { action: 'edit', service: web, destination: { address: '198.51.100.8', forwarding: 'route', weight: 0 } },
        { action: 'add', service: web, destination: { address: '198.51.100.9', forwarding: 'masq' } }, // exists
        { action: 'add', service: { protocol: 'udp', address: '192.0.2.2', port: 53 } },
      ])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ApplyError);
    // The last change was in the refused one's datagram: the kernel made it too, and it was undone.
    expect(error).toMatchObject({ op: 'batch', code: 'EEXIST', index: 3, restored: true, undone: 4 });
    expect((error as ApplyError).message).toContain('add destination 198.51.100.9:80 to TCP 192.0.2.1:80');
    expect(lab.saved()).toBe(saved);
  });
  it('refuses rows it cannot send before sending any of them, naming the row and the field', async () => {
    const service = serviceSpecToRaw({ protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'rr' });
    const dest = destinationSpecToRaw({ address: '198.51.100.1', forwarding: 'masq' }, service);
    const { rows, strings } = encode([
      { op: 'addService', service },
      { op: 'addDestination', service, dest },
      { op: 'addDestination', service, dest: { ...dest, port: 81 } },
    ]);
    // The third row's weight beyond the kernel's int: the rows are read on the batch's thread.
    rows[2 * BATCH_COLUMNS.length + BATCH_COLUMNS.indexOf('weight')] = 2 ** 31;
    await expect(lab.ipvs.raw.batch(rows, strings, { stopOnError: true, window: 64 })).rejects.toMatchObject({
      errno: 22,
      message: expect.stringContaining('batch row 2: field weight must be an integer from 0 to 2147483647'),
    });
    expect(lab.saved()).toBe('');
    // The same rows, mended, go through.
    rows[2 * BATCH_COLUMNS.length + BATCH_COLUMNS.indexOf('weight')] = 5;
    const outcome = await lab.ipvs.raw.batch(rows, strings, { stopOnError: true, window: 64 });
    expect([...outcome.status]).toEqual([0, 0, 0]);
    expect(lab.saved()).toContain('-a -t 192.0.2.1:80 -r 198.51.100.1:81 -m -w 5');
  });
});

/**
 * The service on another port (or fwmark). Its destinations that do not
 * masquerade follow it: ipvsadm gives those its port, whatever a rule says.
 */
function portOf(s: DesiredState['services'][number], port: number): Partial<DesiredState['services'][number]> {
  const destinations = s.destinations?.map((d) =>
    d.forwarding === 'masq' ? d : { ...d, port: 'protocol' in s ? port : 0 },
  );
  return 'protocol' in s ? { port, destinations } : { fwmark: port, destinations };
}

/** Another scheduler for a service, without the flags of its old one. */
function reschedule(s: DesiredState['services'][number], scheduler: string): void {
  s.scheduler = scheduler;
  delete s.schedulerFlags;
}
