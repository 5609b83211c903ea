// Properties of destinations (src/destination.ts): every spec converts to the
// raw structure the addon sends, what the kernel reports for it reads as an
// info that means the same and converts to the same raw structure again, and
// every destination the kernel reports can be passed back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { formatAddress, parseAddress, type Family } from '../src/address.js';
import {
  destinationFromRaw,
  destinationKeyToRaw,
  destinationSpecToRaw,
  type DestinationInfo,
  type DestinationSpec,
} from '../src/destination.js';
import type { RawDest, RawDestSpec, RawServiceKey } from '../src/native.js';
import { destinationSpec, rawDest, rawServiceKey, rawStats, serviceFamilyPort } from './helpers/arbitraries.js';

const RUNS = 2000;

const service = rawServiceKey;
const serviceArb = serviceFamilyPort;
const withSpec = serviceArb.chain(([family, port]) =>
  fc.record({ svc: fc.constant(service(family, port)), spec: destinationSpec(family) }),
);

/** What the kernel reports for a destination added with `raw`. */
const reported = (raw: RawDestSpec, stats: RawDest['stats']): RawDest => ({
  ...raw,
  activeConns: 3,
  inactConns: 2,
  persistConns: 1,
  stats,
});

/** The info a spec should read back as: its own values and the documented defaults. */
function expectedInfo(spec: DestinationSpec, svc: RawServiceKey): Partial<DestinationInfo> {
  const parsed = parseAddress(spec.address)!;
  const forwarding = spec.forwarding ?? 'route';
  return {
    family: parsed.family,
    address: formatAddress(parsed.family, parsed.bytes),
    port: spec.port ?? svc.port,
    forwarding,
    weight: spec.weight ?? 1,
    upperThreshold: spec.upperThreshold ?? 0,
    lowerThreshold: spec.lowerThreshold ?? 0,
    tunnel:
      forwarding === 'tunnel'
        ? {
            type: spec.tunnel?.type ?? 'ipip',
            port: spec.tunnel?.type === 'gue' ? spec.tunnel.port! : 0,
            checksum: spec.tunnel?.checksum ?? 'nocsum',
          }
        : undefined,
  };
}

describe('a destination spec', () => {
  it('reads back as an info with its own values and the defaults', () => {
    fc.assert(
      fc.property(withSpec, rawStats, ({ svc, spec }, stats) => {
        const info = destinationFromRaw(reported(destinationSpecToRaw(spec, svc), stats));
        expect(info).toEqual({
          ...expectedInfo(spec, svc),
          activeConnections: 3,
          inactiveConnections: 2,
          persistentConnections: 1,
          stats: expect.objectContaining({ inBytes: stats.inbytes }),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('converts to the same raw structure as the info it reads back as, and names the same destination', () => {
    fc.assert(
      fc.property(withSpec, rawStats, ({ svc, spec }, stats) => {
        const raw = destinationSpecToRaw(spec, svc);
        const info = destinationFromRaw(reported(raw, stats));
        expect(destinationSpecToRaw(info, svc)).toEqual(raw);
        expect(destinationSpecToRaw({ ...info, weight: 0 }, svc)).toEqual({ ...raw, weight: 0 });
        const key = destinationKeyToRaw(spec, svc);
        expect(raw).toMatchObject(key);
        expect(destinationKeyToRaw(info, svc)).toEqual(key);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('a destination the kernel reports', () => {
  it('reads as an info that converts back to what the kernel holds', () => {
    const arb = serviceArb.chain(([family, port]) =>
      fc.record({ svc: fc.constant(service(family, port)), raw: rawDest(family) }),
    );
    fc.assert(
      fc.property(arb, ({ svc, raw }) => {
        const info = destinationFromRaw(raw);
        const { activeConns, inactConns, persistConns, stats, ...spec } = raw;
        expect(destinationSpecToRaw(info, svc)).toEqual(spec);
        expect([info.activeConnections, info.inactiveConnections, info.persistentConnections]).toEqual([
          activeConns,
          inactConns,
          persistConns,
        ]);
        expect(info.stats.cps).toBe(stats.cps);
      }),
      { numRuns: RUNS },
    );
  });
});
