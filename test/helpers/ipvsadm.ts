// Reads what the reference `ipvsadm -Ln --exact --thresholds`/`-Ln --exact`
// print back into records, so kernel tests can check that the real tool sees
// exactly the state this library wrote.
export interface AdmDestination {
  address: string;
  forwarding?: string;
  weight?: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  active: number;
  inactive: number;
}

export interface AdmService {
  /** `TCP  192.0.2.1:80`, `FWM  5`, `FWM  5 IPv6`: the service as ipvsadm names it. */
  name: string;
  scheduler: string;
  rest: string;
  destinations: AdmDestination[];
}

/** Parses `ipvsadm -Ln [--exact]` (default) or `--thresholds` output. */
export function parseList(text: string): AdmService[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const services: AdmService[] = [];
  const thresholds = lines.some((l) => l.includes('Uthreshold'));
  for (const line of lines.slice(lines[0]?.startsWith('IP Virtual Server') ? 3 : 2)) {
    if (line.startsWith('  -> ')) {
      const f = line.slice(5).trim().split(/\s+/);
      const svc = services[services.length - 1]!;
      if (thresholds) {
        svc.destinations.push({
          address: f[0]!,
          upperThreshold: Number(f[1]),
          lowerThreshold: Number(f[2]),
          active: Number(f[3]),
          inactive: Number(f[4]),
        });
      } else {
        svc.destinations.push({
          address: f[0]!,
          forwarding: f[1]!,
          weight: Number(f[2]),
          active: Number(f[3]),
          inactive: Number(f[4]),
        });
      }
      continue;
    }
    // `PROT ADDR SCHED rest...` or `FWM  N [IPv6] SCHED rest...`
    const m = /^(FWM  \d+(?: IPv6)?|\S+\s+\S+) (\S+)(.*)$/.exec(line);
    if (!m) throw new Error(`unexpected ipvsadm line: ${JSON.stringify(line)}`);
    services.push({ name: m[1]!, scheduler: m[2]!, rest: m[3]!.trim(), destinations: [] });
  }
  return services;
}
