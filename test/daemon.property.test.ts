// Properties of the sync daemons' and the timeouts' conversions (src/daemon.ts,
// src/timeouts.ts): a spec's fields come back in the info of the daemon it
// starts, and a daemon or timeouts the kernel reports pass back unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { formatAddress, parseAddress } from '../src/address.js';
import { daemonFromRaw, daemonSpecToRaw } from '../src/daemon.js';
import { timeoutsToRaw } from '../src/timeouts.js';
import { MAX_TIMEOUT } from '../src/vocabulary/limits.js';
import { daemonSpec, rawDaemon } from './helpers/arbitraries.js';

const RUNS = 1000;

describe('a daemon spec', () => {
  it('comes back in the info of the daemon it starts, in the kernel’s words', () => {
    fc.assert(
      fc.property(daemonSpec, (spec) => {
        const info = daemonFromRaw(daemonSpecToRaw(spec));
        const group = spec.group === undefined ? undefined : parseAddress(spec.group)!;
        expect(info).toMatchObject({
          state: spec.state,
          interface: spec.interface,
          syncId: spec.syncId ?? 0,
          group: group && formatAddress(group.family, group.bytes),
        });
        // Left out, they are the kernel's to fill in (sent as 0: not sent).
        for (const [mine, theirs] of [
          ['maxLength', info.maxLength],
          ['port', info.port],
          ['ttl', info.ttl],
        ] as const)
          expect(theirs).toBe(spec[mine] ?? 0);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('a daemon the kernel reports', () => {
  it('passes back as a spec of the same daemon', () => {
    fc.assert(
      fc.property(rawDaemon, (raw) => {
        expect(daemonSpecToRaw(daemonFromRaw(raw))).toEqual(raw);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('timeouts', () => {
  it('the kernel reports pass back unchanged, and any left out (or 0) stay as they are', () => {
    const seconds = fc.integer({ min: 0, max: MAX_TIMEOUT });
    fc.assert(
      fc.property(
        seconds,
        seconds,
        seconds,
        fc.subarray(['tcp', 'tcpFin', 'udp'] as const),
        (tcp, tcpFin, udp, left) => {
          const reported = { tcp, tcpFin, udp };
          expect(timeoutsToRaw(reported)).toEqual(reported);
          const partial = Object.fromEntries(Object.entries(reported).filter(([k]) => !left.includes(k as never)));
          expect(timeoutsToRaw(partial)).toEqual({ ...reported, ...Object.fromEntries(left.map((k) => [k, 0])) });
        },
      ),
      { numRuns: RUNS },
    );
  });
});
