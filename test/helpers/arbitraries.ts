// fast-check arbitraries for the property tests: addresses (as bytes and as
// every way of writing them), the facade's specs, and the raw structures the
// addon returns, each valid as the library and the kernel define it.
import fc from 'fast-check';

import { afOf, formatAddress, parseAddress, type Family } from '../../src/address.js';
import { K } from '../../src/constants.js';
import type { RawDaemon, RawDest, RawService, RawServiceKey, RawStats } from '../../src/native.js';
import type { DaemonSpec } from '../../src/daemon.js';
import type { DestinationSpec, Tunnel } from '../../src/destination.js';
import type { Persistence, ServiceSpec } from '../../src/service.js';
import { COUNTER_COLUMNS } from '../../src/snapshot.js';
import { FORWARDING_NAMES } from '../../src/vocabulary/forwarding.js';
import { MAX_TIMEOUT } from '../../src/vocabulary/limits.js';
import { SERVICE_PROTOCOLS, protocolByName } from '../../src/vocabulary/protocols.js';
import { SCHEDULER_FLAGS, type SchedulerFlag } from '../../src/vocabulary/scheduler-flags.js';

export const INT_MAX = 0x7fffffff;

// --- addresses ------------------------------------------------------------------

const word = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constantFrom(1, 0xffff, 0x2001, 0xdb8) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);

/** 16 bytes of an IPv6 address, rich in runs of zero words and in the embedded-IPv4 forms. */
export const ipv6Bytes: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    fc.array(word, { minLength: 8, maxLength: 8 }),
    // ::a.b.c.d and ::ffff:a.b.c.d, which inet_ntop writes with a dotted tail.
    fc
      .tuple(fc.constantFrom(0, 0xffff), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
      .map(([w5, w6, w7]) => [0, 0, 0, 0, 0, w5, w6, w7]),
  )
  .map((words) => {
    const b = new Uint8Array(16);
    words.forEach((w, i) => ((b[2 * i] = w >> 8), (b[2 * i + 1] = w & 0xff)));
    return b;
  });

/** 16 bytes with an IPv4 address in the first four. */
export const ipv4Bytes: fc.Arbitrary<Uint8Array> = fc
  .array(fc.oneof(fc.constantFrom(0, 1, 255), fc.integer({ min: 0, max: 255 })), { minLength: 4, maxLength: 4 })
  .map((quad) => {
    const b = new Uint8Array(16);
    b.set(quad);
    return b;
  });

export const address: fc.Arbitrary<{ family: Family; bytes: Uint8Array }> = fc.oneof(
  ipv4Bytes.map((bytes) => ({ family: 'inet' as const, bytes })),
  ipv6Bytes.map((bytes) => ({ family: 'inet6' as const, bytes })),
);

/** The text of an address in its canonical form (what inet_ntop writes). */
export const addressText = (family: Family): fc.Arbitrary<string> =>
  (family === 'inet' ? ipv4Bytes : ipv6Bytes).map((b) => formatAddress(family, b));

/**
 * Any spelling of an IPv6 address: groups with leading zeros and either case,
 * any run of zero groups (or none) written as `::`, and an IPv4 tail.
 */
export const ipv6Spelling: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(word, { minLength: 8, maxLength: 8 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()), { minLength: 8, maxLength: 8 }),
    fc.nat(),
    fc.boolean(),
  )
  .map(([words, styles, pick, dottedTail]) => {
    let groups = words.map((w, i) => {
      const [pad, upper] = styles[i]!;
      const h = w.toString(16).padStart(Math.min(4, w.toString(16).length + pad), '0');
      return upper ? h.toUpperCase() : h;
    });
    if (dottedTail) {
      const [a, b] = [words[6]!, words[7]!];
      groups = [...groups.slice(0, 6), `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`];
    }
    // Runs of zero groups that may become "::" (a dotted tail is not a group of them).
    const runs: [number, number][] = [];
    const last = dottedTail ? 6 : 8;
    for (let i = 0; i < last; i++) for (let j = i; j < last && words[j] === 0; j++) runs.push([i, j + 1]);
    if (runs.length === 0 || pick % 3 === 0) return groups.join(':');
    const [from, to] = runs[pick % runs.length]!;
    return `${groups.slice(0, from).join(':')}::${groups.slice(to).join(':')}`;
  });

/** Dotted IPv4 texts, mostly valid, some with leading zeros, parts over 255 or the wrong number of parts. */
export const ipv4Spelling: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 30, arbitrary: fc.integer({ min: 0, max: 255 }).map(String) },
        { weight: 1, arbitrary: fc.integer({ min: 256, max: 999 }).map(String) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 99 }).map((n) => `0${n}`) },
      ),
      { minLength: 4, maxLength: 4 },
    ),
    fc.integer({ min: -4, max: 4 }),
  )
  // Mostly four parts; sometimes one fewer or one more.
  .map(([parts, n]) => (n === -4 ? parts.slice(1) : n === 4 ? [...parts, '1'] : parts).join('.'));

/** Texts that are mostly not addresses: what a typo or a hostile caller gives. */
export const addressNoise: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFgx:.%/[] -'.split('')), maxLength: 46 }),
  fc.string({ maxLength: 20 }),
  // A valid address with one character changed, added or removed.
  fc
    .tuple(fc.oneof(ipv6Spelling, ipv4Spelling), fc.nat(), fc.constantFrom(...'0:.f g1\0'.split('')), fc.nat(2))
    .map(([text, at, ch, how]) => {
      const i = at % (text.length + 1);
      if (how === 0) return text.slice(0, i) + ch + text.slice(i);
      if (how === 1) return text.slice(0, i) + text.slice(i + 1);
      return text.slice(0, i) + ch + text.slice(i + 1);
    }),
);

// --- the facade's specs ---------------------------------------------------------

export const SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
  'twos',
];

/** A module name as the kernel keeps it: 1..15 bytes without NUL. */
export const moduleName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SCHEDULERS) },
  {
    weight: 1,
    arbitrary: fc
      .string({ minLength: 1, maxLength: 15 })
      .filter((s) => !s.includes('\0') && Buffer.byteLength(s) <= 15),
  },
);

const port = fc.oneof(fc.constantFrom(0, 1, 80, 65535), fc.integer({ min: 0, max: 65535 }));
const fwmark = fc.oneof(fc.constantFrom(1, 0xffffffff), fc.integer({ min: 1, max: 0xffffffff }));
const family = fc.constantFrom<Family>('inet', 'inet6');

/** Scheduler flags the scheduler accepts: the generic ones, and sh's or mh's own for those. */
const schedulerFlags = (scheduler: string): fc.Arbitrary<SchedulerFlag[]> =>
  fc.subarray(SCHEDULER_FLAGS.filter((f) => f.scheduler === undefined || f.scheduler === scheduler).map((f) => f.name));

const persistence = (fam: Family): fc.Arbitrary<Persistence> =>
  fc.record(
    {
      timeout: fc.oneof(fc.constantFrom(1, MAX_TIMEOUT), fc.integer({ min: 1, max: MAX_TIMEOUT })),
      netmask:
        fam === 'inet6'
          ? fc.integer({ min: 1, max: 128 })
          : fc.oneof(fc.integer({ min: 0, max: 32 }), addressText('inet')),
    },
    { requiredKeys: [] },
  );

/** A service key: protocol, address and port, or a firewall mark (with or without its family). */
const serviceKeyParts = fc.oneof(
  fc.record({
    protocol: fc.constantFrom(...SERVICE_PROTOCOLS),
    family,
    port,
  }),
  fc.record({ fwmark, family: fc.option(family, { nil: undefined }) }),
);

/** A valid service spec, in every combination of options the library takes. */
export const serviceSpec: fc.Arbitrary<ServiceSpec> = serviceKeyParts
  .chain((key) => {
    const fam = key.family ?? 'inet';
    const address = 'protocol' in key ? addressText(fam) : fc.constant(undefined);
    return fc.record({
      key: fc.constant(key),
      address,
      scheduler: fc.option(moduleName, { nil: undefined }),
      persistence: fc.oneof(fc.constant(undefined), fc.constant(false as const), persistence(fam)),
      persistenceEngine: fc.option(fc.constantFrom('sip', 'x'), { nil: undefined }),
      onePacket: fc.option(fc.boolean(), { nil: undefined }),
    });
  })
  .chain((parts) =>
    schedulerFlags(parts.scheduler ?? 'wlc').map((flags) => {
      const { key, address, ...options } = parts;
      const spec: Record<string, unknown> = 'protocol' in key ? { ...key, address } : { ...key };
      // The family of an address key is its address's; say so only sometimes.
      if ('protocol' in key && flags.length % 2 === 0) delete spec.family;
      for (const [k, v] of Object.entries(options)) if (v !== undefined) spec[k] = v;
      if (flags.length > 0 || options.scheduler === 'sh') spec.schedulerFlags = flags;
      // The rules: port 0 only for persistent services, one-packet only for UDP and fwmark.
      const persistent = options.persistence !== undefined && options.persistence !== false;
      if (spec.port === 0 && !persistent) spec.port = 1;
      if (spec.onePacket === true && 'protocol' in key && key.protocol !== 'udp') spec.onePacket = false;
      return spec as unknown as ServiceSpec;
    }),
  );

const tunnel: fc.Arbitrary<Tunnel> = fc.oneof(
  fc.record(
    {
      type: fc.constant('ipip' as const),
      port: fc.constantFrom(undefined, 0),
      checksum: fc.constant('nocsum' as const),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('gre' as const),
      port: fc.constantFrom(undefined, 0),
      checksum: fc.constantFrom('nocsum' as const, 'csum' as const),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('gue' as const),
      port: fc.integer({ min: 1, max: 65535 }),
      checksum: fc.constantFrom('nocsum' as const, 'csum' as const, 'remcsum' as const),
    },
    { requiredKeys: ['type', 'port'] },
  ),
);

/** A TCP service's raw key of `family` and `port` (its address all zeros): what destination conversions take. */
export const rawServiceKey = (family: Family, port: number): RawServiceKey => ({
  af: afOf(family),
  protocol: 6,
  addr: new Uint8Array(16),
  port,
  fwmark: 0,
});

/** A service's family and port, for rawServiceKey. */
export const serviceFamilyPort = fc.tuple(fc.constantFrom<Family>('inet', 'inet6'), fc.integer({ min: 0, max: 65535 }));

/** A valid destination spec for a service of family `serviceFamily`. */
export const destinationSpec = (serviceFamily: Family): fc.Arbitrary<DestinationSpec> =>
  fc
    .record({
      family,
      forwarding: fc.option(fc.constantFrom(...FORWARDING_NAMES), { nil: undefined }),
      port: fc.option(port, { nil: undefined }),
      weight: fc.option(fc.oneof(fc.constantFrom(0, 1, INT_MAX), fc.integer({ min: 0, max: INT_MAX })), {
        nil: undefined,
      }),
      thresholds: fc.option(fc.tuple(fc.integer({ min: 0, max: INT_MAX }), fc.integer({ min: 0, max: INT_MAX }))),
      tunnel: fc.option(tunnel, { nil: undefined }),
    })
    .chain(({ family: fam, thresholds, ...rest }) =>
      addressText(fam).map((address) => {
        const spec: Record<string, unknown> = { address };
        // Another family than the service's needs a tunnel; tunnel options need one too.
        let forwarding = rest.forwarding;
        if (fam !== serviceFamily || (rest.tunnel !== undefined && forwarding !== undefined)) forwarding = 'tunnel';
        if (forwarding !== undefined) spec.forwarding = forwarding;
        if (rest.tunnel !== undefined && forwarding === 'tunnel') spec.tunnel = rest.tunnel;
        if (rest.port !== undefined) spec.port = rest.port;
        if (rest.weight !== undefined) spec.weight = rest.weight;
        if (thresholds) {
          const [a, b] = thresholds;
          spec.upperThreshold = Math.max(a, b);
          if (a !== b) spec.lowerThreshold = Math.min(a, b);
        }
        return spec as unknown as DestinationSpec;
      }),
    );

/** A valid daemon spec. */
export const daemonSpec: fc.Arbitrary<DaemonSpec> = fc.record(
  {
    state: fc.constantFrom('master' as const, 'backup' as const),
    interface: fc.oneof(
      fc.constantFrom('eth0', 'sync0'),
      fc.string({ minLength: 1, maxLength: 15 }).filter((s) => !s.includes('\0') && Buffer.byteLength(s) <= 15),
    ),
    syncId: fc.integer({ min: 0, max: 255 }),
    maxLength: fc.integer({ min: 1, max: 65507 }),
    group: fc.oneof(
      ipv4Bytes.map((b) => formatAddress('inet', Uint8Array.of(224 | (b[0]! & 15), b[1]!, b[2]!, b[3]!))),
      ipv6Bytes.map((b) => formatAddress('inet6', Uint8Array.of(0xff, ...b.subarray(1)))),
    ),
    port: fc.integer({ min: 1, max: 65535 }),
    ttl: fc.integer({ min: 1, max: 255 }),
  },
  { requiredKeys: ['state', 'interface'] },
);

// --- raw structures, as the addon returns them ------------------------------------

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
export const rawStats: fc.Arbitrary<RawStats> = fc
  .array(u64, { minLength: COUNTER_COLUMNS.length, maxLength: COUNTER_COLUMNS.length })
  .map((values) => Object.fromEntries(COUNTER_COLUMNS.map((name, i) => [name, values[i]])) as unknown as RawStats);

const bytesOf = (fam: Family) => (fam === 'inet' ? ipv4Bytes : ipv6Bytes);

/**
 * A service as the kernel reports one made by the library or by ipvsadm:
 * the HASHED bit set, the flags the library knows, and a timeout and netmask
 * that mean something only when persistent.
 */
export const rawService: fc.Arbitrary<RawService> = fc
  .record({
    family,
    fwmark: fc.option(fwmark, { nil: 0 }),
    protocol: fc.constantFrom(...SERVICE_PROTOCOLS).map((p) => protocolByName(p)!.number),
    port,
    scheduler: moduleName,
    pe: fc.constantFrom('', 'sip'),
    persistent: fc.boolean(),
    timeout: fc.integer({ min: 1, max: MAX_TIMEOUT }),
    netmask4: fc.integer({ min: 0, max: 0xffffffff }),
    netmask6: fc.integer({ min: 1, max: 128 }),
    onePacket: fc.boolean(),
    schedBits: fc.subarray([K.IP_VS_SVC_F_SCHED1, K.IP_VS_SVC_F_SCHED2, K.IP_VS_SVC_F_SCHED3]),
    stats: rawStats,
  })
  .chain((r) =>
    bytesOf(r.family).map((addr): RawService => {
      const byMark = r.fwmark !== 0;
      let flags = K.IP_VS_SVC_F_HASHED | r.schedBits.reduce((a, b) => a | b, 0);
      if (r.persistent) flags |= K.IP_VS_SVC_F_PERSISTENT;
      if (r.onePacket && (byMark || r.protocol === K.IPPROTO_UDP)) flags |= K.IP_VS_SVC_F_ONEPACKET;
      const full = r.family === 'inet' ? 0xffffffff : 128;
      return {
        af: afOf(r.family),
        protocol: byMark ? 0 : r.protocol,
        addr: byMark ? new Uint8Array(16) : addr,
        port: byMark ? 0 : r.port === 0 && !r.persistent ? 80 : r.port,
        fwmark: r.fwmark,
        scheduler: r.scheduler,
        pe: r.pe,
        flags,
        timeout: r.persistent ? r.timeout : 0,
        netmask: r.persistent ? (r.family === 'inet' ? r.netmask4 : r.netmask6) : full,
        stats: r.stats,
      };
    }),
  );

const TUNNEL_RAW = [
  { tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP, flags: [K.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM] },
  {
    tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_GRE,
    flags: [K.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM, K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM],
  },
  {
    tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_GUE,
    flags: [K.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM, K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM, K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM],
  },
];

/** A destination of a service of `serviceFamily` as the kernel reports it. */
export const rawDest = (serviceFamily: Family): fc.Arbitrary<RawDest> =>
  fc
    .record({
      family,
      port,
      fwdMethod: fc.constantFrom(
        K.IP_VS_CONN_F_MASQ,
        K.IP_VS_CONN_F_LOCALNODE,
        K.IP_VS_CONN_F_TUNNEL,
        K.IP_VS_CONN_F_DROUTE,
      ),
      weight: fc.integer({ min: 0, max: INT_MAX }),
      thresholds: fc.tuple(fc.integer({ min: 0, max: INT_MAX }), fc.integer({ min: 0, max: INT_MAX })),
      tunnel: fc.constantFrom(...TUNNEL_RAW).chain((t) =>
        fc.record({
          tunType: fc.constant(t.tunType),
          tunFlags: fc.constantFrom(...t.flags),
          tunPort: t.tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_GUE ? fc.integer({ min: 1, max: 65535 }) : fc.constant(0),
        }),
      ),
      conns: fc.array(fc.integer({ min: 0, max: INT_MAX }), { minLength: 3, maxLength: 3 }),
      stats: rawStats,
    })
    .chain((r) => {
      const fwdMethod = r.family === serviceFamily ? r.fwdMethod : K.IP_VS_CONN_F_TUNNEL;
      return bytesOf(r.family).map((addr): RawDest => ({
        af: afOf(r.family),
        addr,
        port: r.port,
        fwdMethod,
        weight: r.weight,
        uThreshold: Math.max(...r.thresholds),
        lThreshold: Math.min(...r.thresholds),
        ...(fwdMethod === K.IP_VS_CONN_F_TUNNEL ? r.tunnel : { tunType: 0, tunPort: 0, tunFlags: 0 }),
        activeConns: r.conns[0]!,
        inactConns: r.conns[1]!,
        persistConns: r.conns[2]!,
        stats: r.stats,
      }));
    });

/**
 * A running daemon as the kernel reports it: every field filled in (the
 * kernel puts its defaults in for those not asked for), the group optional.
 */
export const rawDaemon: fc.Arbitrary<RawDaemon> = daemonSpec.map((d) => {
  const group = d.group === undefined ? undefined : parseAddress(d.group)!;
  return {
    state: d.state === 'master' ? K.IP_VS_STATE_MASTER : K.IP_VS_STATE_BACKUP,
    ifname: d.interface,
    syncId: d.syncId ?? 0,
    maxLen: d.maxLength ?? 1472,
    groupAf: group === undefined ? 0 : group.family === 'inet' ? K.AF_INET : K.AF_INET6,
    group: group?.bytes ?? new Uint8Array(16),
    port: d.port ?? 8848,
    ttl: d.ttl ?? 1,
  };
});
