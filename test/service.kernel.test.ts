// Virtual services against the real kernel: every operation round-trips, every
// kernel error carries ipvsadm's message and changes nothing, and the real
// ipvsadm reads back exactly what the library wrote.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { type ServiceInfo, type ServiceSpec } from '../src/index.js';
import { parseList } from './helpers/ipvsadm.js';
import { createLab, expectRefusal, type Lab } from './helpers/netns.js';

// Both back-ends pass the same suite; the legacy one only where it can
// express the case (IPv4, no persistence engine), and says so otherwise.
const backends = ['netlink', 'sockopt'] as const;

describe.each(backends)('%s back-end', (backend) => {
  const legacy = backend === 'sockopt';
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ backend });
  });
  afterAll(async () => {
    await lab?.close();
  });
  beforeEach(async () => {
    await lab.ipvs.clear();
  });

  /** The table as the reference tool saves it: what must not change on errors. */

  /** The parts of an info that a spec asked for. */
  function asked(info: ServiceInfo) {
    const { stats, flags, ...rest } = info;
    expect(typeof stats.conns).toBe('bigint');
    expect(typeof flags).toBe('number');
    return rest;
  }

  type Asked = ServiceInfo extends infer T ? (T extends unknown ? Omit<T, 'stats' | 'flags'> : never) : never;

  const specs: { title: string; spec: ServiceSpec; expected: Asked; adm: string }[] = [
    {
      title: 'TCP over IPv4',
      spec: { protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'rr' },
      expected: {
        protocol: 'tcp',
        address: '192.0.2.1',
        port: 80,
        family: 'inet',
        scheduler: 'rr',
        persistence: undefined,
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      },
      adm: 'TCP  192.0.2.1:80 rr',
    },
    {
      title: 'UDP over IPv4 with the default scheduler',
      spec: { protocol: 'udp', address: '192.0.2.2', port: 53 },
      expected: {
        protocol: 'udp',
        address: '192.0.2.2',
        port: 53,
        family: 'inet',
        scheduler: 'wlc',
        persistence: undefined,
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      },
      adm: 'UDP  192.0.2.2:53 wlc',
    },
    {
      title: 'SCTP over IPv4',
      spec: { protocol: 'sctp', address: '192.0.2.3', port: 5060, scheduler: 'lc' },
      expected: {
        protocol: 'sctp',
        address: '192.0.2.3',
        port: 5060,
        family: 'inet',
        scheduler: 'lc',
        persistence: undefined,
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      },
      adm: 'SCTP 192.0.2.3:5060 lc',
    },
    {
      title: 'TCP over IPv6',
      spec: { protocol: 'tcp', address: '2001:db8::1', port: 443, scheduler: 'wrr' },
      expected: {
        protocol: 'tcp',
        address: '2001:db8::1',
        port: 443,
        family: 'inet6',
        scheduler: 'wrr',
        persistence: undefined,
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      },
      adm: 'TCP  [2001:db8::1]:443 wrr',
    },
    {
      title: 'UDP over IPv6, non-canonical input',
      spec: { protocol: 'udp', address: '2001:DB8:0:0:0:0:0:53', port: 53, scheduler: 'sh' },
      expected: {
        protocol: 'udp',
        address: '2001:db8::53',
        port: 53,
        family: 'inet6',
        scheduler: 'sh',
        persistence: undefined,
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      },
      adm: 'UDP  [2001:db8::53]:53 sh',
    },
    {
      title: 'fwmark over IPv4',
      spec: { fwmark: 5, scheduler: 'dh' },
      expected: {
        fwmark: 5,
        family: 'inet',
        scheduler: 'dh',
        persistence: undefined,
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      },
      adm: 'FWM  5 dh',
    },
    {
      title: 'fwmark over IPv6',
      spec: { fwmark: 7, family: 'inet6', scheduler: 'rr' },
      expected: {
        fwmark: 7,
        family: 'inet6',
        scheduler: 'rr',
        persistence: undefined,
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      },
      adm: 'FWM  7 IPv6 rr',
    },
    {
      title: 'persistent IPv4 with a mask, port 0',
      spec: {
        protocol: 'tcp',
        address: '192.0.2.4',
        port: 0,
        scheduler: 'rr',
        persistence: { timeout: 600, netmask: '255.255.255.0' },
      },
      expected: {
        protocol: 'tcp',
        address: '192.0.2.4',
        port: 0,
        family: 'inet',
        scheduler: 'rr',
        persistence: { timeout: 600, netmask: '255.255.255.0' },
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      },
      adm: 'TCP  192.0.2.4:0 rr persistent 600 mask 255.255.255.0',
    },
    {
      title: 'persistent IPv6 with the default timeout and a prefix',
      spec: { protocol: 'tcp', address: '2001:db8::4', port: 80, persistence: { netmask: 64 } },
      expected: {
        protocol: 'tcp',
        address: '2001:db8::4',
        port: 80,
        family: 'inet6',
        scheduler: 'wlc',
        persistence: { timeout: 360, netmask: 64 },
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      },
      adm: 'TCP  [2001:db8::4]:80 wlc persistent 360 mask 64',
    },
    {
      title: 'one-packet UDP with scheduler flags',
      spec: {
        protocol: 'udp',
        address: '192.0.2.5',
        port: 53,
        scheduler: 'sh',
        onePacket: true,
        schedulerFlags: ['sh-fallback', 'sh-port'],
      },
      expected: {
        protocol: 'udp',
        address: '192.0.2.5',
        port: 53,
        family: 'inet',
        scheduler: 'sh',
        persistence: undefined,
        persistenceEngine: undefined,
        onePacket: true,
        schedulerFlags: ['sh-fallback', 'sh-port'],
      },
      adm: 'UDP  192.0.2.5:53 sh (sh-fallback,sh-port) ops',
    },
  ];

  describe('services', () => {
    it('lists an empty table as []', async () => {
      expect(await lab.ipvs.listServices()).toEqual([]);
    });

    const expressible = specs.filter((s) => !legacy || s.expected.family === 'inet');

    it.each(expressible)('adds, gets and lists $title', async ({ spec, expected, adm }) => {
      await lab.ipvs.addService(spec);
      expect(asked(await lab.ipvs.getService(spec))).toEqual(expected);
      const listed = await lab.ipvs.listServices();
      expect(listed.map(asked)).toEqual([expected]);
      const ref = parseList(lab.ipvsadm('-Ln', '--exact').stdout);
      expect(ref.map((s) => `${s.name} ${s.scheduler}${s.rest ? ` ${s.rest}` : ''}`)).toEqual([adm]);
    });

    it('keeps every service apart in one table, and ipvsadm sees the same set', async () => {
      for (const { spec } of expressible) await lab.ipvs.addService(spec);
      const listed = await lab.ipvs.listServices();
      expect(listed.map(asked)).toEqual(expect.arrayContaining(expressible.map((s) => s.expected)));
      expect(listed).toHaveLength(expressible.length);
      const ref = parseList(lab.ipvsadm('-Ln', '--exact').stdout).map(
        (s) => `${s.name} ${s.scheduler}${s.rest ? ` ${s.rest}` : ''}`,
      );
      expect(ref.sort()).toEqual(expressible.map((s) => s.adm).sort());
    });

    it('edits by replacing every setting', async () => {
      const key = { protocol: 'tcp', address: '192.0.2.10', port: 80 } as const;
      await lab.ipvs.addService({
        ...key,
        scheduler: 'sh',
        persistence: { timeout: 100 },
        schedulerFlags: ['sh-port'],
      });
      await lab.ipvs.editService({ ...key, scheduler: 'rr' });
      expect(asked(await lab.ipvs.getService(key))).toEqual({
        ...key,
        family: 'inet',
        scheduler: 'rr',
        persistence: undefined,
        persistenceEngine: undefined,
        onePacket: false,
        schedulerFlags: [],
      });
      expect(lab.ipvsadm('-Ln').stdout).toContain('TCP  192.0.2.10:80 rr\n');
    });

    it('deletes one service and leaves the others', async () => {
      await lab.ipvs.addService({ protocol: 'tcp', address: '192.0.2.1', port: 80 });
      await lab.ipvs.addService({ fwmark: 9 });
      await lab.ipvs.deleteService({ protocol: 'tcp', address: '192.0.2.1', port: 80 });
      expect((await lab.ipvs.listServices()).map((s) => s.fwmark)).toEqual([9]);
      await lab.ipvs.deleteService({ fwmark: 9 });
      expect(await lab.ipvs.listServices()).toEqual([]);
    });

    it('clears every service and destination', async () => {
      await lab.ipvs.addService({ protocol: 'tcp', address: '192.0.2.1', port: 80 });
      await lab.ipvs.addDestination({ protocol: 'tcp', address: '192.0.2.1', port: 80 }, { address: '198.51.100.1' });
      await lab.ipvs.addService({ fwmark: 1, family: legacy ? 'inet' : 'inet6' });
      await lab.ipvs.clear();
      expect(await lab.ipvs.listServices()).toEqual([]);
      expect(lab.saved()).toBe('');
    });
  });

  describe('service errors from the kernel', () => {
    const key = { protocol: 'tcp', address: '192.0.2.20', port: 80 } as const;

    it('add of an existing service: EEXIST', async () => {
      await lab.ipvs.addService(key);
      await expectRefusal(lab, () => lab.ipvs.addService({ ...key, scheduler: 'rr' }), {
        op: 'addService',
        code: 'EEXIST',
        errno: 17,
        message: 'Service already exists',
      });
    });

    it('add with an unknown scheduler: ENOENT', async () => {
      await expectRefusal(lab, () => lab.ipvs.addService({ ...key, scheduler: 'nosuch' }), {
        op: 'addService',
        code: 'ENOENT',
        errno: 2,
        message: 'Scheduler or persistence engine not found',
      });
    });

    it.runIf(!legacy)(
      'add with an unknown persistence engine: ENOENT (netlink only: the legacy interface has no engines)',
      async () => {
        await expectRefusal(lab, () => lab.ipvs.addService({ ...key, persistence: {}, persistenceEngine: 'nosuch' }), {
          op: 'addService',
          code: 'ENOENT',
          errno: 2,
          message: 'Scheduler or persistence engine not found',
        });
      },
    );

    it('edit of a missing service: ESRCH', async () => {
      await lab.ipvs.addService({ fwmark: 3 });
      await expectRefusal(lab, () => lab.ipvs.editService({ ...key, scheduler: 'rr' }), {
        op: 'editService',
        code: 'ESRCH',
        errno: 3,
        message: 'No such service',
      });
    });

    it('edit with an unknown scheduler: ENOENT', async () => {
      await lab.ipvs.addService(key);
      await expectRefusal(lab, () => lab.ipvs.editService({ ...key, scheduler: 'nosuch' }), {
        op: 'editService',
        code: 'ENOENT',
        errno: 2,
        message: 'Scheduler or persistence engine not found',
      });
    });

    it('delete of a missing service: ESRCH', async () => {
      await lab.ipvs.addService({ fwmark: 3 });
      await expectRefusal(lab, () => lab.ipvs.deleteService(key), {
        op: 'deleteService',
        code: 'ESRCH',
        errno: 3,
        message: 'No such service',
      });
    });

    it('get of a missing service: ESRCH', async () => {
      await expectRefusal(lab, () => lab.ipvs.getService({ fwmark: 77 }), {
        op: 'getService',
        code: 'ESRCH',
        errno: 3,
        message: 'No such service',
      });
    });

    it('zero of a missing service: ESRCH', async () => {
      await expectRefusal(lab, () => lab.ipvs.zero(key), {
        op: 'zero',
        code: 'ESRCH',
        errno: 3,
        message: 'No such service',
      });
    });
  });

  describe('invalid service input is refused before anything is sent', () => {
    const cases: [string, unknown, ErrorConstructor, RegExp][] = [
      [
        'a bad address',
        { protocol: 'tcp', address: '192.0.2.300', port: 80 },
        TypeError,
        /address must be a numeric IPv4 or IPv6 address/,
      ],
      ['a host name', { protocol: 'tcp', address: 'example.com', port: 80 }, TypeError, /address/],
      [
        'a port out of range',
        { protocol: 'tcp', address: '192.0.2.1', port: 65536 },
        RangeError,
        /port must be an integer from 0 to 65535, got 65536/,
      ],
      ['a fractional port', { protocol: 'tcp', address: '192.0.2.1', port: 8.5 }, TypeError, /port must be an integer/],
      [
        'an unknown protocol',
        { protocol: 'icmp', address: '192.0.2.1', port: 80 },
        RangeError,
        /protocol must be one of 'tcp', 'udp', 'sctp', got "icmp"/,
      ],
      ['fwmark 0', { fwmark: 0 }, RangeError, /fwmark must be an integer from 1 to 4294967295/],
      [
        'a long scheduler name',
        { fwmark: 1, scheduler: 'x'.repeat(16) },
        RangeError,
        /scheduler must be 1 to 15 characters/,
      ],
      ['port 0 without persistence', { protocol: 'tcp', address: '192.0.2.1', port: 0 }, RangeError, /port 0/],
      ['one-packet TCP', { protocol: 'tcp', address: '192.0.2.1', port: 80, onePacket: true }, RangeError, /onePacket/],
      [
        'a persistence timeout out of range',
        { fwmark: 1, persistence: { timeout: 2678401 } },
        RangeError,
        /persistence.timeout must be an integer from 1 to 2678400/,
      ],
      [
        'an IPv6 prefix out of range',
        { protocol: 'tcp', address: '2001:db8::1', port: 1, persistence: { netmask: 129 } },
        RangeError,
        /persistence.netmask must be an integer from 1 to 128/,
      ],
      [
        'an sh flag for another scheduler',
        { fwmark: 1, scheduler: 'rr', schedulerFlags: ['sh-port'] },
        RangeError,
        /needs scheduler 'sh'/,
      ],
    ];

    it.each(cases)('%s', async (_title, spec, type, message) => {
      await lab.ipvs.addService({ fwmark: 100 });
      const before = lab.saved();
      const error = await lab.ipvs.addService(spec as ServiceSpec).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      expect(lab.saved()).toBe(before);
    });
  });
});
