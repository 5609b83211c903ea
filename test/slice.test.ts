// Work in slices (src/slice.ts): the event loop gets turns between them, and
// the plan's long loops (validation, planning, export) yield often enough to give them.
import { describe, expect, it } from 'vitest';

import { batchSteps, batchStepping, describeChange } from '../src/batch.js';
import {
  exporting,
  exportState,
  planFrom,
  planning,
  validateDesired,
  validating,
  type DesiredState,
} from '../src/plan.js';
import { packed } from '../src/snapshot.js';
import { runNow, runSliced, type Sliced } from '../src/slice.js';
import { tableFor } from './helpers/packed.js';

function* counting(n: number, log: string[]): Sliced<number> {
  for (let i = 0; i < n; i++) {
    log.push(`step ${i}`);
    yield;
  }
  return n;
}

function* failing(): Sliced<number> {
  yield;
  throw new RangeError('services[3]: bad');
}

/** How many times `work` yields before it returns; and what it returns. */
function yieldsOf<T>(work: Sliced<T>): { yields: number; value: T } {
  let yields = 0;
  for (;;) {
    const step = work.next();
    if (step.done) return { yields, value: step.value };
    yields++;
  }
}

describe('sliced work', () => {
  it('runs through at once with runNow', () => {
    const log: string[] = [];
    expect(runNow(counting(3, log))).toBe(3);
    expect(log).toEqual(['step 0', 'step 1', 'step 2']);
  });

  it('gives the event loop a turn between slices that ran out their budget', async () => {
    const log: string[] = [];
    setImmediate(() => log.push('other work'));
    await expect(runSliced(counting(3, log), 0)).resolves.toBe(3);
    expect(log).toEqual(['step 0', 'other work', 'step 1', 'step 2']);
  });

  it('keeps the event loop until the budget is spent', async () => {
    const log: string[] = [];
    setImmediate(() => log.push('other work'));
    await runSliced(counting(3, log), 60_000);
    expect(log).toEqual(['step 0', 'step 1', 'step 2']);
  });

  it('rejects with what the work throws', async () => {
    await expect(runSliced(failing(), 0)).rejects.toThrow(new RangeError('services[3]: bad'));
    expect(() => runNow(failing())).toThrow('services[3]: bad');
  });
});

describe('a large plan, in slices', () => {
  // 400 services of 20 destinations: 8,400 entries.
  const doc: DesiredState = {
    services: Array.from({ length: 400 }, (_, i) => ({
      protocol: 'tcp' as const,
      address: `203.0.113.${1 + (i % 200)}`,
      port: 1000 + Math.floor(i / 200),
      destinations: Array.from({ length: 20 }, (_, j) => ({ address: `198.51.100.${j + 1}`, weight: j })),
    })),
  };
  const empty = packed({
    takenAt: 1n,
    counters: new BigUint64Array(0),
    services: new Uint32Array(0),
    serviceAddrs: new Uint8Array(0),
    destOffsets: new Uint32Array([0]),
    dests: new Uint32Array(0),
    destAddrs: new Uint8Array(0),
    schedulers: [],
    engines: [''],
  });

  it('is validated with a yield at least every 256 entries, to the same result', () => {
    const { yields, value } = yieldsOf(validating(doc));
    expect(yields).toBeGreaterThanOrEqual(Math.floor(8400 / 256));
    expect([...value.table.keys()]).toEqual([...validateDesired(doc).table.keys()]);
  });

  it('is refused in slices as at once, with the same message', () => {
    const bad = { services: [...doc.services, { protocol: 'tcp', address: '203.0.113.1', port: 1000 }] };
    const message = 'services[400]: service TCP 203.0.113.1:1000 is listed twice (also services[0])';
    expect(() => validateDesired(bad)).toThrow(message);
    expect(() => yieldsOf(validating(bad))).toThrow(message);
  });

  it('is planned with yields, to the same plan', () => {
    const desired = validateDesired(doc);
    const { yields, value } = yieldsOf(planning(empty, desired));
    expect(yields).toBeGreaterThanOrEqual(1);
    expect(value.summary).toEqual({ add: 8400, edit: 0, delete: 0 });
    expect(value.changes).toEqual(planFrom(empty, desired).changes);
  });

  it('is exported with a yield at least every 256 entries, to the same document', () => {
    const table = tableFor(doc);
    const { yields, value } = yieldsOf(exporting(table));
    expect(yields).toBeGreaterThanOrEqual(Math.floor(8400 / 256));
    expect(value).toEqual(exportState(table));
  });
});

describe('a large batch, in slices', () => {
  const changes = Array.from({ length: 600 }, (_, i) => ({
    action: 'add' as const,
    service: { protocol: 'tcp' as const, address: `203.0.113.${1 + (i % 200)}`, port: 1000 + Math.floor(i / 200) },
  }));

  it('is read with a yield every 256 changes, to the same steps', () => {
    const { yields, value } = yieldsOf(batchStepping(changes, new Map()));
    expect(yields).toBe(2);
    expect(value.map((s) => describeChange(s.change))).toEqual(
      batchSteps(changes, new Map()).map((s) => describeChange(s.change)),
    );
  });
});
