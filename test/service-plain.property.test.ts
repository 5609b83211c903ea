// The common service spec's short way (plainServiceToRaw, which a desired
// state's validation takes for each service) against the facade's converter
// (serviceSpecToRaw with a desired state's fields): whatever the short way
// accepts, the facade accepts as the same raw structure, field for field and
// in the same order; whatever the facade refuses, the short way leaves to it
// (so the facade's message is the one a caller sees); and every valid spec of
// only the common fields goes the short way.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { DESIRED_SERVICE_FIELDS, plainServiceToRaw, serviceSpecToRaw, type ServiceSpec } from '../src/service.js';
import { serviceSpec } from './helpers/arbitraries.js';
import { converted, expectFacadeAgrees } from './helpers/short-way.js';

const RUNS = 3000;

/** Any value of a field: good, of the wrong kind, or out of range. */
const anyValue = fc.oneof(
  fc.integer({ min: -2, max: 70000 }),
  fc.constantFrom(0, 1, 65535, 65536, -1, 1.5, NaN, Infinity),
  fc.constantFrom('tcp', 'udp', 'sctp', 'icmp', 'TCP', '', 'rr', 'wlc', 'x'.repeat(16), 'a b', 'é', 'r\0r'),
  fc.constantFrom(null, true, {}, [], 5n),
  fc.constantFrom('192.0.2.1', '2001:db8::1', '::ffff:192.0.2.2', '192.0.2.256', 'host', '2001:DB8::1'),
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** A field's value: mostly good, sometimes of the wrong kind or out of range. */
const mostly = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: anyValue });

/** Objects shaped like a desired state's services, many of them wrong somewhere (rarer fields rarer still). */
const specLike = fc
  .record(
    {
      protocol: mostly(fc.constantFrom('tcp', 'udp', 'sctp')),
      address: mostly(fc.constantFrom('192.0.2.1', '192.0.2.2', '2001:db8::7', '2001:DB8:0::8')),
      port: optional(mostly(fc.integer({ min: 0, max: 65535 }))),
      scheduler: optional(mostly(fc.constantFrom('rr', 'wlc', 'sh', 'mh', 'my_sched-2', 'x'.repeat(15)))),
      destinations: optional(fc.constantFrom([], [{ address: '198.51.100.1' }])),
      family: optional(fc.constantFrom('inet', 'inet6', 'ipx')),
      fwmark: optional(fc.constantFrom(1, 0, 7)),
      persistence: optional(fc.constantFrom({}, { timeout: 60 }, false, true)),
      onePacket: optional(fc.boolean()),
      persistenceEngine: optional(fc.constantFrom('sip', '')),
      schedulerFlags: optional(fc.constantFrom([], ['sh-port'])),
      stats: optional(fc.constantFrom({}, 3)),
      bogus: optional(anyValue),
    },
    { requiredKeys: ['protocol', 'address'] },
  )
  .map((spec) => {
    // The rare fields rarely: most objects have none of them.
    const { family, fwmark, persistence, onePacket, persistenceEngine, schedulerFlags, stats, bogus, ...common } = spec;
    const rare = { family, fwmark, persistence, onePacket, persistenceEngine, schedulerFlags, stats, bogus };
    const picked = Object.entries(rare)
      .filter(([, v]) => v !== undefined)
      .slice(0, 1);
    return picked.length > 0 && String(common.address).length % 3 === 0
      ? { ...common, ...Object.fromEntries(picked) }
      : common;
  });

const full = (spec: unknown) => converted(() => serviceSpecToRaw(spec as ServiceSpec, DESIRED_SERVICE_FIELDS));

describe('plainServiceToRaw', () => {
  it('accepts only what serviceSpecToRaw accepts, as the same raw structure', () => {
    let accepted = 0;
    fc.assert(
      fc.property(specLike, (spec) => {
        const plain = plainServiceToRaw(spec);
        const expected = full(spec);
        if (plain === undefined) return;
        accepted++;
        expectFacadeAgrees(plain, expected);
      }),
      { numRuns: RUNS },
    );
    expect(accepted).toBeGreaterThan(RUNS / 20); // the property saw the short way take many
  });

  it('takes every valid spec of the common fields (protocol, address, port but 0, an ASCII scheduler)', () => {
    fc.assert(
      fc.property(serviceSpec, (spec) => {
        const s = spec as unknown as Record<string, unknown>;
        fc.pre(s.fwmark === undefined && s.port !== 0);
        fc.pre(s.scheduler === undefined || /^[!-~]+$/.test(s.scheduler as string));
        const common = { protocol: s.protocol, address: s.address, port: s.port, scheduler: s.scheduler };
        const expected = full(common);
        fc.pre(expected.error === undefined);
        expect(plainServiceToRaw(common)).toStrictEqual(expected.raw);
      }),
      { numRuns: RUNS },
    );
  });

  it('leaves anything else to the facade', () => {
    const web = { protocol: 'tcp', address: '192.0.2.1', port: 80 };
    for (const spec of [
      null,
      [],
      'x',
      { ...web, port: 0 }, // only for persistent services
      { ...web, persistence: { timeout: 60 } },
      { ...web, family: 'inet' },
      { ...web, scheduler: 'x'.repeat(16) },
      { ...web, scheduler: 'é' },
      { ...web, scheduler: '' },
      { ...web, protocol: 'icmp' },
      { ...web, address: 'host' },
      { fwmark: 1 },
      { ...web, stats: {} },
      { ...web, schedluer: 'rr' },
    ]) {
      expect(plainServiceToRaw(spec)).toBeUndefined();
    }
    // Unknown fields whose value is undefined are ignored, as the facade ignores them.
    expect(plainServiceToRaw({ ...web, other: undefined })).toStrictEqual(serviceSpecToRaw(web as ServiceSpec));
  });
});
