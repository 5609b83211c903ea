// The common destination spec's short way (plainDestinationToRaw, which a
// desired state's validation takes for each destination) against the
// facade's converter (destinationSpecToRaw): whatever the short way accepts,
// the facade accepts as the same raw structure, field for field and in the
// same order; whatever the facade refuses, the short way leaves to it (so the
// facade's message is the one a caller sees); and every valid spec of only
// the common fields goes the short way.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { Family } from '../src/address.js';
import { destinationSpecToRaw, plainDestinationToRaw, type DestinationSpec } from '../src/destination.js';
import type { RawServiceKey } from '../src/native.js';
import { destinationSpec, rawServiceKey, serviceFamilyPort } from './helpers/arbitraries.js';
import { converted, expectFacadeAgrees } from './helpers/short-way.js';

const RUNS = 3000;

const service = rawServiceKey;

/** A number a field may or may not take. */
const anyNumber = fc.oneof(
  fc.integer({ min: -2, max: 70000 }),
  fc.constantFrom(0, 1, 65535, 65536, 0x7fffffff, 0x80000000, -1, 1.5, NaN, Infinity),
);
/** Any value of a field: good, of the wrong kind, or out of range. */
const anyValue = fc.oneof(
  anyNumber,
  fc.constantFrom('masq', 'route', 'local', 'tunnel', 'nat', '', '1', null, true, {}, [], 5n),
  fc.constantFrom('198.51.100.1', '2001:db8::1', '::ffff:198.51.100.2', '198.51.100.256', 'host', '2001:DB8::1'),
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** A field's value: mostly good, sometimes of the wrong kind or out of range. */
const mostly = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: anyValue });
const count = fc.integer({ min: 0, max: 0x7fffffff });

/** Objects shaped like specs, many of them wrong somewhere (rarer fields rarer still). */
const specLike = fc
  .record(
    {
      address: mostly(fc.constantFrom('198.51.100.1', '198.51.100.2', '2001:db8::7', '2001:DB8:0::8')),
      port: optional(mostly(fc.integer({ min: 0, max: 65535 }))),
      forwarding: optional(mostly(fc.constantFrom('masq', 'route', 'local'))),
      weight: optional(mostly(count)),
      upperThreshold: optional(mostly(fc.oneof(fc.constant(0), count))),
      lowerThreshold: optional(mostly(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1000 })))),
      family: optional(fc.constantFrom('inet', 'inet6', 'ipx')),
      tunnel: optional(fc.constantFrom({ type: 'ipip' }, { type: 'gue', port: 6080 }, 'gre')),
      activeConnections: optional(anyNumber),
      stats: optional(fc.constantFrom({}, 3)),
      bogus: optional(anyValue),
    },
    { requiredKeys: ['address'] },
  )
  .map((spec) => {
    // The rare fields rarely: most objects have none of them.
    const { family, tunnel, activeConnections, stats, bogus, ...common } = spec;
    const rare = { family, tunnel, activeConnections, stats, bogus };
    const picked = Object.entries(rare)
      .filter(([, v]) => v !== undefined)
      .slice(0, 1);
    return picked.length > 0 && String(common.address).length % 3 === 0
      ? { ...common, ...Object.fromEntries(picked) }
      : common;
  });

const serviceArb = serviceFamilyPort;

const full = (spec: unknown, svc: RawServiceKey) => converted(() => destinationSpecToRaw(spec as DestinationSpec, svc));

describe('plainDestinationToRaw', () => {
  it('accepts only what destinationSpecToRaw accepts, as the same raw structure', () => {
    let accepted = 0;
    fc.assert(
      fc.property(serviceArb, specLike, ([family, port], spec) => {
        const svc = service(family, port);
        const plain = plainDestinationToRaw(spec, svc);
        const expected = full(spec, svc);
        if (plain === undefined) return;
        accepted++;
        expectFacadeAgrees(plain, expected);
      }),
      { numRuns: RUNS },
    );
    expect(accepted).toBeGreaterThan(RUNS / 20); // the property saw the short way take many
  });

  it('takes every valid spec of the common fields (address, port, forwarding but tunnel, weight, thresholds)', () => {
    fc.assert(
      fc.property(
        serviceArb.chain(([family, port]) => fc.tuple(fc.constant(service(family, port)), destinationSpec(family))),
        ([svc, spec]) => {
          const { tunnel: _tunnel, ...common } = spec;
          fc.pre(common.forwarding !== 'tunnel');
          const expected = full(common, svc);
          fc.pre(expected.error === undefined);
          expect(plainDestinationToRaw(common, svc)).toStrictEqual(expected.raw);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('leaves anything else to the facade', () => {
    const svc = service('inet', 80);
    for (const spec of [
      null,
      [],
      'x',
      { address: '198.51.100.1', tunnel: { type: 'ipip' }, forwarding: 'tunnel' },
      { address: '198.51.100.1', forwarding: 'tunnel' },
      { address: '198.51.100.1', family: 'inet' },
      { address: '198.51.100.1', activeConnections: 1 },
      { address: '2001:db8::1' }, // another family than the service's
      { address: '198.51.100.1', lowerThreshold: 3, upperThreshold: 2 },
      { address: '198.51.100.1', port: 65536 },
      { address: '198.51.100.1', weight: -1 },
      { address: '198.51.100.1', wieght: 2 },
    ]) {
      expect(plainDestinationToRaw(spec, svc)).toBeUndefined();
    }
    // Unknown fields whose value is undefined are ignored, as the facade ignores them.
    expect(plainDestinationToRaw({ address: '198.51.100.1', other: undefined }, svc)).toStrictEqual(
      destinationSpecToRaw({ address: '198.51.100.1' }, svc),
    );
  });
});
