import { describe, expect, it } from 'vitest';

import { K } from '../src/constants.js';
import { destinationFromRaw, destinationKeyToRaw, destinationSpecToRaw } from '../src/destination.js';
import { serviceKeyToRaw } from '../src/service.js';
import { ZERO_STATS } from './helpers/stats.js';

const svc = serviceKeyToRaw({ protocol: 'tcp', address: '192.0.2.1', port: 80 });

describe('destinationSpecToRaw', () => {
  it("fills ipvsadm's defaults: route, weight 1, the service's port", () => {
    expect(destinationSpecToRaw({ address: '198.51.100.1' }, svc)).toMatchObject({
      af: K.AF_INET,
      port: 80,
      fwdMethod: K.IP_VS_CONN_F_DROUTE,
      weight: 1,
      uThreshold: 0,
      lThreshold: 0,
      tunType: 0,
      tunPort: 0,
      tunFlags: 0,
    });
  });

  it('encodes tunnels', () => {
    expect(
      destinationSpecToRaw(
        { address: '198.51.100.1', forwarding: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } },
        svc,
      ),
    ).toMatchObject({
      fwdMethod: K.IP_VS_CONN_F_TUNNEL,
      tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_GUE,
      tunPort: 6080,
      tunFlags: K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
    });
    // Another family than the service's is allowed for tunnels.
    expect(
      destinationSpecToRaw(
        { address: '2001:db8::1', forwarding: 'tunnel', tunnel: { type: 'gre', checksum: 'csum' } },
        svc,
      ),
    ).toMatchObject({ af: K.AF_INET6, tunFlags: 1 });
  });

  it.each([
    [
      { address: '198.51.100.1', forwarding: 'tunnel', tunnel: { type: 'ipip', checksum: 'csum' } },
      /not available for ipip/,
    ],
    [{ address: '198.51.100.1', forwarding: 'tunnel', tunnel: { type: 'gre', checksum: 'remcsum' } }, /only for gue/],
    [
      { address: '198.51.100.1', forwarding: 'tunnel', tunnel: { type: 'gre', port: 5 } },
      /tunnel.port is only for gue/,
    ],
    [
      { address: '198.51.100.1', forwarding: 'tunnel', tunnel: { type: 'vxlan' } },
      /tunnel.type must be one of 'ipip', 'gue', 'gre'/,
    ],
    [{ address: '198.51.100.1', upperThreshold: 2 ** 31 }, /upperThreshold must be an integer from 0 to 2147483647/],
  ])('refuses %j', (spec, message) => {
    expect(() => destinationSpecToRaw(spec as never, svc)).toThrow(message);
  });
});

describe('unknown fields', () => {
  it.each([
    [
      { address: '198.51.100.1', wieght: 0 },
      /destination\.wieght is not a field of destination \(it has family, address, port, /,
    ],
    [
      { address: '198.51.100.1', forwarding: 'tunnel', tunnel: { type: 'gue', port: 6080, chksum: 'csum' } },
      /tunnel\.chksum is not a field of tunnel \(it has type, port, checksum\)/,
    ],
    [{ address: '198.51.100.1', upper_threshold: 5 }, /destination\.upper_threshold is not a field/],
  ])('refuses %j, naming the key', (spec, message) => {
    expect(() => destinationSpecToRaw(spec as never, svc)).toThrow(TypeError);
    expect(() => destinationSpecToRaw(spec as never, svc)).toThrow(message);
  });

  it('refuses an unknown key in a key too', () => {
    expect(() => destinationKeyToRaw({ address: '198.51.100.1', prot: 8080 } as never, svc)).toThrow(
      /destination\.prot is not a field of destination/,
    );
  });

  it('takes an info as a key and spreads it into a spec, tunnels included', () => {
    const addr = new Uint8Array(16);
    addr.set([198, 51, 100, 7]);
    const base = {
      af: K.AF_INET,
      addr,
      port: 80,
      weight: 2,
      uThreshold: 9,
      lThreshold: 3,
      tunType: 0,
      tunPort: 0,
      tunFlags: 0,
      activeConns: 3,
      inactConns: 4,
      persistConns: 5,
      stats: ZERO_STATS,
    };
    for (const raw of [
      { ...base, fwdMethod: K.IP_VS_CONN_F_MASQ },
      { ...base, fwdMethod: K.IP_VS_CONN_F_TUNNEL, tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP },
      {
        ...base,
        fwdMethod: K.IP_VS_CONN_F_TUNNEL,
        tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_GRE,
        tunFlags: K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
      },
      {
        ...base,
        fwdMethod: K.IP_VS_CONN_F_TUNNEL,
        tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_GUE,
        tunPort: 6080,
        tunFlags: K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
      },
    ]) {
      const info = destinationFromRaw(raw);
      const { activeConns: _a, inactConns: _i, persistConns: _p, stats: _s, ...spec } = raw;
      expect(destinationSpecToRaw(info, svc)).toEqual(spec);
      expect(destinationSpecToRaw({ ...info, weight: 0 }, svc)).toEqual({ ...spec, weight: 0 });
      expect(destinationKeyToRaw(info, svc)).toEqual({ af: K.AF_INET, addr, port: 80 });
    }
  });

  it("refuses a family that is not the address's", () => {
    expect(() => destinationKeyToRaw({ address: '2001:db8::1', family: 'inet' } as never, svc)).toThrow(
      /destination\.family 'inet' does not match destination\.address 2001:db8::1, which is inet6/,
    );
  });
});

describe('destinationFromRaw', () => {
  it('reports tunnel details only for tunnels', () => {
    const addr = new Uint8Array(16);
    addr.set([198, 51, 100, 7]);
    const base = {
      af: K.AF_INET,
      addr,
      port: 80,
      weight: 2,
      uThreshold: 0,
      lThreshold: 0,
      tunType: 1,
      tunPort: 6080,
      tunFlags: 1,
      activeConns: 3,
      inactConns: 4,
      persistConns: 5,
      stats: ZERO_STATS,
    };
    expect(destinationFromRaw({ ...base, fwdMethod: K.IP_VS_CONN_F_TUNNEL })).toMatchObject({
      forwarding: 'tunnel',
      tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
      activeConnections: 3,
      inactiveConnections: 4,
      persistentConnections: 5,
    });
    expect(destinationFromRaw({ ...base, fwdMethod: K.IP_VS_CONN_F_MASQ })).toMatchObject({
      forwarding: 'masq',
      tunnel: undefined,
    });
  });
});
