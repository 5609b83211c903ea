// Properties of input checking (src/validate.ts and its callers): every object
// the facade takes (service and destination specs and keys, daemon specs,
// timeouts, open(), snapshot, poll and connection options) is refused with a
// TypeError or RangeError naming the field when it has a field the library
// does not know, or a known field of the wrong kind or out of range, however
// valid the rest of it is.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { afOf } from '../src/address.js';
import { Ipvs, open } from '../src/client.js';
import { connectionFilterToRaw, readRequest } from '../src/connections.js';
import { daemonSpecToRaw } from '../src/daemon.js';
import { destinationKeyToRaw, destinationSpecToRaw } from '../src/destination.js';
import type { RawServiceKey } from '../src/native.js';
import { serviceKeyToRaw, serviceSpecToRaw } from '../src/service.js';
import { timeoutsToRaw } from '../src/timeouts.js';
import { daemonSpec, destinationSpec, serviceSpec } from './helpers/arbitraries.js';

const RUNS = 500;

/** The kind of each field, which decides what is of the wrong kind for it. */
type Kind = 'integer' | 'string' | 'boolean' | 'object' | 'address' | 'array' | 'signal' | 'netmask' | 'parallel';

/** Values that are not of `kind`: every JavaScript type but its own, and the near-misses. */
function wrongFor(kind: Kind): fc.Arbitrary<unknown> {
  const anything = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.boolean(),
    fc.constant(null),
    fc.integer(),
    fc.double({ noInteger: true }),
    fc.constantFrom(Number.NaN, Infinity, -Infinity),
    fc.bigInt({ min: -10n, max: 10n }),
    fc.object({ maxDepth: 1 }),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.constant(Symbol('x')),
    fc.constant(() => 1),
  );
  const not: Record<Kind, (v: unknown) => boolean> = {
    integer: (v) => !Number.isInteger(v),
    string: (v) => typeof v !== 'string',
    boolean: (v) => typeof v !== 'boolean',
    object: (v) => typeof v !== 'object' || v === null || Array.isArray(v),
    address: (v) => typeof v !== 'string',
    array: (v) => !Array.isArray(v),
    signal: () => true,
    // A prefix length or a dotted mask.
    netmask: (v) => typeof v !== 'string' && !Number.isInteger(v),
    // A number of readers or 'auto'.
    parallel: (v) => !Number.isInteger(v) && v !== 'auto',
  };
  const extra: Partial<Record<Kind, fc.Arbitrary<unknown>>> = {
    // Strings that are not numeric addresses.
    address: fc.constantFrom('', 'localhost', '192.0.2', '1.2.3.4.5', '::1::', '192.0.2.1 ', 'fe80::1%eth0'),
    netmask: fc.constantFrom('', '/24', '255.255.255', '::', 'x'),
  };
  return extra[kind] ? fc.oneof(anything.filter(not[kind]), extra[kind]) : anything.filter(not[kind]);
}

/** Out of range for an integer field: below its least or above its greatest value. */
const outside = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min: Math.max(min - 1000, -(2 ** 53)), max: min - 1 }),
    fc.integer({ min: max + 1, max: Math.min(max + 2 ** 33, 2 ** 53) }),
  );

interface Target {
  /** How its messages name the object (`service`, `options`). */
  name: string;
  /** A valid object of it. */
  valid: fc.Arbitrary<Record<string, unknown>>;
  /** Checks the object as the facade does; throws what the facade throws, synchronously or not. */
  check: (value: Record<string, unknown>) => unknown;
  /** The fields tested: kind, the range of an integer, and how its messages name it. */
  fields: Record<string, { kind: Kind; range?: [number, number]; named?: string }>;
  /** The other fields it knows (never given as unknown ones). */
  alsoKnown?: string[];
}

const svc4: RawServiceKey = { af: afOf('inet'), protocol: 6, addr: new Uint8Array(16), port: 80, fwmark: 0 };
const asRecord = <T>(a: fc.Arbitrary<T>) => a as unknown as fc.Arbitrary<Record<string, unknown>>;
// A client without a socket: its option checks run before anything is sent.
const client = new (Ipvs as unknown as new (raw: unknown) => Ipvs)({ closed: true });

const INT_MAX = 2 ** 31 - 1;
const addressSpec = asRecord(serviceSpec.filter((s) => !('fwmark' in s)));
const fwmarkSpec = asRecord(serviceSpec.filter((s) => 'fwmark' in s));
const OBSERVED_SERVICE: Target['fields'] = {
  flags: { kind: 'integer', range: [0, 2 ** 32 - 1] },
  stats: { kind: 'object' },
};
const SERVICE_OPTIONS: Target['fields'] = {
  scheduler: { kind: 'string', named: 'scheduler' },
  persistenceEngine: { kind: 'string', named: 'persistenceEngine' },
  onePacket: { kind: 'boolean', named: 'onePacket' },
  schedulerFlags: { kind: 'array', named: 'schedulerFlags' },
};
const SERVICE_FIELDS = [
  'protocol',
  'address',
  'port',
  'fwmark',
  'family',
  'persistence',
  ...Object.keys(SERVICE_OPTIONS),
];
const TARGETS: Target[] = [
  {
    name: 'service',
    valid: addressSpec,
    check: (v) => serviceSpecToRaw(v as never),
    fields: {
      protocol: { kind: 'string' },
      address: { kind: 'address' },
      port: { kind: 'integer', range: [0, 65535] },
      fwmark: { kind: 'integer', range: [1, 2 ** 32 - 1] },
      family: { kind: 'string' },
      ...SERVICE_OPTIONS,
      ...OBSERVED_SERVICE,
    },
    alsoKnown: SERVICE_FIELDS,
  },
  {
    name: 'service',
    valid: fwmarkSpec,
    check: (v) => serviceSpecToRaw(v as never),
    fields: {
      fwmark: { kind: 'integer', range: [1, 2 ** 32 - 1] },
      family: { kind: 'string' },
      ...SERVICE_OPTIONS,
      ...OBSERVED_SERVICE,
    },
    alsoKnown: SERVICE_FIELDS,
  },
  {
    name: 'service',
    valid: addressSpec,
    check: (v) => serviceKeyToRaw(v as never),
    fields: {
      protocol: { kind: 'string' },
      address: { kind: 'address' },
      port: { kind: 'integer', range: [0, 65535] },
      family: { kind: 'string' },
      ...OBSERVED_SERVICE,
    },
    alsoKnown: SERVICE_FIELDS,
  },
  {
    name: 'persistence',
    valid: fc.record(
      { timeout: fc.integer({ min: 1, max: 3600 }), netmask: fc.integer({ min: 0, max: 32 }) },
      { requiredKeys: [] },
    ),
    check: (p) => serviceSpecToRaw({ protocol: 'tcp', address: '192.0.2.1', port: 80, persistence: p }),
    fields: {
      timeout: { kind: 'integer', range: [1, 31 * 24 * 3600] },
      netmask: { kind: 'netmask', range: [0, 32] },
    },
  },
  {
    name: 'destination',
    valid: asRecord(destinationSpec('inet')),
    check: (v) => destinationSpecToRaw(v as never, svc4),
    fields: {
      address: { kind: 'address' },
      port: { kind: 'integer', range: [0, 65535] },
      family: { kind: 'string' },
      forwarding: { kind: 'string', named: 'forwarding' },
      weight: { kind: 'integer', range: [0, INT_MAX], named: 'weight' },
      upperThreshold: { kind: 'integer', range: [0, INT_MAX], named: 'Threshold' },
      lowerThreshold: { kind: 'integer', range: [0, INT_MAX], named: 'Threshold' },
      tunnel: { kind: 'object', named: 'tunnel' },
      activeConnections: { kind: 'integer', range: [0, 2 ** 32 - 1] },
      inactiveConnections: { kind: 'integer', range: [0, 2 ** 32 - 1] },
      persistentConnections: { kind: 'integer', range: [0, 2 ** 32 - 1] },
      stats: { kind: 'object' },
    },
  },
  {
    name: 'destination',
    valid: asRecord(destinationSpec('inet')),
    check: (v) => destinationKeyToRaw(v as never, svc4),
    fields: {
      address: { kind: 'address' },
      port: { kind: 'integer', range: [0, 65535] },
      family: { kind: 'string' },
      activeConnections: { kind: 'integer', range: [0, 2 ** 32 - 1] },
      stats: { kind: 'object' },
    },
    alsoKnown: [
      'forwarding',
      'weight',
      'upperThreshold',
      'lowerThreshold',
      'tunnel',
      'inactiveConnections',
      'persistentConnections',
    ],
  },
  {
    name: 'tunnel',
    valid: fc.record({
      type: fc.constant('gue'),
      port: fc.integer({ min: 1, max: 65535 }),
      checksum: fc.constant('csum'),
    }),
    check: (t) => destinationSpecToRaw({ address: '192.0.2.2', forwarding: 'tunnel', tunnel: t as never }, svc4),
    fields: {
      type: { kind: 'string' },
      port: { kind: 'integer', range: [1, 65535] },
      checksum: { kind: 'string' },
    },
  },
  {
    name: 'daemon',
    valid: asRecord(daemonSpec),
    check: (v) => daemonSpecToRaw(v as never),
    fields: {
      state: { kind: 'string', named: 'state' },
      interface: { kind: 'string', named: 'interface' },
      syncId: { kind: 'integer', range: [0, 255], named: 'syncId' },
      maxLength: { kind: 'integer', range: [1, 65507], named: 'maxLength' },
      group: { kind: 'address', named: 'group' },
      port: { kind: 'integer', range: [1, 65535], named: 'port' },
      ttl: { kind: 'integer', range: [1, 255], named: 'ttl' },
    },
  },
  {
    name: 'timeouts',
    valid: fc.record(
      { tcp: fc.nat(31 * 24 * 3600), tcpFin: fc.nat(31 * 24 * 3600), udp: fc.nat(31 * 24 * 3600) },
      { requiredKeys: [] },
    ),
    check: (v) => timeoutsToRaw(v),
    fields: {
      tcp: { kind: 'integer', range: [0, 31 * 24 * 3600] },
      tcpFin: { kind: 'integer', range: [0, 31 * 24 * 3600] },
      udp: { kind: 'integer', range: [0, 31 * 24 * 3600] },
    },
  },
  {
    name: 'options',
    valid: fc.record(
      {
        backend: fc.constantFrom('netlink', 'sockopt'),
        netns: fc.constant('/run/netns/x'),
        timeout: fc.integer({ min: 1, max: INT_MAX }),
        modprobe: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    // Only the refusals are awaited here: a valid object would open a socket.
    check: (v) => open(v as never),
    fields: {
      backend: { kind: 'string' },
      netns: { kind: 'string' },
      timeout: { kind: 'integer', range: [1, INT_MAX] },
      modprobe: { kind: 'boolean' },
    },
  },
  {
    name: 'options',
    valid: fc.record({ poolSize: fc.integer({ min: 1, max: 16 }) }, { requiredKeys: [] }),
    check: (v) => client.packedSnapshot(v),
    fields: { poolSize: { kind: 'integer', range: [1, 16] }, signal: { kind: 'signal' } },
  },
  {
    name: 'options',
    valid: fc.record(
      { interval: fc.integer({ min: 1, max: INT_MAX }), poolSize: fc.integer({ min: 1, max: 16 }) },
      { requiredKeys: ['interval'] },
    ),
    check: (v) => client.poll(v as never),
    fields: {
      interval: { kind: 'integer', range: [1, INT_MAX], named: 'interval' },
      poolSize: { kind: 'integer', range: [1, 16] },
      signal: { kind: 'signal' },
    },
  },
  {
    name: 'options',
    valid: fc.record(
      {
        parallel: fc.oneof(fc.constant('auto'), fc.integer({ min: 1, max: 256 })),
        batchSize: fc.integer({ min: 1, max: 1 << 20 }),
      },
      { requiredKeys: [] },
    ),
    check: (v) => readRequest(v as never),
    fields: {
      parallel: { kind: 'parallel', range: [1, 256] },
      batchSize: { kind: 'integer', range: [1, 1 << 20] },
      filter: { kind: 'object' },
      signal: { kind: 'signal' },
    },
  },
  {
    name: 'filter',
    valid: fc.record(
      {
        protocol: fc.constantFrom('tcp', 'udp', 'sctp', 'icmp'),
        state: fc.constantFrom('ESTABLISHED', 'SYN_RECV'),
        client: fc.record({ address: fc.constant('192.0.2.1'), port: fc.nat(65535) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    check: (v) => connectionFilterToRaw(v as never),
    fields: {
      protocol: { kind: 'string' },
      state: { kind: 'string' },
      client: { kind: 'object' },
      virtual: { kind: 'object' },
      destination: { kind: 'object' },
    },
  },
  {
    name: 'filter.client',
    valid: fc.record({ address: fc.constant('2001:db8::1'), port: fc.nat(65535) }, { requiredKeys: [] }),
    check: (v) => connectionFilterToRaw({ client: v as never }),
    fields: { address: { kind: 'address' }, port: { kind: 'integer', range: [0, 65535] } },
  },
];

/** Any value as text, even one whose toString throws. */
function show(v: unknown): string {
  try {
    return typeof v === 'symbol' || typeof v === 'function'
      ? String(v)
      : v instanceof Error
        ? v.message
        : JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Runs `check` and gives what it threw (or rejected with); undefined when it took the value. */
async function refusal(check: () => unknown): Promise<unknown> {
  try {
    const r = check();
    // open() and the snapshot reject; a taken value would go on to the kernel, which they need not reach.
    if (r instanceof Promise) await r.catch((e: unknown) => Promise.reject(e));
    else if (r && typeof r === 'object' && Symbol.asyncIterator in r) return undefined;
  } catch (e) {
    return e;
  }
  return undefined;
}

const identifier = fc
  .string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABC_'.split('')) })
  .filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));

describe.each(TARGETS.map((t, i) => [`${t.name} (${i})`, t] as const))('%s', (_, target) => {
  const known = Object.keys(target.fields);

  it('refuses a field it does not know, naming it', async () => {
    const allowed = (k: string) => known.includes(k) || (target.alsoKnown ?? []).includes(k);
    await fc.assert(
      fc.asyncProperty(
        target.valid,
        identifier.filter((k) => !allowed(k)),
        fc.anything().filter((v) => v !== undefined),
        async (v, key, value) => {
          const e = await refusal(() => target.check({ ...v, [key]: value }));
          expect(e).toBeInstanceOf(TypeError);
          expect((e as Error).message).toContain(`${target.name}.${key} is not a field of ${target.name}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses a known field of the wrong kind, naming it', async () => {
    const arb = fc
      .constantFrom(...known)
      .chain((field) => fc.record({ field: fc.constant(field), value: wrongFor(target.fields[field]!.kind) }));
    await fc.assert(
      fc.asyncProperty(target.valid, arb, async (v, { field, value }) => {
        const e = await refusal(() => target.check({ ...v, [field]: value }));
        // TypeError for a value of the wrong kind; RangeError where the field's combination with
        // another is checked first (tunnel options without tunnelling, a netmask string that is no mask).
        expect(e instanceof TypeError || e instanceof RangeError, `${field}: ${show(value)} gave ${show(e)}`).toBe(
          true,
        );
        expect((e as Error).message).toContain(target.fields[field]!.named ?? `${target.name}.${field}`);
      }),
      { numRuns: RUNS },
    );
  });

  const ranged = known.filter((f) => target.fields[f]!.range && target.fields[f]!.kind !== 'netmask');
  if (ranged.length > 0)
    it('refuses a known integer out of its range, naming it', async () => {
      const arb = fc.constantFrom(...ranged).chain((field) => {
        const [min, max] = target.fields[field]!.range!;
        return fc.record({ field: fc.constant(field), value: outside(min, max) });
      });
      await fc.assert(
        fc.asyncProperty(target.valid, arb, async (v, { field, value }) => {
          const e = await refusal(() => target.check({ ...v, [field]: value }));
          expect(e, `${field}: ${value} gave ${show(e)}`).toBeInstanceOf(RangeError);
          expect((e as Error).message).toContain(target.fields[field]!.named ?? `${target.name}.${field}`);
        }),
        { numRuns: RUNS },
      );
    });
});
