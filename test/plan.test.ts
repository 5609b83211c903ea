// Plans without a kernel: the fewest changes between a table (a canned packed
// snapshot) and a desired state, in the order they are applied; the
// document's validation; export, which plans to nothing; batch rows as the
// addon lays them out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { BATCH_COLUMNS, batchSteps, describeChange, encode, undoOf } from '../src/batch.js';
import { K } from '../src/constants.js';
import { destinationSpecToRaw } from '../src/destination.js';
import type { RawDestSpec, RawServiceSpec } from '../src/native.js';
import { native } from '../src/native.js';
import { ApplyError } from '../src/errors.js';
import { applyPlan, exportState, planFrom, planParts, validateDesired, type DesiredState } from '../src/plan.js';
import type { RawIpvs } from '../src/raw.js';
import { serviceSpecToRaw } from '../src/service.js';
import type { PackedSnapshot } from '../src/snapshot.js';
import { tableFromPacked } from '../src/table.js';
import { destinationSpec, serviceSpec } from './helpers/arbitraries.js';
import { packedOf, tableFor } from './helpers/packed.js';

type Rows = { service: RawServiceSpec; dests: RawDestSpec[] }[];

const serviceKeyText = (s: RawServiceSpec) => `${s.af}/${s.protocol}/${s.port}/${s.fwmark}/${s.addr.join('.')}`;

/** A service with destination specs for its family (some of which the facade may refuse with it). */
const entry = serviceSpec.chain((s) => {
  const raw = serviceSpecToRaw(s);
  return fc.tuple(
    fc.constant(raw),
    fc.array(destinationSpec(raw.af === K.AF_INET6 ? 'inet6' : 'inet'), { maxLength: 4 }),
  );
});

/** Rows of distinct services and destinations, as a kernel would list them. */
function rowsOf(entries: [RawServiceSpec, unknown[]][]): Rows {
  const seen = new Set<string>();
  const rows: Rows = [];
  for (const [service, specs] of entries) {
    const key = serviceKeyText(service);
    if (seen.has(key)) continue;
    seen.add(key);
    const dests = new Map<string, RawDestSpec>();
    for (const spec of specs) {
      try {
        const d = destinationSpecToRaw(spec as never, service);
        dests.set(`${d.af}/${d.addr.join('.')}/${d.port}`, d);
      } catch {
        // a combination the facade refuses
      }
    }
    rows.push({ service, dests: [...dests.values()] });
  }
  return rows;
}

const web = { protocol: 'tcp', address: '192.0.2.1', port: 80 } as const;
const dns = { protocol: 'udp', address: '2001:db8::1', port: 53 } as const;

const summaryOf = (doc: DesiredState, current: PackedSnapshot, onlyListed = false) =>
  planFrom(current, validateDesired(doc, { onlyListed })).changes.map(describeChange);

describe('plan', () => {
  const base: DesiredState = {
    services: [
      {
        ...web,
        scheduler: 'rr',
        destinations: [
          { address: '198.51.100.1', forwarding: 'masq' },
          { address: '198.51.100.2', forwarding: 'masq', weight: 3 },
        ],
      },
      { ...dns, destinations: [{ address: '2001:db8::10' }] },
    ],
  };

  it('adds everything to an empty table, services before their destinations', () => {
    expect(summaryOf(base, packedOf([]))).toEqual([
      'add service TCP 192.0.2.1:80',
      'add service UDP [2001:db8::1]:53',
      'add destination 198.51.100.1:80 to TCP 192.0.2.1:80',
      'add destination 198.51.100.2:80 to TCP 192.0.2.1:80',
      'add destination [2001:db8::10]:53 to UDP [2001:db8::1]:53',
    ]);
  });

  it('is empty when the table is already as desired', () => {
    expect(summaryOf(base, tableFor(base))).toEqual([]);
  });

  it('edits in place what the kernel can edit, and deletes and adds only changed keys', () => {
    const next: DesiredState = {
      services: [
        {
          ...web,
          scheduler: 'wlc',
          persistence: { timeout: 60 },
          destinations: [
            { address: '198.51.100.1', forwarding: 'route', weight: 0 },
            { address: '198.51.100.3', forwarding: 'masq' },
          ],
        },
        { ...dns, port: 5353, destinations: [] },
      ],
    };
    const plan = planFrom(tableFor(base), validateDesired(next));
    expect(plan.changes.map(describeChange)).toEqual([
      'delete destination 198.51.100.2:80 from TCP 192.0.2.1:80',
      'delete service UDP [2001:db8::1]:53',
      'edit service TCP 192.0.2.1:80',
      'add service UDP [2001:db8::1]:5353',
      'edit destination 198.51.100.1:80 of TCP 192.0.2.1:80',
      'add destination 198.51.100.3:80 to TCP 192.0.2.1:80',
    ]);
    expect(plan.summary).toEqual({ add: 2, edit: 2, delete: 2 });
    const edit = plan.changes[2]!;
    expect(edit).toMatchObject({ action: 'edit', fields: ['scheduler', 'persistence'] });
    expect(plan.changes[4]).toMatchObject({
      fields: ['forwarding', 'weight'],
      before: { forwarding: 'masq', weight: 1 },
      after: { forwarding: 'route', weight: 0 },
    });
    // A deleted service carries its destinations, for the record and for its undo.
    expect(plan.changes[1]).toMatchObject({ destinations: [{ address: '2001:db8::10', port: 53 }] });
  });

  it('tells a destination whose address changed at the same position from one that stayed', () => {
    const moved: DesiredState = {
      services: [
        {
          ...base.services[0]!,
          destinations: [{ address: '198.51.100.9', forwarding: 'masq' }, base.services[0]!.destinations![1]!],
        },
        base.services[1]!,
      ],
    };
    expect(summaryOf(moved, tableFor(base))).toEqual([
      'delete destination 198.51.100.1:80 from TCP 192.0.2.1:80',
      'add destination 198.51.100.9:80 to TCP 192.0.2.1:80',
    ]);
  });

  it('leaves services the document does not name alone with onlyListed', () => {
    const only: DesiredState = { services: [{ ...web, scheduler: 'rr', destinations: [] }] };
    expect(summaryOf(only, tableFor(base), true)).toEqual([
      'delete destination 198.51.100.1:80 from TCP 192.0.2.1:80',
      'delete destination 198.51.100.2:80 from TCP 192.0.2.1:80',
    ]);
    expect(summaryOf(only, tableFor(base))).toContain('delete service UDP [2001:db8::1]:53');
  });

  it('plans nothing from an exported table (property)', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), (entries) => {
        const snapshot = packedOf(rowsOf(entries));
        const doc = JSON.parse(JSON.stringify(exportState(snapshot))) as DesiredState;
        expect(planFrom(snapshot, validateDesired(doc)).changes).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('plans the same changes whatever order the kernel lists destinations in (property)', () => {
    // Listed in the document's order or in reverse (the kernel's: last added
    // first), unchanged services compare position by position; rotated, by
    // key. Each destination is kept, dropped or reweighted.
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), fc.array(fc.nat(2), { minLength: 1 }), (entries, edits) => {
        const doc = JSON.parse(JSON.stringify(exportState(packedOf(rowsOf(entries))))) as DesiredState;
        const table = validateDesired(doc).table;
        const rows = [...table.values()].map((s) => ({ service: s.raw, dests: [...s.destinations.values()] }));
        let k = 0;
        let expected = 0;
        for (const s of doc.services) {
          s.destinations = s.destinations!.flatMap((d) => {
            const e = edits[k++ % edits.length]!;
            if (e !== 0) expected++;
            return e === 1 ? [] : e === 2 ? [{ ...d, weight: (d.weight ?? 1) ^ 1 }] : [d];
          });
        }
        const desired = validateDesired(doc);
        const texts = (p: PackedSnapshot) =>
          planFrom(p, desired)
            .changes.map((c) => JSON.stringify(c))
            .sort();
        const inOrder = texts(packedOf(rows));
        expect(inOrder).toHaveLength(expected);
        expect(texts(packedOf(rows.map((r) => ({ ...r, dests: [...r.dests].reverse() }))))).toEqual(inOrder);
        expect(
          texts(packedOf(rows.map((r) => ({ ...r, dests: [...r.dests.slice(1), ...r.dests.slice(0, 1)] })))),
        ).toEqual(inOrder);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the read-back after an apply', () => {
  // Every change goes through: the read-back is what the test gives.
  const raw = {
    batch: async (rows: Uint32Array) => ({
      status: new Int32Array(rows.length / BATCH_COLUMNS.length),
      messages: [],
      stopped: 0,
      failure: null,
    }),
  } as unknown as RawIpvs;
  const driftOf = async (from: PackedSnapshot, doc: DesiredState, after: PackedSnapshot) =>
    (await applyPlan(raw, planFrom(from, validateDesired(doc)), async () => after, {})).drift;

  /** `rows`, each service kept, dropped or changed as `how` says (in order), then `extra` appended. */
  const mutate = (rows: Rows, how: number[], extra: Rows): Rows => {
    const out: Rows = [];
    rows.forEach((r, i) => {
      const op = how[i % Math.max(1, how.length)] ?? 0;
      if (op === 1) return;
      const service = op === 2 ? { ...r.service, scheduler: r.service.scheduler === 'rr' ? 'wrr' : 'rr' } : r.service;
      let dests = r.dests;
      if (op === 3) dests = dests.slice(1);
      if (op === 4 && dests.length > 0)
        dests = [{ ...dests[0]!, weight: (dests[0]!.weight + 1) % 100 }, ...dests.slice(1)];
      out.push({ service, dests });
    });
    const keys = new Set(out.map((r) => serviceKeyText(r.service)));
    return [...out, ...extra.filter((r) => !keys.has(serviceKeyText(r.service)))];
  };

  it('reports what another process changed, compared only where the table is not as planned', async () => {
    const doc: DesiredState = {
      services: [
        { ...web, scheduler: 'rr', destinations: [{ address: '198.51.100.1', forwarding: 'masq' }] },
        { ...dns, destinations: [{ address: '2001:db8::10' }] },
      ],
    };
    const table = tableFor(doc);
    expect(await driftOf(table, doc, table)).toEqual([]);
    // Another process changed the weight of a destination the plan left alone.
    const changed = tableFor({
      services: [doc.services[0]!, { ...dns, destinations: [{ address: '2001:db8::10', weight: 5 }] }],
    });
    expect((await driftOf(table, doc, changed)).map(describeChange)).toEqual([
      'edit destination [2001:db8::10]:53 of UDP [2001:db8::1]:53',
    ]);
    // The same table listed in another order: no drift.
    const reordered = tableFor({ services: [doc.services[1]!, doc.services[0]!] });
    expect(await driftOf(table, doc, reordered)).toEqual([]);
  });

  it('is the plan from the table read back to the document (property)', async () => {
    const tables = fc.tuple(
      fc.array(entry, { maxLength: 6 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 6 }),
      fc.array(entry, { maxLength: 2 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 6 }),
      fc.array(entry, { maxLength: 2 }),
      fc.boolean(),
    );
    await fc.assert(
      fc.asyncProperty(tables, async ([a, howB, extraB, howC, extraC, fromB]) => {
        const rowsA = rowsOf(a);
        const rowsB = mutate(rowsA, howB, rowsOf(extraB));
        // What another process left: the desired table, or the one before, changed again.
        const rowsC = mutate(fromB ? rowsB : rowsA, howC, rowsOf(extraC));
        const doc = JSON.parse(JSON.stringify(exportState(packedOf(rowsB)))) as DesiredState;
        const after = packedOf(rowsC);
        const drift = await driftOf(packedOf(rowsA), doc, after);
        expect(drift).toEqual(planFrom(after, validateDesired(doc)).changes);
      }),
      { numRuns: 300 },
    );
  });
});

describe('a plan that adds many destinations', () => {
  // 600 services of 5 destinations to add (3,600 steps: parts of 1,024 and
  // then 3,072 as runSteps sends them), beside a table that has one service
  // to keep with a destination to edit, and one to delete.
  const doc: DesiredState = {
    services: [
      { ...web, scheduler: 'rr', destinations: [{ address: '198.51.100.1', forwarding: 'masq', weight: 3 }] },
      ...Array.from({ length: 600 }, (_, i) => ({
        protocol: 'tcp' as const,
        address: `203.0.113.${1 + (i % 200)}`,
        port: 1000 + Math.floor(i / 200),
        destinations: Array.from({ length: 5 }, (_, j) => ({ address: `198.51.100.${j + 1}`, weight: j })),
      })),
    ],
  };
  const table = tableFor({
    services: [
      { ...web, scheduler: 'rr', destinations: [{ address: '198.51.100.1', forwarding: 'masq' }] },
      { ...dns, destinations: [{ address: '2001:db8::10' }] },
    ],
  });
  /** A raw client that takes every batch, refusing the change at `refuse` (an index into all it was sent). */
  const recording = (refuse = -1) => {
    const sent: Uint32Array[] = [];
    let before = 0;
    const raw = {
      batch: async (rows: Uint32Array) => {
        sent.push(rows);
        const n = rows.length / BATCH_COLUMNS.length;
        const status = new Int32Array(n);
        const at = refuse - before;
        before += n;
        if (at >= 0 && at < n) {
          status[at] = 17; // EEXIST
          status.fill(-1, at + 1);
        }
        return { status, messages: [], stopped: 0, failure: null };
      },
    } as unknown as RawIpvs;
    return { raw, sent };
  };
  const rowsOfAll = (sent: Uint32Array[]) => {
    const all = new Uint32Array(sent.reduce((n, r) => n + r.length, 0));
    let at = 0;
    for (const r of sent) all.set(r, (at += r.length) - r.length);
    return all;
  };

  it('makes the added services’ destination steps as they are sent, in the plan’s order', async () => {
    const plan = planFrom(table, validateDesired(doc));
    const { lazy } = planParts(plan)!;
    expect(plan.summary).toEqual({ add: 3600, edit: 1, delete: 1 });
    expect(lazy.total).toBe(3602);
    // The deletes, the edit and the services' adds; no destination of an added service yet.
    expect(lazy.steps).toHaveLength(602);
    const { raw, sent } = recording();
    const result = await applyPlan(raw, plan, async () => tableFor(doc), {});
    expect(result.drift).toEqual([]);
    expect(sent.map((r) => r.length / BATCH_COLUMNS.length)).toEqual([1024, 2578]);
    // What was sent is the plan's changes, in their order.
    expect(plan.changes).toHaveLength(3602);
    expect(rowsOfAll(sent)).toEqual(encode(lazy.steps.map((s) => s.command)).rows);
    expect(plan.changes.slice(600, 603).map(describeChange)).toEqual([
      'add service TCP 203.0.113.200:1002',
      'edit destination 198.51.100.1:80 of TCP 192.0.2.1:80',
      'add destination 198.51.100.1:1000 to TCP 203.0.113.1:1000',
    ]);
    expect(describeChange(plan.changes[3601]!)).toBe('add destination 198.51.100.5:1002 to TCP 203.0.113.200:1002');
  });

  it('undoes what it made when a change in a later part is refused, naming that change', async () => {
    const plan = planFrom(table, validateDesired(doc));
    const { raw, sent } = recording(2000);
    const error = await applyPlan(raw, plan, async () => table, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplyError);
    expect(error).toMatchObject({ index: 2000, undone: 2000, restored: true });
    expect((error as ApplyError).change).toEqual(plan.changes[2000]);
    // The two parts, then the undo of the 2,000 changes made, last first (the
    // deleted service's undo is two commands: the service and its destination).
    expect(sent.map((r) => r.length / BATCH_COLUMNS.length)).toEqual([1024, 2578, 2001]);
  });

  it('refuses more changes than maxChanges without making the steps it would not send', async () => {
    const plan = planFrom(table, validateDesired(doc));
    const { raw, sent } = recording();
    await expect(applyPlan(raw, plan, async () => table, { maxChanges: 3601 })).rejects.toThrow(
      /^the plan has 3602 changes, more than maxChanges \(3601\)/,
    );
    expect(planParts(plan)!.lazy.steps).toHaveLength(602);
    expect(sent).toEqual([]);
  });
});

describe('the desired state', () => {
  it('is refused with the facade’s messages, saying where', () => {
    expect(() => validateDesired({ services: [{ ...web, scheduler: 3 }] })).toThrow(
      /^services\[0\]: scheduler must be/,
    );
    expect(() =>
      validateDesired({ services: [{ ...web, destinations: [{ address: '198.51.100.1', weight: -1 }] }] }),
    ).toThrow(RangeError);
    expect(() => validateDesired({ services: [{ ...web, destinations: [{ address: 'nope' }] }] })).toThrow(
      /^services\[0\]\.destinations\[0\]: /,
    );
    expect(() => validateDesired({ services: [web, { ...web, scheduler: 'rr' }] })).toThrow(
      'services[1]: service TCP 192.0.2.1:80 is listed twice (also services[0])',
    );
    expect(() => validateDesired({ services: [], extra: 1 })).toThrow(TypeError);
    expect(() => validateDesired({ services: {} })).toThrow(/services must be an array/);
    expect(() => validateDesired({ services: [{ ...web, destinations: {} }] })).toThrow(
      /destinations must be an array/,
    );
  });

  it('refuses a destination listed twice, however its address is written and however many there are', () => {
    // A few are told apart pair by pair, many by key: both say the same.
    for (const n of [2, 5, 40]) {
      const destinations = Array.from({ length: n - 1 }, (_, k) => ({ address: `2001:db8::${k + 1}` }));
      destinations.push({ address: '2001:DB8:0::1' });
      expect(() => validateDesired({ services: [{ ...dns, destinations }] })).toThrow(
        `services[0].destinations[${n - 1}]: destination [2001:db8::1]:53 of UDP [2001:db8::1]:53 is listed twice`,
      );
      destinations[n - 1] = { address: '2001:db8::1', port: 54 } as never;
      expect(() => validateDesired({ services: [{ ...dns, destinations }] })).not.toThrow();
    }
  });
});

describe('batch', () => {
  it('takes each undo from the table as the batch leaves it', () => {
    const table = tableFromPacked(tableFor({ services: [{ ...web, scheduler: 'rr' }] }));
    const steps = batchSteps(
      [
        { action: 'edit', service: { ...web, scheduler: 'wlc' } },
        { action: 'edit', service: { ...web, scheduler: 'sh' } },
        { action: 'add', service: web, destination: { address: '198.51.100.9' } },
        { action: 'delete', service: web },
      ],
      table,
    );
    expect(steps.map((s) => undoOf(s).map((u) => u.op))).toEqual([
      ['editService'],
      ['editService'],
      ['deleteDestination'],
      ['addService', 'addDestination'],
    ]);
    expect((undoOf(steps[1]!)[0]!.service as RawServiceSpec).scheduler).toBe('wlc');
    expect(() => batchSteps([{ action: 'move' } as never], table)).toThrow(/^changes\[0\]: action must be/);
  });

  it('reads one service object once for all of its destinations, and every other service anew', () => {
    const table = tableFromPacked(tableFor({ services: [web] }));
    const destination = (k: number) => ({ address: `198.51.100.${k}` });
    const other = { ...web, port: 8080 };
    const steps = batchSteps(
      [
        { action: 'add', service: web, destination: destination(1) },
        { action: 'add', service: web, destination: destination(2) },
        { action: 'add', service: other },
        { action: 'add', service: other, destination: destination(1) },
        { action: 'delete', service: web, destination: destination(1) },
        { action: 'delete', service: { ...web }, destination: destination(2) },
      ],
      table,
    );
    expect(steps.map((s) => describeChange(s.change))).toEqual([
      'add destination 198.51.100.1:80 to TCP 192.0.2.1:80',
      'add destination 198.51.100.2:80 to TCP 192.0.2.1:80',
      'add service TCP 192.0.2.1:8080',
      'add destination 198.51.100.1:8080 to TCP 192.0.2.1:8080',
      'delete destination 198.51.100.1:80 from TCP 192.0.2.1:80',
      'delete destination 198.51.100.2:80 from TCP 192.0.2.1:80',
    ]);
    // The deletes undo the batch's own adds: the table followed each service.
    expect(steps.slice(4).map((s) => undoOf(s).map((u) => u.op))).toEqual([['addDestination'], ['addDestination']]);
    // A service that does not validate is named at its own change, after a valid one.
    expect(() =>
      batchSteps(
        [
          { action: 'add', service: web, destination: destination(3) },
          { action: 'add', service: { ...web, port: 70000 }, destination: destination(3) },
        ],
        table,
      ),
    ).toThrow(/^changes\[1\]: service\.port must be/);
  });
});

describe('batch rows', () => {
  it('are laid out as the addon reads them', () => {
    expect(native().batchColumns).toEqual([...BATCH_COLUMNS]);
  });

  it('carry every field of a command', () => {
    const service = serviceSpecToRaw({ ...dns, scheduler: 'mh', persistence: { timeout: 9, netmask: 64 } });
    const dest = destinationSpecToRaw(
      { address: '2001:db8::2', forwarding: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } },
      service,
    );
    const { rows, strings } = encode([
      { op: 'addService', service },
      { op: 'addDestination', service, dest },
    ]);
    expect(rows.length).toBe(2 * BATCH_COLUMNS.length);
    const row = (i: number) => Object.fromEntries(BATCH_COLUMNS.map((c, k) => [c, rows[i * BATCH_COLUMNS.length + k]]));
    expect(row(0)).toMatchObject({ cmd: K.IPVS_CMD_NEW_SERVICE, svcPort: 53, timeout: 9, netmask: 64 });
    expect(strings[row(0).scheduler!]).toBe('mh');
    expect(row(1)).toMatchObject({ cmd: K.IPVS_CMD_NEW_DEST, destPort: 53, tunPort: 6080, tunFlags: 2 });
    const bytes = new Uint8Array(rows.buffer);
    const at = (BATCH_COLUMNS.length + BATCH_COLUMNS.indexOf('destAddr0')) * 4;
    expect([...bytes.subarray(at, at + 16)]).toEqual([...dest.addr]);
  });
});
