import { describe, expect, it } from 'vitest';

import { K } from '../src/constants.js';
import { daemonFromRaw, daemonSpecToRaw } from '../src/daemon.js';

describe('daemonSpecToRaw', () => {
  it('takes a DaemonInfo as a spec', () => {
    const group = new Uint8Array(16);
    group.set([239, 1, 2, 3]);
    const raw = {
      state: K.IP_VS_STATE_BACKUP,
      ifname: 'sync0',
      syncId: 7,
      maxLen: 1000,
      groupAf: K.AF_INET,
      group,
      port: 9000,
      ttl: 5,
    };
    expect(daemonSpecToRaw(daemonFromRaw(raw))).toEqual(raw);
  });

  it.each([
    [
      { state: 'master', interface: 'sync0', syncid: 5 },
      /daemon\.syncid is not a field of daemon \(it has state, interface, syncId, /,
    ],
    [{ state: 'master', interface: 'sync0', mcastGroup: '239.1.2.3' }, /daemon\.mcastGroup is not a field of daemon/],
    [{ state: 'master', ifname: 'sync0' }, /daemon\.ifname is not a field of daemon/],
  ])('refuses %j, naming the key', (spec, message) => {
    expect(() => daemonSpecToRaw(spec as never)).toThrow(TypeError);
    expect(() => daemonSpecToRaw(spec as never)).toThrow(message);
  });

  it('refuses an interface name with a NUL', () => {
    expect(() => daemonSpecToRaw({ state: 'master', interface: 'eth0\0x' })).toThrow(RangeError);
    expect(() => daemonSpecToRaw({ state: 'master', interface: 'eth0\0x' })).toThrow(
      /interface must be 1 to 15 characters without NUL/,
    );
  });
});
