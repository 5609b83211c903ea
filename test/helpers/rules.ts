// Desired states generated from a seed, covering every option the kernel
// takes (IPv4, IPv6, fwmark, every forwarding method ipvsadm can set,
// persistence with masks and engines, one-packet scheduling, scheduler
// flags, thresholds, tunnels), each with the same table as `ipvsadm -R`
// rules, so that the two can be applied in two namespaces and compared.
import type { DesiredService, DesiredState, DestinationSpec } from '../../src/index.js';

/** A small seeded generator (mulberry32): the same seed, the same states. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];

/** A desired state of `count` services, each with up to `maxDests` destinations. */
export function desiredState(seed: number, count: number, maxDests = 4): DesiredState {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const services: DesiredService[] = [];
  for (let i = 0; i < count; i++) {
    const kind = pick(['v4', 'v6', 'fwmark', 'fwmark6'] as const);
    const v6 = kind === 'v6' || kind === 'fwmark6';
    const protocol = pick(['tcp', 'udp', 'sctp'] as const);
    const key =
      kind === 'fwmark' || kind === 'fwmark6'
        ? { fwmark: 1000 + i, family: v6 ? ('inet6' as const) : ('inet' as const) }
        : {
            protocol,
            address: v6 ? `2001:db8:${(i >> 8) & 0xff}::${(i & 0xff) + 1}` : `192.0.2.${(i % 250) + 1}`,
            port: 1000 + i,
          };
    const scheduler = pick(SCHEDULERS);
    const s: DesiredService = { ...key, scheduler };
    if (rand() < 0.4) {
      s.persistence = { timeout: int(1, 7200) };
      if (rand() < 0.5) s.persistence.netmask = v6 ? int(64, 128) : pick(['255.255.255.0', '255.255.0.0']);
      if (kind !== 'fwmark' && kind !== 'fwmark6' && protocol === 'udp' && rand() < 0.5) s.persistenceEngine = 'sip';
    }
    if ((kind === 'fwmark' || kind === 'fwmark6' || protocol === 'udp') && rand() < 0.3) s.onePacket = true;
    if (scheduler === 'sh' || scheduler === 'mh') {
      if (rand() < 0.6)
        s.schedulerFlags = [`${scheduler}-fallback`, `${scheduler}-port`].filter(() => rand() < 0.7) as never;
    } else if (rand() < 0.15) {
      s.schedulerFlags = ['flag-1', 'flag-3'].filter(() => rand() < 0.7) as never;
    }
    const servicePort = 'port' in key ? key.port : 0;
    const dests: DestinationSpec[] = [];
    const n = int(0, maxDests);
    for (let j = 0; j < n; j++) {
      const forwarding = pick(['masq', 'route', 'tunnel'] as const);
      // Another family than the service's only through a tunnel.
      const family6 = forwarding === 'tunnel' && rand() < 0.25 ? !v6 : v6;
      const address = family6 ? `2001:db8:ff::${i * 8 + j + 1}` : `198.51.100.${((i * 8 + j) % 250) + 1}`;
      const d: DestinationSpec = {
        address,
        port: forwarding === 'masq' ? int(1, 65535) : servicePort,
        forwarding,
        weight: int(0, 100),
      };
      if (rand() < 0.3) {
        d.upperThreshold = int(1, 1000);
        d.lowerThreshold = int(0, d.upperThreshold);
      }
      if (forwarding === 'tunnel' && rand() < 0.7) {
        const type = pick(['ipip', 'gue', 'gre'] as const);
        d.tunnel = { type };
        if (type === 'gue') d.tunnel.port = int(1, 65535);
        if (type !== 'ipip')
          d.tunnel.checksum = pick(type === 'gue' ? ['nocsum', 'csum', 'remcsum'] : ['nocsum', 'csum']);
      }
      if (!dests.some((o) => o.address === d.address && o.port === d.port)) dests.push(d);
    }
    s.destinations = dests;
    services.push(s);
  }
  return { services };
}

const OPTION = { tcp: '-t', udp: '-u', sctp: '--sctp-service' } as const;
const FORWARD = { masq: '-m', route: '-g', tunnel: '-i', local: '' } as const;

const hostPort = (address: string, port: number) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/** The same table as ipvsadm -R input. */
export function rulesOf(state: DesiredState): string {
  const lines: string[] = [];
  for (const s of state.services) {
    const svc =
      'protocol' in s
        ? `${OPTION[s.protocol]} ${hostPort(s.address, s.port)}`
        : `-f ${s.fwmark}${s.family === 'inet6' ? ' -6' : ''}`;
    let line = `-A ${svc} -s ${s.scheduler ?? 'wlc'}`;
    if (s.persistence) {
      line += ` -p ${s.persistence.timeout ?? 360}`;
      if (s.persistence.netmask !== undefined) line += ` -M ${s.persistence.netmask}`;
    }
    if (s.persistenceEngine) line += ` --pe ${s.persistenceEngine}`;
    if (s.onePacket) line += ' -o';
    if (s.schedulerFlags?.length) line += ` -b ${s.schedulerFlags.join(',')}`;
    lines.push(line);
    for (const d of s.destinations ?? []) {
      let dl = `-a ${svc} -r ${hostPort(d.address, d.port ?? 0)} ${FORWARD[d.forwarding ?? 'route']} -w ${d.weight ?? 1}`;
      if (d.upperThreshold !== undefined) dl += ` -x ${d.upperThreshold}`;
      if (d.lowerThreshold !== undefined) dl += ` -y ${d.lowerThreshold}`;
      if (d.tunnel) {
        dl += ` --tun-type ${d.tunnel.type}`;
        if (d.tunnel.port !== undefined) dl += ` --tun-port ${d.tunnel.port}`;
        if (d.tunnel.checksum !== undefined) dl += ` --tun-${d.tunnel.checksum}`;
      }
      lines.push(dl);
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}
