// Properties of the sysctl values (src/sysctl.ts): every value the library
// takes is written as the kernel reads it and reads back, from the text the
// kernel prints, as the same value; values out of range or of the wrong kind
// are refused naming the sysctl; and text the kernel would not print is an
// EBADMSG, never a NaN.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { IpvsError } from '../src/errors.js';
import { formatSysctl, parseSysctl, SYSCTL_NAMES, type SysctlName, type Sysctls } from '../src/sysctl.js';

const RUNS = 1000;
const INT_MAX = 2 ** 31 - 1;

// Each sysctl's kind, as the library documents it (src/sysctl.ts), written out again here.
const RANGES: Partial<Record<SysctlName, [number, number]>> = {
  drop_entry: [0, 3],
  drop_packet: [0, 3],
  secure_tcp: [0, 3],
  sync_retries: [0, 3],
  conn_reuse_mode: [0, 3],
  est_nice: [-20, 19],
  lblc_expiration: [0, 2147483],
  lblcr_expiration: [0, 2147483],
};
const WIDE = ['amemthresh', 'am_droprate', 'sync_qlen_max', 'sync_sock_size', 'sync_refresh_period', 'debug_level'];
const rangeOf = (name: SysctlName): [number, number] | undefined =>
  RANGES[name] ??
  (WIDE.includes(name)
    ? [0, INT_MAX]
    : ['sync_ports', 'sync_threshold', 'est_cpulist'].includes(name)
      ? undefined
      : [0, 1]);

const cpuList = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.oneof(
        fc.nat(4095).map(String),
        fc.tuple(fc.nat(4095), fc.nat(4095)).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
        fc
          .tuple(fc.nat(4095), fc.nat(4095), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }))
          .map(([a, b, used, group]) => `${Math.min(a, b)}-${Math.max(a, b)}:${Math.min(used, group)}/${group}`),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((items) => items.join(',')),
);

/** A sysctl and a value the library takes for it. */
type Pair = [SysctlName, Sysctls[SysctlName]];
const valid: fc.Arbitrary<Pair> = fc.constantFrom(...SYSCTL_NAMES).chain((name): fc.Arbitrary<Pair> => {
  if (name === 'est_cpulist') return cpuList.map((v): Pair => [name, v]);
  if (name === 'sync_ports') return fc.nat(30).map((n): Pair => [name, 2 ** n]);
  if (name === 'sync_threshold')
    return fc
      .tuple(fc.nat(INT_MAX - 1), fc.nat(INT_MAX))
      .map(([t, p]): Pair => [name, [t, p === 0 || p > t ? p : t + 1]]);
  const [min, max] = rangeOf(name)!;
  return fc.integer({ min, max }).map((v): Pair => [name, v]);
});

/** What the kernel prints for a value: ints with %d, sync_threshold with a tab between, each on a line. */
function printed(name: SysctlName, value: unknown): string {
  if (Array.isArray(value)) return `${value[0]}\t${value[1]}\n`;
  // The kernel prints a cpulist in plain ranges; strides are a way of writing only.
  if (name === 'est_cpulist') return `${expand(value as string)}\n`;
  return `${String(value)}\n`;
}

/** A cpulist with strides as the kernel prints it back: sorted, merged, plain ranges. */
function expand(list: string): string {
  const cpus = new Set<number>();
  for (const item of list === '' ? [] : list.split(',')) {
    const [range, stride] = item.split(':');
    const [a, b = a] = range!.split('-').map(Number);
    const [used, group] = stride ? stride.split('/').map(Number) : [1, 1];
    for (let c = a!; c <= b!; c++) if ((c - a!) % group! < used!) cpus.add(c);
  }
  const sorted = [...cpus].sort((x, y) => x - y);
  const out: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

describe('sysctl values', () => {
  it('read back, from what the kernel prints, as the value written', () => {
    fc.assert(
      fc.property(valid, ([name, value]) => {
        const text = formatSysctl(name, value);
        expect(typeof text).toBe('string');
        if (name === 'est_cpulist') expect(parseSysctl(name, printed(name, value))).toBe(expand(value as string));
        else expect(parseSysctl(name, printed(name, value))).toEqual(value);
        // What is written is what the kernel's own parser takes: no newline inside, the empty list as one.
        expect(text === '\n' || !text.includes('\n')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('out of range are refused with a RangeError naming the sysctl', () => {
    const outside = fc.constantFrom(...SYSCTL_NAMES.filter((n) => rangeOf(n))).chain((name) => {
      const [min, max] = rangeOf(name)!;
      return fc
        .oneof(fc.integer({ min: -(2 ** 40), max: min - 1 }), fc.integer({ min: max + 1, max: 2 ** 40 }))
        .map((v) => [name, v] as const);
    });
    fc.assert(
      fc.property(outside, ([name, value]) => {
        expect(() => formatSysctl(name, value as never)).toThrow(RangeError);
        expect(() => formatSysctl(name, value as never)).toThrow(new RegExp(`^${name}\\b`));
      }),
      { numRuns: RUNS },
    );
  });

  it('of the wrong kind are refused with a TypeError naming the sysctl', () => {
    const wrong = fc.oneof(
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.double().filter((d) => !Number.isInteger(d)),
      fc.bigInt(),
      fc.object(),
      fc.array(fc.integer(), { maxLength: 3 }).filter((a) => a.length !== 2),
    );
    fc.assert(
      fc.property(fc.constantFrom(...SYSCTL_NAMES), wrong, (name, value) => {
        // A string is the right kind for est_cpulist (and then a RangeError when not a list).
        if (name === 'est_cpulist' && typeof value === 'string') return;
        expect(() => formatSysctl(name, value as never)).toThrow(TypeError);
        expect(() => formatSysctl(name, value as never)).toThrow(new RegExp(`^${name}\\b`));
      }),
      { numRuns: RUNS },
    );
  });

  it('that the kernel would not print are refused with EBADMSG, never read as NaN', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SYSCTL_NAMES), fc.string({ maxLength: 24 }), (name, text) => {
        let value: unknown;
        try {
          value = parseSysctl(name, text);
        } catch (e) {
          expect(e).toBeInstanceOf(IpvsError);
          expect(e).toMatchObject({ code: 'EBADMSG', op: 'getSysctl' });
          return;
        }
        const numbers = Array.isArray(value) ? value : typeof value === 'number' ? [value] : [];
        for (const n of numbers) expect(Number.isInteger(n)).toBe(true);
        if (name === 'est_cpulist') expect(value).toMatch(/^[\d,-]*$/);
      }),
      { numRuns: RUNS * 5 },
    );
  });
});
