// Properties of the totals parser (src/stats.ts, /proc/net/ip_vs_stats): any
// counters and rates the kernel prints read back exactly, up to 64 bits, and
// text that is not the kernel's is an EBADMSG, never a wrong number.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { IpvsError } from '../src/errors.js';
import { parseTotals, type Stats } from '../src/stats.js';

const RUNS = 1000;
const u64 = fc.oneof(fc.constantFrom(0n, 2n ** 32n - 1n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
const row = fc.array(u64, { minLength: 5, maxLength: 5 });

/** The file as the kernel writes it: hex, right-aligned in columns of 8 and 16 (wider values push on). */
function printed(c: bigint[], r: bigint[], upper: boolean): string {
  const hex = (v: bigint, w: number) => {
    const h = v.toString(16);
    return (upper ? h.toUpperCase() : h).padStart(w);
  };
  const line = (v: bigint[]) =>
    `${hex(v[0]!, 8)} ${hex(v[1]!, 8)} ${hex(v[2]!, 8)} ${hex(v[3]!, 16)} ${hex(v[4]!, 16)}\n`;
  return (
    '   Total Incoming Outgoing         Incoming         Outgoing\n' +
    '   Conns  Packets  Packets            Bytes            Bytes\n' +
    line(c) +
    '\n Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n' +
    line(r)
  );
}

describe('parseTotals', () => {
  it('reads every counter and rate the kernel prints', () => {
    fc.assert(
      fc.property(row, row, fc.boolean(), (c, r, upper) => {
        const expected: Stats = {
          conns: c[0]!,
          inPackets: c[1]!,
          outPackets: c[2]!,
          inBytes: c[3]!,
          outBytes: c[4]!,
          cps: r[0]!,
          inPps: r[1]!,
          outPps: r[2]!,
          inBps: r[3]!,
          outBps: r[4]!,
        };
        expect(parseTotals(printed(c, r, upper))).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses anything else with EBADMSG, whatever it is', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      // The kernel's text, cut short or with a character changed.
      fc.tuple(row, row, fc.nat(), fc.nat(), fc.string({ minLength: 1, maxLength: 2 })).map(([c, r, cut, at, ch]) => {
        const t = printed(c, r, true);
        return cut % 2 ? t.slice(0, cut % t.length) : t.slice(0, at % t.length) + ch + t.slice((at % t.length) + 1);
      }),
    );
    fc.assert(
      fc.property(text, (t) => {
        let stats: Stats;
        try {
          stats = parseTotals(t);
        } catch (e) {
          expect(e).toBeInstanceOf(IpvsError);
          expect(e).toMatchObject({ code: 'EBADMSG', op: 'totals' });
          return;
        }
        // What it did read is 64-bit counters from exactly two rows of five hex numbers.
        for (const v of Object.values(stats)) expect(v >= 0n && v < 2n ** 64n).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});
