// A table's configuration: specs read back from raw structures make the same
// raw structures, and differences are named in the facade's words.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { destinationSpecFromRaw, destinationSpecToRaw } from '../src/destination.js';
import { serviceSpecFromRaw, serviceSpecToRaw } from '../src/service.js';
import { destinationDifferences, destinationId, serviceDifferences, serviceId } from '../src/table.js';
import { destinationSpec, serviceSpec } from './helpers/arbitraries.js';

describe('specs from raw structures', () => {
  it('a service spec read back from its raw form asks for the same service', () => {
    fc.assert(
      fc.property(serviceSpec, (spec) => {
        const raw = serviceSpecToRaw(spec);
        const again = serviceSpecToRaw(serviceSpecFromRaw(raw));
        expect(serviceDifferences(raw, again)).toEqual([]);
        expect(serviceId(again)).toBe(serviceId(raw));
      }),
    );
  });

  it('a destination spec read back from its raw form asks for the same destination', () => {
    fc.assert(
      fc.property(
        serviceSpec.chain((s) => {
          const svc = serviceSpecToRaw(s);
          return fc.tuple(fc.constant(svc), destinationSpec(svc.af === 10 ? 'inet6' : 'inet'));
        }),
        ([svc, spec]) => {
          let raw;
          try {
            raw = destinationSpecToRaw(spec, svc);
          } catch {
            return; // a combination the facade refuses (another family without a tunnel)
          }
          const again = destinationSpecToRaw(destinationSpecFromRaw(raw), svc);
          expect(destinationDifferences(raw, again)).toEqual([]);
          expect(destinationId(again)).toBe(destinationId(raw));
        },
      ),
    );
  });
});

describe('differences', () => {
  const base = serviceSpecToRaw({ protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'rr' });

  it('names each setting that differs, and ignores what a service does not use', () => {
    expect(serviceDifferences(base, { ...base, timeout: 30, netmask: 1 })).toEqual([]);
    const persistent = serviceSpecToRaw({ protocol: 'tcp', address: '192.0.2.1', port: 80, persistence: {} });
    expect(serviceDifferences(base, persistent)).toEqual(['scheduler', 'persistence']);
    expect(serviceDifferences(persistent, { ...persistent, timeout: 30 })).toEqual(['persistence']);
    expect(serviceDifferences(base, { ...base, flags: base.flags | 2 })).toEqual([]); // HASHED
  });

  it('compares a tunnel only when the destination tunnels', () => {
    const svc = base;
    const route = destinationSpecToRaw({ address: '198.51.100.1' }, svc);
    expect(destinationDifferences(route, { ...route, tunType: 1, tunPort: 9 })).toEqual([]);
    const gue = destinationSpecToRaw(
      { address: '198.51.100.1', forwarding: 'tunnel', tunnel: { type: 'gue', port: 6080 } },
      svc,
    );
    expect(destinationDifferences(gue, { ...gue, tunPort: 6081, weight: 0 })).toEqual(['weight', 'tunnel']);
    expect(destinationDifferences(route, gue)).toEqual(['forwarding']);
  });

  it('spells keys readably and uniquely', () => {
    expect(serviceId(base)).toBe('TCP 192.0.2.1:80');
    expect(serviceId(serviceSpecToRaw({ fwmark: 5, family: 'inet6', persistence: {} }))).toBe('FWM 5 IPv6');
    expect(serviceId(serviceSpecToRaw({ protocol: 'sctp', address: '2001:db8::1', port: 5060 }))).toBe(
      'SCTP [2001:db8::1]:5060',
    );
  });
});
