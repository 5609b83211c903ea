// Destinations against the real kernel: round trips, kernel errors with
// ipvsadm's messages, and agreement with the real ipvsadm.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { type DestinationInfo, type DestinationSpec, type ServiceKey } from '../src/index.js';
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

  function asked(d: DestinationInfo) {
    const { stats, activeConnections, inactiveConnections, persistentConnections, ...rest } = d;
    expect([activeConnections, inactiveConnections, persistentConnections]).toEqual([0, 0, 0]);
    expect(stats.conns).toBe(0n);
    return rest;
  }

  const v4: ServiceKey = { protocol: 'tcp', address: '192.0.2.1', port: 80 };
  const v6: ServiceKey = { protocol: 'udp', address: '2001:db8::1', port: 53 };
  const fwm: ServiceKey = { fwmark: 5 };

  const cases: {
    title: string;
    service: ServiceKey;
    spec: DestinationSpec;
    expected: Omit<DestinationInfo, 'stats' | 'activeConnections' | 'inactiveConnections' | 'persistentConnections'>;
    adm: string;
    admThresholds?: string;
  }[] = [
    {
      title: 'NAT with a weight and another port',
      service: v4,
      spec: { address: '198.51.100.1', port: 8080, forwarding: 'masq', weight: 5 },
      expected: {
        family: 'inet',
        address: '198.51.100.1',
        port: 8080,
        forwarding: 'masq',
        weight: 5,
        upperThreshold: 0,
        lowerThreshold: 0,
        tunnel: undefined,
      },
      adm: '198.51.100.1:8080 Masq 5',
    },
    {
      title: 'direct routing by default, port from the service',
      service: v4,
      spec: { address: '198.51.100.2' },
      expected: {
        family: 'inet',
        address: '198.51.100.2',
        port: 80,
        forwarding: 'route',
        weight: 1,
        upperThreshold: 0,
        lowerThreshold: 0,
        tunnel: undefined,
      },
      adm: '198.51.100.2:80 Route 1',
    },
    {
      title: 'an IPIP tunnel with thresholds',
      service: v4,
      spec: { address: '198.51.100.3', forwarding: 'tunnel', weight: 0, upperThreshold: 100, lowerThreshold: 10 },
      expected: {
        family: 'inet',
        address: '198.51.100.3',
        port: 80,
        forwarding: 'tunnel',
        weight: 0,
        upperThreshold: 100,
        lowerThreshold: 10,
        tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' },
      },
      adm: '198.51.100.3:80 Tunnel 0',
      admThresholds: '198.51.100.3:80 100 10',
    },
    {
      title: 'IPv6 NAT',
      service: v6,
      spec: { address: '2001:db8::a', port: 5353, forwarding: 'masq', weight: 2147483647 },
      expected: {
        family: 'inet6',
        address: '2001:db8::a',
        port: 5353,
        forwarding: 'masq',
        weight: 2147483647,
        upperThreshold: 0,
        lowerThreshold: 0,
        tunnel: undefined,
      },
      adm: '[2001:db8::a]:5353 Masq 2147483647',
    },
    {
      title: 'a fwmark service destination with port 0',
      service: fwm,
      spec: { address: '198.51.100.4', forwarding: 'masq' },
      expected: {
        family: 'inet',
        address: '198.51.100.4',
        port: 0,
        forwarding: 'masq',
        weight: 1,
        upperThreshold: 0,
        lowerThreshold: 0,
        tunnel: undefined,
      },
      adm: '198.51.100.4:0 Masq 1',
    },
  ];

  describe('destinations', () => {
    it('lists a service without destinations, and a missing service, as []', async () => {
      await lab.ipvs.addService(v4);
      expect(await lab.ipvs.listDestinations(v4)).toEqual([]);
      if (!legacy) expect(await lab.ipvs.listDestinations(v6)).toEqual([]);
    });

    it.each(cases.filter((c) => !legacy || c.expected.family === 'inet'))(
      'adds and lists $title',
      async ({ service, spec, expected, adm, admThresholds }) => {
        await lab.ipvs.addService(service);
        await lab.ipvs.addDestination(service, spec);
        expect((await lab.ipvs.listDestinations(service)).map(asked)).toEqual([expected]);
        const [ref] = parseList(lab.ipvsadm('-Ln', '--exact').stdout);
        expect(ref!.destinations.map((d) => `${d.address} ${d.forwarding} ${d.weight}`)).toEqual([adm]);
        if (admThresholds) {
          const [th] = parseList(lab.ipvsadm('-Ln', '--thresholds').stdout);
          expect(th!.destinations.map((d) => `${d.address} ${d.upperThreshold} ${d.lowerThreshold}`)).toEqual([
            admThresholds,
          ]);
        }
      },
    );

    it('keeps several destinations of several services apart', async () => {
      await lab.ipvs.addService(v4);
      await lab.ipvs.addService(fwm);
      for (let i = 1; i <= 5; i++)
        await lab.ipvs.addDestination(v4, { address: `198.51.100.${i}`, forwarding: 'masq', weight: i });
      await lab.ipvs.addDestination(fwm, { address: '203.0.113.9' });
      const dests = await lab.ipvs.listDestinations(v4);
      expect(dests.map((d) => [d.address, d.weight]).sort()).toEqual(
        [1, 2, 3, 4, 5].map((i) => [`198.51.100.${i}`, i]),
      );
      expect((await lab.ipvs.listDestinations(fwm)).map((d) => d.address)).toEqual(['203.0.113.9']);
      const ref = parseList(lab.ipvsadm('-Ln', '--exact').stdout);
      const v4ref = ref.find((s) => s.name === 'TCP  192.0.2.1:80')!;
      expect(v4ref.destinations.map((d) => `${d.address} ${d.forwarding} ${d.weight}`)).toEqual(
        [1, 2, 3, 4, 5].map((i) => `198.51.100.${i}:80 Masq ${i}`),
      );
    });

    it('edits by replacing every setting', async () => {
      await lab.ipvs.addService(v4);
      await lab.ipvs.addDestination(v4, { address: '198.51.100.1', forwarding: 'masq', weight: 7, upperThreshold: 9 });
      await lab.ipvs.editDestination(v4, { address: '198.51.100.1', weight: 3 });
      expect((await lab.ipvs.listDestinations(v4)).map(asked)).toEqual([
        {
          family: 'inet',
          address: '198.51.100.1',
          port: 80,
          forwarding: 'route',
          weight: 3,
          upperThreshold: 0,
          lowerThreshold: 0,
          tunnel: undefined,
        },
      ]);
      expect(lab.ipvsadm('-Sn').stdout).toContain('-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 3\n');
    });

    it('deletes one destination and keeps the rest', async () => {
      const [svc, a, b] = legacy ? [v4, '198.51.100.10', '198.51.100.11'] : [v6, '2001:db8::a', '2001:db8::b'];
      await lab.ipvs.addService(svc);
      await lab.ipvs.addDestination(svc, { address: a, forwarding: 'masq' });
      await lab.ipvs.addDestination(svc, { address: b, forwarding: 'masq' });
      await lab.ipvs.deleteDestination(svc, { address: a });
      expect((await lab.ipvs.listDestinations(svc)).map((d) => d.address)).toEqual([b]);
    });

    it('deleting the service deletes its destinations', async () => {
      await lab.ipvs.addService(v4);
      await lab.ipvs.addDestination(v4, { address: '198.51.100.1' });
      await lab.ipvs.deleteService(v4);
      await lab.ipvs.addService(v4);
      expect(await lab.ipvs.listDestinations(v4)).toEqual([]);
    });
  });

  describe.runIf(legacy)('what the legacy interface cannot express', () => {
    it('refuses IPv6 and tunnel types before any syscall, with EAFNOSUPPORT', async () => {
      const before = lab.saved();
      await expect(lab.ipvs.addService(v6)).rejects.toMatchObject({
        code: 'EAFNOSUPPORT',
        op: 'addService',
        fromKernel: false,
      });
      await expect(lab.ipvs.listDestinations(v6)).rejects.toMatchObject({ code: 'EAFNOSUPPORT' });
      await lab.ipvs.addService(v4);
      await expect(
        lab.ipvs.addDestination(v4, {
          address: '198.51.100.1',
          forwarding: 'tunnel',
          tunnel: { type: 'gue', port: 6080 },
        }),
      ).rejects.toMatchObject({ code: 'EAFNOSUPPORT', message: expect.stringMatching(/cannot carry tunnel types/) });
      await expect(lab.ipvs.addService({ fwmark: 9, persistence: {}, persistenceEngine: 'sip' })).rejects.toMatchObject(
        { code: 'EAFNOSUPPORT' },
      );
      await lab.ipvs.deleteService(v4);
      expect(lab.saved()).toBe(before);
    });
  });

  describe('destination errors from the kernel', () => {
    it('add to a missing service: ESRCH', async () => {
      await lab.ipvs.addService(fwm);
      await expectRefusal(lab, () => lab.ipvs.addDestination(v4, { address: '198.51.100.1' }), {
        op: 'addDestination',
        code: 'ESRCH',
        errno: 3,
        message: 'Service not defined',
      });
    });

    it('add of an existing destination: EEXIST', async () => {
      await lab.ipvs.addService(v4);
      await lab.ipvs.addDestination(v4, { address: '198.51.100.1' });
      await expectRefusal(lab, () => lab.ipvs.addDestination(v4, { address: '198.51.100.1', weight: 4 }), {
        op: 'addDestination',
        code: 'EEXIST',
        errno: 17,
        message: 'Destination already exists',
      });
    });

    it('edit of a missing destination: ENOENT', async () => {
      await lab.ipvs.addService(v4);
      await expectRefusal(lab, () => lab.ipvs.editDestination(v4, { address: '198.51.100.1' }), {
        op: 'editDestination',
        code: 'ENOENT',
        errno: 2,
        message: 'No such destination',
      });
    });

    it('edit in a missing service: ESRCH', async () => {
      await lab.ipvs.addService(fwm);
      await expectRefusal(lab, () => lab.ipvs.editDestination(v4, { address: '198.51.100.1' }), {
        op: 'editDestination',
        code: 'ESRCH',
        errno: 3,
        message: 'Service not defined',
      });
    });

    it('delete of a missing destination: ENOENT', async () => {
      await lab.ipvs.addService(v4);
      await lab.ipvs.addDestination(v4, { address: '198.51.100.2' });
      await expectRefusal(lab, () => lab.ipvs.deleteDestination(v4, { address: '198.51.100.1' }), {
        op: 'deleteDestination',
        code: 'ENOENT',
        errno: 2,
        message: 'No such destination',
      });
    });

    it('delete in a missing service: ESRCH', async () => {
      await lab.ipvs.addService(fwm);
      await expectRefusal(lab, () => lab.ipvs.deleteDestination(v4, { address: '198.51.100.1' }), {
        op: 'deleteDestination',
        code: 'ESRCH',
        errno: 3,
        message: 'Service not defined',
      });
    });

    it('a lower threshold above the upper, even when the upper is 0: ERANGE (why the library checks it first)', async () => {
      await lab.ipvs.addService(v4);
      const svc = {
        af: 2,
        protocol: 6,
        addr: new Uint8Array([192, 0, 2, 1, ...new Array(12).fill(0)]),
        port: 80,
        fwmark: 0,
      };
      const dest = {
        af: 2,
        addr: new Uint8Array([198, 51, 100, 1, ...new Array(12).fill(0)]),
        port: 80,
        fwdMethod: 3,
        weight: 1,
        uThreshold: 0,
        lThreshold: 5,
        tunType: 0,
        tunPort: 0,
        tunFlags: 0,
      };
      await expectRefusal(lab, () => lab.ipvs.raw.addDestination(svc, dest), {
        op: 'addDestination',
        code: 'ERANGE',
        errno: 34,
        message: 'Numerical result out of range',
      });
      await expect(lab.ipvs.addDestination(v4, { address: '198.51.100.1', lowerThreshold: 5 })).rejects.toThrow(
        RangeError,
      );
    });

    it('a destination address that is not unicast: EINVAL', async () => {
      await lab.ipvs.addService(v4);
      await expectRefusal(lab, () => lab.ipvs.addDestination(v4, { address: '224.0.0.1' }), {
        op: 'addDestination',
        code: 'EINVAL',
        errno: 22,
        message: 'Invalid operation.  Possibly wrong module version, address not unicast, ...',
      });
    });
  });

  describe('invalid destination input is refused before anything is sent', () => {
    const cases: [string, unknown, ErrorConstructor, RegExp][] = [
      ['a bad address', { address: '198.51.100' }, TypeError, /destination.address must be a numeric/],
      [
        'a weight out of range',
        { address: '198.51.100.1', weight: 2147483648 },
        RangeError,
        /weight must be an integer from 0 to 2147483647, got 2147483648/,
      ],
      [
        'a negative weight',
        { address: '198.51.100.1', weight: -1 },
        RangeError,
        /weight must be an integer from 0 to 2147483647, got -1/,
      ],
      [
        'a port out of range',
        { address: '198.51.100.1', port: -1 },
        RangeError,
        /destination.port must be an integer from 0 to 65535/,
      ],
      [
        'an unknown forwarding method',
        { address: '198.51.100.1', forwarding: 'nat' },
        RangeError,
        /forwarding must be one of/,
      ],
      [
        'a lower threshold above the upper',
        { address: '198.51.100.1', upperThreshold: 5, lowerThreshold: 6 },
        RangeError,
        /lowerThreshold \(6\) must not be above upperThreshold \(5\)/,
      ],
      [
        'tunnel options without tunnel forwarding',
        { address: '198.51.100.1', tunnel: { type: 'gre' } },
        RangeError,
        /tunnel options need forwarding 'tunnel'/,
      ],
      [
        'a gue tunnel without a port',
        { address: '198.51.100.1', forwarding: 'tunnel', tunnel: { type: 'gue' } },
        TypeError,
        /tunnel.port must be an integer from 1 to 65535/,
      ],
      [
        'another family without a tunnel',
        { address: '2001:db8::9', forwarding: 'masq' },
        RangeError,
        /another address family/,
      ],
    ];

    it.each(cases)('%s', async (_title, spec, type, message) => {
      await lab.ipvs.addService(v4);
      await lab.ipvs.addDestination(v4, { address: '203.0.113.1' });
      const before = lab.saved();
      const error = await lab.ipvs.addDestination(v4, spec as DestinationSpec).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      expect(lab.saved()).toBe(before);
    });
  });
});
