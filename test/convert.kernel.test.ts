// The addon's argument conversions (native/convert.h), reached through the raw
// layer, which checks nothing itself: a number that does not fit the kernel
// field it goes to, or a string with a NUL, is refused before anything is
// sent. Before, port 65616 went out as 80 and NaN as 0, so a delete of port
// 65616 deleted port 80.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { K } from '../src/constants.js';
import type { RawDaemon, RawDestSpec, RawServiceSpec } from '../src/index.js';
import { createLab, expectRefusal, type Lab } from './helpers/netns.js';

function addr(...bytes: number[]): Uint8Array {
  const a = new Uint8Array(16);
  a.set(bytes);
  return a;
}

const service: RawServiceSpec = {
  af: K.AF_INET,
  protocol: K.IPPROTO_TCP,
  addr: addr(192, 0, 2, 1),
  port: 80,
  fwmark: 0,
  scheduler: 'rr',
  pe: '',
  flags: 0,
  timeout: 0,
  netmask: 0xffffffff,
};
const other: RawServiceSpec = { ...service, addr: addr(192, 0, 2, 2) };
const dest: RawDestSpec = {
  af: K.AF_INET,
  addr: addr(198, 51, 100, 1),
  port: 80,
  fwdMethod: K.IP_VS_CONN_F_MASQ,
  weight: 1,
  uThreshold: 0,
  lThreshold: 0,
  tunType: 0,
  tunPort: 0,
  tunFlags: 0,
};
const newDest: RawDestSpec = { ...dest, addr: addr(198, 51, 100, 2) };
const daemon: RawDaemon = {
  state: K.IP_VS_STATE_MASTER,
  ifname: 'sync0',
  syncId: 0,
  maxLen: 0,
  groupAf: 0,
  group: new Uint8Array(16),
  port: 0,
  ttl: 0,
};

const U16 = 'must be an integer from 0 to 65535';
const U32 = 'must be an integer from 0 to 4294967295';
const I32 = 'must be an integer from -2147483648 to 2147483647';

describe.each(['netlink', 'sockopt'] as const)('%s back-end', (backend) => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ backend });
    lab.exec('ip', 'link', 'add', 'sync0', 'type', 'dummy');
    lab.exec('ip', 'link', 'set', 'sync0', 'multicast', 'on', 'up');
    await lab.ipvs.raw.addService(service);
    await lab.ipvs.raw.addDestination(service, dest);
  });
  afterAll(async () => {
    await lab?.close();
  });

  type Case = [string, () => Promise<unknown>, typeof TypeError | typeof RangeError, string];
  const cases = (): Case[] => {
    const raw = lab.ipvs.raw;
    return [
      [
        'a port of 80 + 65536 to add',
        () => raw.addService({ ...other, port: 65616 }),
        RangeError,
        `field port ${U16}, got 65616`,
      ],
      [
        'a port of 80 + 65536 to delete',
        () => raw.deleteService({ ...service, port: 65616 }),
        RangeError,
        `field port ${U16}, got 65616`,
      ],
      [
        'a port of 80 + 65536 to get',
        () => raw.getService({ ...service, port: 65616 }),
        RangeError,
        `field port ${U16}, got 65616`,
      ],
      [
        'a port of 80 + 65536 to zero',
        () => raw.zero({ ...service, port: 65616 }),
        RangeError,
        `field port ${U16}, got 65616`,
      ],
      ['a NaN port', () => raw.addService({ ...other, port: NaN }), RangeError, `field port ${U16}, got NaN`],
      [
        'an infinite port',
        () => raw.addService({ ...other, port: Infinity }),
        RangeError,
        `field port ${U16}, got Infinity`,
      ],
      ['a fractional port', () => raw.addService({ ...other, port: 80.5 }), RangeError, `field port ${U16}, got 80.5`],
      ['a negative port', () => raw.addService({ ...other, port: -1 }), RangeError, `field port ${U16}, got -1`],
      [
        'a port as a string',
        () => raw.addService({ ...other, port: '80' as never }),
        TypeError,
        `field port ${U16}, got a string`,
      ],
      [
        'a protocol of TCP + 65536',
        () => raw.addService({ ...other, protocol: K.IPPROTO_TCP + 65536 }),
        RangeError,
        `field protocol ${U16}, got 65542`,
      ],
      [
        'an af of AF_INET + 65536',
        () => raw.addService({ ...other, af: K.AF_INET + 65536 }),
        RangeError,
        `field af ${U16}, got 65538`,
      ],
      [
        'a fwmark of 2^32 + 1',
        () => raw.addService({ ...other, fwmark: 2 ** 32 + 1 }),
        RangeError,
        `field fwmark ${U32}, got 4294967297`,
      ],
      ['negative flags', () => raw.addService({ ...other, flags: -1 }), RangeError, `field flags ${U32}, got -1`],
      [
        'a timeout of 2^32 + 360',
        () => raw.editService({ ...service, flags: K.IP_VS_SVC_F_PERSISTENT, timeout: 2 ** 32 + 360 }),
        RangeError,
        `field timeout ${U32}, got 4294967656`,
      ],
      [
        'a netmask of 2^32',
        () => raw.editService({ ...service, netmask: 2 ** 32 }),
        RangeError,
        `field netmask ${U32}, got 4294967296`,
      ],
      [
        'a scheduler with a NUL',
        () => raw.addService({ ...other, scheduler: 'rr\0wlc' }),
        RangeError,
        'field scheduler must not contain a NUL character',
      ],
      [
        'an engine with a NUL',
        () => raw.addService({ ...other, flags: K.IP_VS_SVC_F_PERSISTENT, timeout: 60, pe: 'sip\0' }),
        RangeError,
        'field pe must not contain a NUL character',
      ],
      [
        'a weight of 2^32 + 5 to add',
        () => raw.addDestination(service, { ...newDest, weight: 2 ** 32 + 5 }),
        RangeError,
        `field weight ${I32}, got 4294967301`,
      ],
      [
        'a weight of 2^32 + 5 to edit',
        () => raw.editDestination(service, { ...dest, weight: 2 ** 32 + 5 }),
        RangeError,
        `field weight ${I32}, got 4294967301`,
      ],
      [
        'a weight of 2^31',
        () => raw.editDestination(service, { ...dest, weight: 2 ** 31 }),
        RangeError,
        `field weight ${I32}, got 2147483648`,
      ],
      [
        'a destination port of 80 + 65536 to delete',
        () => raw.deleteDestination(service, { ...dest, port: 65616 }),
        RangeError,
        `field port ${U16}, got 65616`,
      ],
      [
        'an upper threshold of 2^32',
        () => raw.editDestination(service, { ...dest, uThreshold: 2 ** 32 }),
        RangeError,
        `field uThreshold ${U32}, got 4294967296`,
      ],
      [
        'a negative lower threshold',
        () => raw.editDestination(service, { ...dest, lThreshold: -1 }),
        RangeError,
        `field lThreshold ${U32}, got -1`,
      ],
      [
        'a forwarding method of MASQ + 2^32',
        () => raw.editDestination(service, { ...dest, fwdMethod: K.IP_VS_CONN_F_MASQ + 2 ** 32 }),
        RangeError,
        `field fwdMethod ${U32}, got 4294967296`,
      ],
      [
        'a tunnel type of 256',
        () => raw.editDestination(service, { ...dest, tunType: 256 }),
        RangeError,
        'field tunType must be an integer from 0 to 255, got 256',
      ],
      [
        'a tunnel port of 65536',
        () => raw.editDestination(service, { ...dest, tunPort: 65536 }),
        RangeError,
        `field tunPort ${U16}, got 65536`,
      ],
      [
        'tunnel flags of 65536',
        () => raw.editDestination(service, { ...dest, tunFlags: 65536 }),
        RangeError,
        `field tunFlags ${U16}, got 65536`,
      ],
      [
        'a service key with a port of 80 + 65536 for a destination',
        () => raw.addDestination({ ...service, port: 65616 }, newDest),
        RangeError,
        `field port ${U16}, got 65616`,
      ],
      [
        'a listing key with a port of 80 + 65536',
        () => raw.listDestinations({ ...service, port: 65616 }),
        RangeError,
        `field port ${U16}, got 65616`,
      ],
      [
        'a TCP timeout of 2^32 + 10',
        () => raw.setTimeouts({ tcp: 2 ** 32 + 10, tcpFin: 0, udp: 0 }),
        RangeError,
        `field tcp ${I32}, got 4294967306`,
      ],
      [
        'a NaN UDP timeout',
        () => raw.setTimeouts({ tcp: 0, tcpFin: 0, udp: NaN }),
        RangeError,
        `field udp ${I32}, got NaN`,
      ],
      [
        'a daemon state of 2^32 + 1',
        () => raw.startDaemon({ ...daemon, state: 2 ** 32 + 1 }),
        RangeError,
        `field state ${I32}, got 4294967297`,
      ],
      [
        'a sync id of 2^32',
        () => raw.startDaemon({ ...daemon, syncId: 2 ** 32 }),
        RangeError,
        `field syncId ${I32}, got 4294967296`,
      ],
      [
        'a message length of 65536 + 1000',
        () => raw.startDaemon({ ...daemon, maxLen: 66536 }),
        RangeError,
        `field maxLen ${U16}, got 66536`,
      ],
      [
        'a multicast port of 65536 + 8848',
        () => raw.startDaemon({ ...daemon, port: 74384 }),
        RangeError,
        `field port ${U16}, got 74384`,
      ],
      [
        'a TTL of 257',
        () => raw.startDaemon({ ...daemon, ttl: 257 }),
        RangeError,
        'field ttl must be an integer from 0 to 255, got 257',
      ],
      [
        'a group family that is none',
        () => raw.startDaemon({ ...daemon, groupAf: 3 }),
        RangeError,
        'field groupAf must be 0 (no group), AF_INET or AF_INET6, got 3',
      ],
      [
        'an interface with a NUL',
        () => raw.startDaemon({ ...daemon, ifname: 'sync0\0x' }),
        RangeError,
        'field ifname must not contain a NUL character',
      ],
      [
        'a state of 2^32 + 1 to stop',
        () => raw.stopDaemon({ state: 2 ** 32 + 1 }),
        RangeError,
        `field state ${I32}, got 4294967297`,
      ],
    ];
  };

  it('refuses every value that does not fit its field, naming field and range, and changes nothing', async () => {
    const before = {
      table: lab.saved(),
      timeouts: await lab.ipvs.raw.getTimeouts(),
      daemons: await lab.ipvs.raw.listDaemons(),
    };
    expect(before.table).toContain('-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1');
    for (const [title, call, type, message] of cases()) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, title).toBeInstanceOf(type);
      expect((error as Error).message, title).toBe(message);
    }
    expect({
      table: lab.saved(),
      timeouts: await lab.ipvs.raw.getTimeouts(),
      daemons: await lab.ipvs.raw.listDaemons(),
    }).toEqual(before);
  });

  it("sends the extremes of each range, and values out of the kernel's own bounds for its verdict", async () => {
    const edge = { ...other, port: 65535 };
    await lab.ipvs.raw.addService(edge);
    await lab.ipvs.raw.addDestination(edge, {
      ...newDest,
      weight: 2 ** 31 - 1,
      uThreshold: 2 ** 31 - 1,
      lThreshold: 2 ** 31 - 1,
    });
    expect(lab.saved()).toContain('-a -t 192.0.2.2:65535 -r 198.51.100.2:80 -m -w 2147483647\n');
    expect(await lab.ipvs.raw.listDestinations(edge)).toMatchObject([
      { weight: 2 ** 31 - 1, uThreshold: 2 ** 31 - 1, lThreshold: 2 ** 31 - 1 },
    ]);
    // The kernel keeps weights in an int and refuses negative ones; thresholds
    // travel as u32 and it refuses those above INT_MAX; timeouts are ints and
    // it refuses negative ones. Each reaches it as sent, and its verdict comes back.
    const invalid = {
      code: 'EINVAL',
      errno: 22,
      message: 'Invalid operation.  Possibly wrong module version, address not unicast, ...',
    };
    await expectRefusal(lab, () => lab.ipvs.raw.editDestination(edge, { ...newDest, weight: -1 }), {
      op: 'editDestination',
      code: 'ERANGE',
      errno: 34,
      message: 'Numerical result out of range',
    });
    await expectRefusal(lab, () => lab.ipvs.raw.editDestination(edge, { ...newDest, uThreshold: 2 ** 32 - 1 }), {
      op: 'editDestination',
      ...invalid,
    });
    const timeouts = await lab.ipvs.raw.getTimeouts();
    await expectRefusal(lab, () => lab.ipvs.raw.setTimeouts({ tcp: -1, tcpFin: 0, udp: 0 }), {
      op: 'setTimeouts',
      ...invalid,
    });
    expect(await lab.ipvs.raw.getTimeouts()).toEqual(timeouts);
    await lab.ipvs.raw.deleteService(edge);
  });
});
