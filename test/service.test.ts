// Conversions between the facade's service types and the addon's raw form.
import { describe, expect, it } from 'vitest';

import { K } from '../src/constants.js';
import { serviceFromRaw, serviceKeyToRaw, serviceSpecToRaw } from '../src/service.js';
import { ZERO_STATS } from './helpers/stats.js';

describe('serviceSpecToRaw', () => {
  it("fills ipvsadm's defaults", () => {
    expect(serviceSpecToRaw({ protocol: 'tcp', address: '192.0.2.1', port: 80 })).toMatchObject({
      af: K.AF_INET,
      protocol: K.IPPROTO_TCP,
      port: 80,
      fwmark: 0,
      scheduler: 'wlc',
      pe: '',
      flags: 0,
      timeout: 0,
      netmask: 0xffffffff,
    });
  });

  it('takes IPv6 with a /128 default netmask', () => {
    expect(serviceSpecToRaw({ protocol: 'udp', address: '2001:db8::1', port: 53 })).toMatchObject({
      af: K.AF_INET6,
      netmask: 128,
    });
  });

  it('encodes persistence, masks and flags', () => {
    const raw = serviceSpecToRaw({
      protocol: 'udp',
      address: '192.0.2.1',
      port: 0,
      scheduler: 'sh',
      persistence: { netmask: 24 },
      onePacket: true,
      schedulerFlags: ['sh-fallback', 'flag-3'],
      persistenceEngine: 'sip',
    });
    expect(raw).toMatchObject({
      timeout: 360,
      netmask: 0xffffff00,
      pe: 'sip',
      flags: K.IP_VS_SVC_F_PERSISTENT | K.IP_VS_SVC_F_ONEPACKET | K.IP_VS_SVC_F_SCHED1 | K.IP_VS_SVC_F_SCHED3,
    });
    expect(serviceSpecToRaw({ fwmark: 1, persistence: { netmask: '255.255.0.0', timeout: 5 } })).toMatchObject({
      netmask: 0xffff0000,
      timeout: 5,
    });
    expect(serviceSpecToRaw({ fwmark: 1, persistence: { netmask: 0 } })).toMatchObject({ netmask: 0 });
  });

  it('names fwmark services by mark and family only', () => {
    expect(serviceKeyToRaw({ fwmark: 4294967295, family: 'inet6' })).toEqual({
      af: K.AF_INET6,
      protocol: 0,
      addr: new Uint8Array(16),
      port: 0,
      fwmark: 4294967295,
    });
  });

  it('refuses a key that mixes both kinds', () => {
    expect(() => serviceKeyToRaw({ fwmark: 1, protocol: 'tcp', address: '192.0.2.1', port: 1 } as never)).toThrow(
      TypeError,
    );
  });

  it('refuses a non-object', () => {
    expect(() => serviceKeyToRaw(null as never)).toThrow(/service must be an object, got null/);
  });
});

describe('unknown and unusable fields', () => {
  const base = { protocol: 'tcp', address: '192.0.2.1', port: 80 } as const;

  it.each([
    [
      { ...base, persistance: { timeout: 600 } },
      /service\.persistance is not a field of service \(it has protocol, address, port, /,
    ],
    [
      { ...base, persistence: { timout: 600 } },
      /persistence\.timout is not a field of persistence \(it has timeout, netmask\)/,
    ],
    [{ ...base, sheduler: 'rr' }, /service\.sheduler is not a field of service/],
    [{ fwmark: 1, onepacket: true }, /service\.onepacket is not a field of service/],
  ])('refuses a spec with %j, naming the key', (spec, message) => {
    expect(() => serviceSpecToRaw(spec as never)).toThrow(TypeError);
    expect(() => serviceSpecToRaw(spec as never)).toThrow(message);
  });

  it('refuses an unknown key in a key too', () => {
    expect(() => serviceKeyToRaw({ ...base, prot: 'udp' } as never)).toThrow(/service\.prot is not a field of service/);
    expect(() => serviceKeyToRaw({ fwmark: 1, familly: 'inet6' } as never)).toThrow(
      /service\.familly is not a field of service/,
    );
  });

  it('takes a key whose extra fields are undefined, as spreads leave them', () => {
    expect(serviceKeyToRaw({ ...base, persistance: undefined } as never)).toMatchObject({ port: 80 });
  });

  it.each([
    [{ ...base, scheduler: 'rr\0x' }, /scheduler must be 1 to 15 characters without NUL/],
    [{ ...base, persistenceEngine: 'sip\0' }, /persistenceEngine must be 1 to 15 characters without NUL/],
  ])('refuses a NUL in a name the kernel gets: %j', (spec, message) => {
    expect(() => serviceSpecToRaw(spec)).toThrow(RangeError);
    expect(() => serviceSpecToRaw(spec)).toThrow(message);
  });

  it('takes an info as a key and spreads it into a spec, as the kernel reported it', () => {
    const addr = new Uint8Array(16);
    addr.set([192, 0, 2, 1]);
    const raw = {
      af: K.AF_INET,
      protocol: K.IPPROTO_UDP,
      addr,
      port: 0,
      fwmark: 0,
      scheduler: 'sh',
      pe: 'sip',
      flags: K.IP_VS_SVC_F_PERSISTENT | K.IP_VS_SVC_F_ONEPACKET | K.IP_VS_SVC_F_SCHED1,
      timeout: 600,
      netmask: 0xffffff00,
      stats: ZERO_STATS,
    };
    const info = serviceFromRaw(raw);
    const { stats: _, ...spec } = raw;
    expect(serviceSpecToRaw(info)).toEqual(spec);
    expect(serviceKeyToRaw(info)).toEqual({ af: K.AF_INET, protocol: K.IPPROTO_UDP, addr, port: 0, fwmark: 0 });
    expect(serviceSpecToRaw({ ...info, scheduler: 'rr', schedulerFlags: [] })).toEqual({
      ...spec,
      scheduler: 'rr',
      flags: K.IP_VS_SVC_F_PERSISTENT | K.IP_VS_SVC_F_ONEPACKET,
    });
    const v6 = serviceFromRaw({
      af: K.AF_INET6,
      protocol: 0,
      addr: new Uint8Array(16),
      port: 0,
      fwmark: 9,
      scheduler: 'rr',
      pe: '',
      flags: 0,
      timeout: 0,
      netmask: 128,
      stats: ZERO_STATS,
    });
    expect(serviceKeyToRaw(v6)).toMatchObject({ af: K.AF_INET6, fwmark: 9 });
    expect(serviceSpecToRaw({ ...v6, scheduler: 'wrr' })).toMatchObject({
      af: K.AF_INET6,
      fwmark: 9,
      scheduler: 'wrr',
      netmask: 128,
    });
  });

  it("refuses a family that is not the address's", () => {
    expect(() => serviceKeyToRaw({ ...base, family: 'inet6' } as never)).toThrow(
      /service\.family 'inet6' does not match service\.address 192\.0\.2\.1, which is inet/,
    );
    expect(serviceKeyToRaw({ ...base, family: 'inet' } as never)).toMatchObject({ af: K.AF_INET });
  });
});

describe('serviceFromRaw', () => {
  it('reports an address service', () => {
    const addr = new Uint8Array(16);
    addr.set([192, 0, 2, 1]);
    const info = serviceFromRaw({
      af: K.AF_INET,
      protocol: K.IPPROTO_SCTP,
      addr,
      port: 9,
      fwmark: 0,
      scheduler: 'mh',
      pe: '',
      flags: K.IP_VS_SVC_F_HASHED | K.IP_VS_SVC_F_PERSISTENT | K.IP_VS_SVC_F_SCHED2,
      timeout: 30,
      netmask: 0xfffffff0,
      stats: { ...ZERO_STATS, conns: 2n ** 40n },
    });
    expect(info).toEqual({
      protocol: 'sctp',
      address: '192.0.2.1',
      port: 9,
      family: 'inet',
      scheduler: 'mh',
      persistence: { timeout: 30, netmask: '255.255.255.240' },
      persistenceEngine: undefined,
      onePacket: false,
      schedulerFlags: ['mh-port'],
      flags: K.IP_VS_SVC_F_PERSISTENT | K.IP_VS_SVC_F_SCHED2,
      stats: expect.objectContaining({ conns: 2n ** 40n }),
    });
  });

  it('reports a fwmark service without protocol or address', () => {
    const info = serviceFromRaw({
      af: K.AF_INET6,
      protocol: 0,
      addr: new Uint8Array(16),
      port: 0,
      fwmark: 3,
      scheduler: 'rr',
      pe: 'sip',
      flags: 0,
      timeout: 0,
      netmask: 128,
      stats: ZERO_STATS,
    });
    expect(info).toMatchObject({ fwmark: 3, family: 'inet6', persistenceEngine: 'sip', persistence: undefined });
    expect('address' in info).toBe(false);
  });
});
