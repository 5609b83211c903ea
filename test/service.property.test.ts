// Properties of services (src/service.ts): every spec converts to the raw
// structure the addon sends, and what the kernel reports back for it reads as
// an info that means the same and converts to the same raw structure again;
// every service the kernel reports reads as an info that can be passed back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { familyOf, formatAddress, parseAddress, type Family } from '../src/address.js';
import { K } from '../src/constants.js';
import type { RawService, RawServiceSpec } from '../src/native.js';
import {
  serviceFromRaw,
  serviceKeyToRaw,
  serviceSpecToRaw,
  type ServiceInfo,
  type ServiceSpec,
} from '../src/service.js';
import { DEFAULT_PERSISTENCE_TIMEOUT } from '../src/vocabulary/limits.js';
import { dottedMask, prefixToMask } from '../src/vocabulary/netmask.js';
import { SCHEDULER_FLAGS } from '../src/vocabulary/scheduler-flags.js';
import { rawService, rawStats, serviceSpec } from './helpers/arbitraries.js';

const RUNS = 2000;

/** What the kernel reports for a service added with `raw`: the same fields, the HASHED bit, counters. */
const reported = (raw: RawServiceSpec, stats: RawService['stats']): RawService => ({
  ...raw,
  flags: raw.flags | K.IP_VS_SVC_F_HASHED,
  stats,
});

/** The info a spec should read back as, written out from the spec's own words and the documented defaults. */
function expectedInfo(spec: ServiceSpec): Partial<ServiceInfo> {
  const s = spec;
  const family: Family = 'fwmark' in s ? (s.family ?? 'inet') : parseAddress(s.address)!.family;
  const scheduler = s.scheduler ?? 'wlc';
  let persistence;
  if (s.persistence) {
    const { timeout = DEFAULT_PERSISTENCE_TIMEOUT, netmask } = s.persistence;
    persistence = {
      timeout,
      netmask:
        family === 'inet6'
          ? (netmask ?? 128)
          : typeof netmask === 'number'
            ? dottedMask(prefixToMask(netmask))
            : (netmask ?? '255.255.255.255'),
    };
  }
  // The flags' names, bit by bit: a scheduler's own name for a bit where it has one.
  const bits = (s.schedulerFlags ?? []).reduce((a, f) => a | SCHEDULER_FLAGS.find((x) => x.name === f)!.bit, 0);
  const schedulerFlags = [K.IP_VS_SVC_F_SCHED1, K.IP_VS_SVC_F_SCHED2, K.IP_VS_SVC_F_SCHED3]
    .filter((bit) => bits & bit)
    .map(
      (bit) =>
        (SCHEDULER_FLAGS.find((f) => f.bit === bit && f.scheduler === scheduler) ??
          SCHEDULER_FLAGS.find((f) => f.bit === bit && f.scheduler === undefined))!.name,
    );
  const common = {
    family,
    scheduler,
    persistence,
    persistenceEngine: s.persistenceEngine,
    onePacket: s.onePacket === true,
    schedulerFlags,
  };
  if ('fwmark' in s) return { fwmark: s.fwmark, ...common };
  return {
    protocol: s.protocol,
    address: formatAddress(family, parseAddress(s.address)!.bytes),
    port: s.port,
    ...common,
  };
}

describe('a service spec', () => {
  it('reads back as an info with its own values and the defaults', () => {
    fc.assert(
      fc.property(serviceSpec, rawStats, (spec, stats) => {
        const info = serviceFromRaw(reported(serviceSpecToRaw(spec), stats));
        expect(info).toMatchObject(expectedInfo(spec));
        expect(info.stats.conns).toBe(stats.conns);
      }),
      { numRuns: RUNS },
    );
  });

  it('converts to the same raw structure as the info it reads back as', () => {
    fc.assert(
      fc.property(serviceSpec, rawStats, (spec, stats) => {
        const raw = serviceSpecToRaw(spec);
        const info = serviceFromRaw(reported(raw, stats));
        expect(serviceSpecToRaw(info)).toEqual(raw);
        // An info edited as the README shows keeps everything else.
        expect(serviceSpecToRaw({ ...info, scheduler: 'rr', schedulerFlags: [] })).toEqual({
          ...raw,
          scheduler: 'rr',
          flags: raw.flags & ~(K.IP_VS_SVC_F_SCHED1 | K.IP_VS_SVC_F_SCHED2 | K.IP_VS_SVC_F_SCHED3),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('names the same service as a key, a spec and an info', () => {
    fc.assert(
      fc.property(serviceSpec, rawStats, (spec, stats) => {
        const raw = serviceSpecToRaw(spec);
        const key = serviceKeyToRaw(spec);
        expect(raw).toMatchObject(key);
        expect(serviceKeyToRaw(serviceFromRaw(reported(raw, stats)))).toEqual(key);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('a service the kernel reports', () => {
  it('reads as an info that converts back to what the kernel holds', () => {
    fc.assert(
      fc.property(rawService, (raw) => {
        const info = serviceFromRaw(raw);
        const { stats, ...fields } = raw;
        expect(serviceSpecToRaw(info)).toEqual({ ...fields, flags: raw.flags & ~K.IP_VS_SVC_F_HASHED });
        expect(info.family).toBe(familyOf(raw.af));
        expect(info.stats.outBps).toBe(stats.outbps);
      }),
      { numRuns: RUNS },
    );
  });
});
