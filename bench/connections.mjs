// Connection entries for the benchmark and the soak (run in the lab, as root,
// in the guest's own namespace): a dummy link with a VIP and client
// addresses from the documentation ranges, one UDP service on the VIP with
// masquerading destinations, and `n` datagrams from distinct sources, each
// one entry. Nothing leaves the guest: the dummy link drops what it is given.
import { execFileSync, spawnSync } from 'node:child_process';

/**
 * `link`: the dummy link's name; `vip`: the service's address (port 53);
 * `clients`: how many client addresses (203.0.113.1 ...); `destinations`:
 * 198.51.100.1 ...; `udpTimeout`: seconds the entries live.
 */
export function makeConnections({ link, vip, clients, destinations, udpTimeout, n }) {
  spawnSync('ip', ['link', 'add', link, 'type', 'dummy']);
  spawnSync('ip', ['link', 'set', link, 'up']);
  spawnSync('ip', ['addr', 'add', `${vip}/32`, 'dev', link]);
  spawnSync('ip', ['route', 'add', '198.51.100.0/24', 'dev', link]);
  for (let i = 0; i < clients; i++) spawnSync('ip', ['addr', 'add', `203.0.113.${i + 1}/32`, 'dev', link]);
  execFileSync('ipvsadm', ['--set', '0', '0', String(udpTimeout)]);
  execFileSync('ipvsadm', ['-A', '-u', `${vip}:53`, '-s', 'rr']);
  for (let j = 1; j <= destinations; j++) {
    execFileSync('ipvsadm', ['-a', '-u', `${vip}:53`, '-r', `198.51.100.${j}:53`, '-m']);
  }
  const py = `
import socket
n, sent = ${n}, 0
for port in range(1024, 65535):
    for a in range(${clients}):
        if sent == n: break
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('203.0.113.%d' % (a + 1), port))
        s.sendto(b'x', ('${vip}', 53))
        s.close()
        sent += 1
    if sent == n: break
`;
  execFileSync('python3', ['-c', py]);
}
