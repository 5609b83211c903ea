// Connection entries for the benchmark and the soak (run in the lab, as root):
// a dummy link with a VIP and client addresses from the documentation ranges,
// one UDP service on the VIP with masquerading destinations, and `n`
// datagrams from distinct sources, each one entry. Nothing leaves the guest:
// the dummy link drops what it is given.
import { execFileSync, spawnSync } from 'node:child_process';

/**
 * `link`: the dummy link's name; `vip`: the service's address (port 53);
 * `clients`: how many client addresses (203.0.113.1 ...); `destinations`:
 * 198.51.100.1 ...; `udpTimeout`: seconds the entries live; `netns`: the name
 * of a network namespace (`ip netns add`) to build all of it in, instead of
 * the caller's own (its entries then go when the namespace is deleted).
 */
export function makeConnections({ link, vip, clients, destinations, udpTimeout, n, netns }) {
  const inNs = (cmd, args) => (netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, args]);
  const ip = (...args) => spawnSync(...inNs('ip', args));
  const ipvsadm = (...args) => execFileSync(...inNs('ipvsadm', args));
  // The datagrams go to a local address, through lo (up already outside a fresh namespace).
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', link, 'type', 'dummy');
  ip('link', 'set', link, 'up');
  ip('addr', 'add', `${vip}/32`, 'dev', link);
  ip('route', 'add', '198.51.100.0/24', 'dev', link);
  for (let i = 0; i < clients; i++) ip('addr', 'add', `203.0.113.${i + 1}/32`, 'dev', link);
  ipvsadm('--set', '0', '0', String(udpTimeout));
  ipvsadm('-A', '-u', `${vip}:53`, '-s', 'rr');
  for (let j = 1; j <= destinations; j++) ipvsadm('-a', '-u', `${vip}:53`, '-r', `198.51.100.${j}:53`, '-m');
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
  execFileSync(...inNs('python3', ['-c', py]));
}
