// -h and -v: this program in its own words, laid out like ipvsadm's help so
// that its users find their way (synopsis, then commands and options).
import { createRequire } from 'node:module';

export function ownVersion(): string {
  try {
    // dist/cli.cjs and src/cli/help.ts both find the package root above them.
    const require = createRequire(import.meta.url);
    for (const path of ['../package.json', '../../package.json']) {
      try {
        const pkg = require(path) as { name?: string; version?: string };
        if (pkg.name === 'ipvs' && pkg.version) return pkg.version;
      } catch {
        // try the next one
      }
    }
  } catch {
    // fall through
  }
  return 'unknown';
}

export function versionText(): string {
  return `ipvs ${ownVersion()}: the ipvsadm 1.31 command line over the ipvs library (generic netlink)\n`;
}

export function helpText(argv0: string): string {
  const p = `  ${argv0}`;
  return `${versionText()}Usage:
${p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
${p} -D virtual-service
${p} -C
${p} -R [--atomic] [--comments]
${p} -S [-n]
${p} -a|e virtual-service -r server-address [options]
${p} -d virtual-service -r server-address
${p} -L|l [virtual-service] [options] [--json]
${p} -Z [virtual-service]
${p} --set tcp tcpfin udp
${p} --start-daemon {master|backup} [daemon-options]
${p} --stop-daemon {master|backup}
${p} -h
Every command also takes --netns NAME|PATH (work in that network namespace).

Commands (the long and the short spelling are the same):
  --add-service     -A        add a virtual service
  --edit-service    -E        replace every setting of a virtual service
  --delete-service  -D        delete a virtual service and its real servers
  --clear           -C        delete every virtual service
  --restore         -R        run the commands read from stdin
  --save            -S        print the table as commands for -R
  --add-server      -a        add a real server
  --edit-server     -e        replace every setting of a real server
  --delete-server   -d        delete a real server
  --list            -L|-l     list the table
  --zero            -Z        zero the counters of one service, or of all
  --set tcp tcpfin udp        set the connection timeouts (seconds, 0 keeps one)
  --start-daemon              start a connection sync daemon
  --stop-daemon               stop a connection sync daemon
  --help            -h        this text
  --version         -v        the version of this program

virtual-service:
  --tcp-service|-t  host[:port]       a TCP service
  --udp-service|-u  host[:port]       a UDP service
  --sctp-service    host[:port]       an SCTP service
  --fwmark-service|-f fwmark          packets carrying this firewall mark (1 or more)

Options:
  --ipv6         -6                   the fwmark service is IPv6 (after -f)
  --scheduler    -s scheduler         rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh (default wlc)
  --pe            engine              persistence engine (sip); none by default
  --persistent   -p [timeout]         keep a client on one real server (default 360 s)
  --netmask      -M netmask           which clients share persistence (IPv4 mask, IPv6 prefix)
  --real-server  -r server-address    host[:port] of a real server
  --gatewaying   -g                   direct routing (the default)
  --ipip         -i                   tunnelling
  --masquerading -m                   NAT
  --tun-type      type                ipip|gue|gre (default ipip)
  --tun-port      port                the GUE tunnel's port
  --tun-nocsum                        tunnel without checksums
  --tun-csum                          tunnel with checksums
  --tun-remcsum                       tunnel with remote checksum offload
  --weight       -w weight            the real server's share (default 1; 0 drains it)
  --u-threshold  -x uthreshold        stop scheduling at this many connections
  --l-threshold  -y lthreshold        resume below this many
  --connection   -c                   list the connection table
  --timeout                           list the timeouts
  --daemon                            list the sync daemons
  --stats                             list counters
  --rate                              list rates
  --exact        -X                   numbers in full, not scaled
  --thresholds                        list thresholds
  --persistent-conn                   list persistent connections
  --tun-info                          list tunnel settings
  --nosort                            keep the kernel's order
  --sort                              sort (the default; accepted for compatibility)
  --ops          -o                   one-packet scheduling (UDP and fwmark services)
  --numeric      -n                   addresses and ports as numbers
  --sched-flags  -b flags             comma-separated scheduler flags
  --json                              listings as JSON (see docs/cli.md)
  --netns        NAME|PATH            work in this network namespace
  --atomic                            -R applies every line or none
  --comments                          -R skips # comments
Daemon Options:
  --syncid sid                        sync id, 0..255 (default 0)
  --sync-maxlen length                largest sync message (default from the MTU)
  --mcast-interface interface         the multicast interface (default eth0)
  --mcast-group address               IPv4 or IPv6 group (default 224.0.0.81)
  --mcast-port port                   UDP port (default 8848)
  --mcast-ttl ttl                     multicast TTL (default 1)
`;
}
