// Reads what the reference `ipvsadm -Ln --stats --exact` prints back into
// records, so traffic tests can hold the library's counters against the real
// tool's on the same kernel.
export interface AdmCounters {
  /** `TCP 192.0.2.1:80`, `FWM 5`, or a destination's `198.51.100.1:80`, spaces collapsed. */
  name: string;
  conns: bigint;
  inPackets: bigint;
  outPackets: bigint;
  inBytes: bigint;
  outBytes: bigint;
}

export interface AdmStatsService extends AdmCounters {
  destinations: AdmCounters[];
}

/** Parses `ipvsadm -Ln --stats --exact`: a service line, then its `  -> ` destination lines. */
export function parseStats(text: string): AdmStatsService[] {
  const services: AdmStatsService[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\s*->\s*)?(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    const [conns, inPackets, outPackets, inBytes, outBytes] = m.slice(3, 8).map((x) => BigInt(x)) as [
      bigint,
      bigint,
      bigint,
      bigint,
      bigint,
    ];
    const row = { name: m[2]!.replace(/\s+/g, ' '), conns, inPackets, outPackets, inBytes, outBytes };
    if (m[1]) {
      const svc = services[services.length - 1];
      if (!svc) throw new Error(`a destination line before any service: ${JSON.stringify(line)}`);
      svc.destinations.push(row);
    } else {
      services.push({ ...row, destinations: [] });
    }
  }
  return services;
}
