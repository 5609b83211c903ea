// The differential suite's cases: command sequences that run through the
// real ipvsadm and through `ipvs` from the same (empty) state. Hand-written
// cases cover each command, option and error path of ipvsadm-spec.md §1 and
// §3; generated ones add option-order permutations and random sequences.
import { words, type Case, type Step } from './helpers/differential.js';

const S = (line: string, stdin?: string): Step =>
  stdin === undefined ? { args: words(line) } : { args: words(line), stdin };
const c = (name: string, ...lines: (string | Step)[]): Case => ({
  name,
  steps: lines.map((l) => (typeof l === 'string' ? S(l) : l)),
});

const V = '192.0.2.10';
const V6 = '2001:db8::10';
const R1 = '198.51.100.1';
const R2 = '198.51.100.2';
const R6 = '2001:db8:1::1';

/**
 * Lists after the changes, so a case also compares the table as printed (the
 * final -Sn of both tools is compared for every case anyway).
 */
const withLists = (name: string, ...lines: (string | Step)[]): Case => c(name, ...lines, '-Ln');
/** For real servers: thresholds and counts, which -Sn does not show. */
const withThresholds = (name: string, ...lines: (string | Step)[]): Case => c(name, ...lines, '-Ln --thresholds');

const grammar: Case[] = [
  c('no arguments lists', ''),
  c('first option not a command', '-n -L'),
  c('first option not a command (service)', `-t ${V}:80 -A`),
  c('unknown long option first', '--add-serv'),
  c('a word and no option', 'foo'),
  c('double dash then a command', '-- -L'),
  c('a lone dash', '-'),
  c('an empty word', "''"),
  c('unknown option later', '-L --foo'),
  c('unknown short option in a bundle', '-Lq'),
  c('missing argument later', '-A -t'),
  c('missing argument after bundle', '-At'),
  c('-j does not exist', '-L -j'),
  c('--af does not exist', '-L --af'),
  c('--af does not exist (first)', '--af inet -L'),
  c('long option with a value it does not take', '-L --numeric=1'),
  c('short option with = it does not take', '-L -n=1'),
  c('second command', '-L -Z'),
  c('second command -h', '-L -h'),
  c('second command -v', '-L -v'),
  c('second command bundled', '-LZ'),
  c('second command with argument', '-L --start-daemon master'),
  c('second command --set', '-L --set'),
  c('second command after service', `-A -t ${V}:80 -C`),
  c('abbreviated long option', '--lis'),
  c('abbreviated long option later', '-L --num'),
  c('same option twice', '-L -n -n'),
  c('same option twice (long and short)', '-L -n --numeric'),
  c('two service options', `-A -t ${V}:80 -u ${V}:53`),
  c('fwmark and tcp service', `-A -f 1 -t ${V}:80`),
  c('two forwarding methods', `-a -t ${V}:80 -r ${R1} -g -m`),
  c('two forwarding methods -i -g', `-a -t ${V}:80 -r ${R1} -i -g`),
  c('leftover word', `-A -t ${V}:80 extra`),
  c('leftover word before options', `-A extra -t ${V}:80`),
  c('leftover after double dash', '-L -- -n'),
  c('list with -l', '-l'),
  c('list with --list', '--list -n'),
  c('bundled -Ln', '-Ln'),
  c('bundled -lnX', '-lnX'),
  c('--opt=value long form', `-A --tcp-service=${V}:80 --scheduler=rr`, '-Ln'),
  c('attached short argument', `-A -t${V}:80 -srr`, '-Ln'),
  c('short argument after =', `-A -t=${V}:80 -s=rr`, '-Ln'),
  c('-s takes the rest of the bundle', `-At ${V}:80 -sp rr`),
  c('-s from bundle then optional -p', `-A -t ${V}:80 -psrr`),
  c('--sort does nothing', '-L -n --sort --sort'),
  c('-6 untracked twice', '-A -f 1 -6 -6', '-Ln'),
  c('help is not compared: -h exits 0 on stdout only', '-L --help=x'),
];

const serviceAddresses: Case[] = [
  ...[
    '1234',
    '1234:80',
    '010.0x10.1:80',
    '10.1:80',
    '10.1.2:80',
    '0x0a000001:80',
    '4294967295:80',
    '4294967296:80',
    '1.2.3.256:80',
    '1.2.3.4.5:80',
    '[2001:db8::1]:80',
    '[2001:db8::1]',
    '2001:db8::1',
    '[2001:db8::1]:',
    '[1.2.3.4]:80',
    `${V}:http`,
    `${V}:www`,
    `${V}:nosuchservice`,
    `${V}:65535`,
    `${V}:65536`,
    `${V}:-1`,
    `${V}:+80`,
    `${V}:`,
    ':80',
    'localhost:80',
    'localhost:ssh',
    'nosuchhost.invalid:80',
    `${V}:80:90`,
    '[::ffff:192.0.2.1]:80',
    '[::]:80',
    '[fe80::1%lo]:80',
    '2001:db8::1:80',
    '::1',
  ].map((a) => withLists(`-t ${a}`, `-A -t ${a} -p`)),
  withLists('-u with a udp service name', `-A -u ${V}:domain`),
  withLists('--sctp-service', `-A --sctp-service ${V}:5060`),
  withLists('--sctp-service with a name', `-A --sctp-service ${V}:http`),
  withLists('--sctp-service IPv6', `-A --sctp-service [${V6}]:5060 -s rr`),
  withLists('-u IPv6', `-A -u [${V6}]:53`),
  withLists('-t IPv6 port 0 persistent', `-A -t ${V6} -p 100`),
  ...['0', '1', '4294967295', '4294967296', '-1', 'abc', '0x10', ' 5', '+5', '', '2147483648', '3000000000'].map((m) =>
    withLists(`-f '${m}'`, { args: ['-A', '-f', m] }),
  ),
  withLists('-f with -6', '-A -f 7 -6 -s rr'),
  c('-6 before -f', '-A -6 -f 7'),
  c('-6 without -f', `-A -t ${V}:80 -6`),
  withLists('-6 on -D', '-A -f 7 -6', '-D -f 7 -6'),
];

const serviceOptions: Case[] = [
  withLists('default scheduler wlc', `-A -t ${V}:80`),
  ...['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'].map((s) =>
    withLists(`scheduler ${s}`, `-A -t ${V}:80 -s ${s}`),
  ),
  withLists('unknown scheduler', `-A -t ${V}:80 -s nosuch`),
  withLists('scheduler name cut to 15 characters', `-A -t ${V}:80 -s rrrrrrrrrrrrrrrrrrrr`),
  withLists('empty scheduler means wlc', { args: ['-A', '-t', `${V}:80`, '-s', ''] }),
  withLists('scheduler none', `-A -t ${V}:80 -s none`),
  withLists('-p without value', `-A -t ${V}:80 -p`),
  withLists('-p attached', `-A -t ${V}:80 -p60`),
  withLists('-p separate', `-A -t ${V}:80 -p 60`),
  withLists('-p then option', `-A -t ${V}:80 -p -s rr`),
  withLists('--persistent=', `-A -t ${V}:80 --persistent=`),
  withLists('--persistent=600', `-A -t ${V}:80 --persistent=600`),
  withLists('--persistent 600', `-A -t ${V}:80 --persistent 600`),
  withLists('-p 0', `-A -t ${V}:80 -p 0`),
  withLists('-p 1', `-A -t ${V}:80 -p 1`),
  withLists('-p 2678400', `-A -t ${V}:80 -p 2678400`),
  withLists('-p 2678401', `-A -t ${V}:80 -p 2678401`),
  withLists('-p foo', `-A -t ${V}:80 -p foo`),
  withLists('-p last', `-A -t ${V}:80 -p`),
  withLists('-M dotted', `-A -t ${V}:80 -p -M 255.255.255.0`),
  withLists('-M 24 is 0.0.0.24', `-A -t ${V}:80 -p -M 24`),
  withLists('-M host name', `-A -t ${V}:80 -p -M localhost`),
  withLists('-M bad', `-A -t ${V}:80 -p -M 255.255.255.256`),
  withLists('-M without -p', `-A -t ${V}:80 -M 255.255.0.0`),
  withLists('-M IPv6', `-A -t [${V6}]:80 -p -M 64`),
  withLists('-M IPv6 0', `-A -t [${V6}]:80 -p -M 0`),
  withLists('-M IPv6 129', `-A -t [${V6}]:80 -p -M 129`),
  withLists('-M IPv6 atoi', `-A -t [${V6}]:80 -p -M 48abc`),
  withLists('-M before IPv6 -t', `-A -M 64 -t [${V6}]:80 -p`),
  withLists('-M IPv6 fwmark', '-A -f 3 -6 -p -M 96'),
  withLists('-M before -6', '-A -f 3 -M 96 -6 -p'),
  withLists('--pe sip', `-A -u ${V}:5060 -p --pe sip`),
  withLists('--pe without -p', `-A -u ${V}:5060 --pe sip`),
  withLists('--pe unknown', `-A -u ${V}:5060 -p --pe nosuch`),
  withLists('--pe 16 characters', `-A -u ${V}:5060 -p --pe abcdefghijklmnop`),
  withLists('--pe 17 characters', `-A -u ${V}:5060 -p --pe abcdefghijklmnopq`),
  withLists('-o UDP', `-A -u ${V}:53 -o`),
  withLists('-o TCP', `-A -t ${V}:80 -o`),
  withLists('-o fwmark', '-A -f 9 -o'),
  withLists('-o persistent UDP', `-A -u ${V}:53 -o -p 30`),
  withLists('zero port not persistent', `-A -t ${V}:0`),
  withLists('zero port persistent', `-A -t ${V}:0 -p`),
  withLists('no port not persistent', `-A -t ${V}`),
  withLists('-b flag-1', `-A -t ${V}:80 -b flag-1`),
  withLists('-b all flags', `-A -t ${V}:80 -s rr -b flag-1,flag-2,flag-3`),
  withLists('-b sh flags', `-A -t ${V}:80 -s sh -b sh-fallback,sh-port`),
  withLists('-b sh flag-3 shows ()', `-A -t ${V}:80 -s sh -b flag-3`),
  withLists('-b sh with flag-1', `-A -t ${V}:80 -s sh -b flag-1`),
  withLists('-b mh flags', `-A -t ${V}:80 -s mh -b mh-fallback,mh-port`),
  withLists('-b mh flags and flag-3', `-A -t ${V}:80 -s mh -b mh-port,flag-3`),
  withLists('-b sh flag with rr', `-A -t ${V}:80 -s rr -b sh-port`),
  withLists('-b sh flag with default scheduler', `-A -t ${V}:80 -b sh-port`),
  withLists('-b before -s', `-A -t ${V}:80 -b sh-port -s sh`),
  withLists('-b bogus', `-A -t ${V}:80 -b bogus`),
  withLists('-b empty item', `-A -t ${V}:80 -b flag-1,,flag-2`),
  withLists('-b empty', { args: ['-A', '-t', `${V}:80`, '-b', ''] }),
  withLists('-b comma', `-A -t ${V}:80 -b ,`),
  withLists('-b on delete', `-D -t ${V}:80 -b bogus`),
  withLists('-b on list', '-L -b flag-1'),
  withLists('every service option', `-A -u ${V}:5060 -s mh -p 3600 -M 255.255.255.0 --pe sip -o -b mh-fallback`),
  withLists('add twice', `-A -t ${V}:80`, `-A -t ${V}:80`),
  withLists('edit resets to defaults', `-A -u ${V}:53 -s rr -p 100 -o -b flag-1`, `-E -u ${V}:53 -p 600`),
  withLists('edit missing service', `-E -t ${V}:80 -s rr`),
  withLists('edit unknown scheduler', `-A -t ${V}:80`, `-E -t ${V}:80 -s nosuch`),
  withLists('edit persistent to plain', `-A -t ${V}:80 -p`, `-E -t ${V}:80`),
  withLists('edit zero port', `-A -t ${V}:0 -p`, `-E -t ${V}:0`),
  withLists('delete', `-A -t ${V}:80`, `-D -t ${V}:80`),
  withLists('delete missing', `-D -t ${V}:80`),
  withLists('delete with scheduler', `-D -t ${V}:80 -s rr`),
  withLists('delete fwmark', '-A -f 5', '-D -f 5'),
  withLists('delete needs service', '-D'),
  withLists('add needs service', '-A -s rr'),
  withLists('edit needs service', '-E'),
  withLists('clear', `-A -t ${V}:80`, `-A -u ${V}:53`, '-C'),
  withLists('clear long', `-A -t ${V}:80`, '--clear'),
  withLists('clear with service', `-C -t ${V}:80`),
  withLists('clear with -n', '-C -n'),
  withLists('add with -n', `-A -n -t ${V}:80`),
  withLists('add with -r', `-A -t ${V}:80 -r ${R1}`),
  withLists('add with -w', `-A -t ${V}:80 -w 3`),
  withLists('add with --stats', `-A -t ${V}:80 --stats`),
  withLists('add with --syncid', `-A -t ${V}:80 --syncid 1`),
  withLists('add with tun-type', `-A -t ${V}:80 --tun-type gue`),
];

const servers: Case[] = [
  withThresholds('add server default DR', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1}`),
  withThresholds('DR port forced to service port', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1}:8080`),
  withThresholds('tunnel port forced', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1}:8080 -i`),
  withThresholds('masq keeps port', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1}:8080 -m`),
  withThresholds('masq default port', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -m`),
  withThresholds('-r before -t with -m', `-A -t ${V}:80`, `-a -r ${R1} -m -t ${V}:80`),
  withThresholds('-r before -t port name', `-A -t ${V}:80`, `-a -r ${R1}:http -m -t ${V}:80`),
  withThresholds('-r port by name (tcp)', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1}:https -m`),
  withThresholds('-r port by name (udp)', `-A -u ${V}:53`, `-a -u ${V}:53 -r ${R1}:domain -m`),
  withThresholds('-r port by name (fwmark is tcp)', '-A -f 4', `-a -f 4 -r ${R1}:http -m`),
  withThresholds('fwmark server without port', '-A -f 4', `-a -f 4 -r ${R1}`),
  withThresholds('fwmark server with port DR', '-A -f 4', `-a -f 4 -r ${R1}:99`),
  withThresholds('fwmark IPv6 server', '-A -f 4 -6', `-a -f 4 -6 -r [${R6}]:80 -m`),
  withThresholds('gatewaying long', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} --gatewaying`),
  withThresholds('masquerading long', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1}:81 --masquerading`),
  withThresholds('ipip long', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} --ipip`),
  withThresholds('IPv6 service IPv6 server', `-A -t [${V6}]:80`, `-a -t [${V6}]:80 -r [${R6}]:8080 -m`),
  withThresholds('IPv6 server bare address', `-A -t [${V6}]:80`, `-a -t [${V6}]:80 -r ${R6} -m`),
  withThresholds('IPv4 server under IPv6 service masq', `-A -t [${V6}]:80`, `-a -t [${V6}]:80 -r ${R1} -m`),
  withThresholds('IPv4 server under IPv6 service tunnel', `-A -t [${V6}]:80`, `-a -t [${V6}]:80 -r ${R1} -i`),
  withThresholds('IPv6 server under IPv4 service tunnel', `-A -t ${V}:80`, `-a -t ${V}:80 -r [${R6}]:80 -i`),
  withThresholds('IPv6 server under IPv4 service DR', `-A -t ${V}:80`, `-a -t ${V}:80 -r [${R6}]:80`),
  withThresholds('server to missing service', `-a -t ${V}:80 -r ${R1}`),
  withThresholds('server twice', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1}`, `-a -t ${V}:80 -r ${R1}`),
  withThresholds('server address bad', `-A -t ${V}:80`, `-a -t ${V}:80 -r 300.1.1.1`),
  withThresholds('server address digits only', `-A -t ${V}:80`, `-a -t ${V}:80 -r 1234`),
  withThresholds('server needs -r', `-A -t ${V}:80`, `-a -t ${V}:80 -m`),
  withThresholds('server needs service', `-a -r ${R1}`),
  withThresholds('server not unicast', `-A -t ${V}:80`, `-a -t ${V}:80 -r 224.0.0.1 -m`),
  withThresholds('server broadcast', `-A -t ${V}:80`, `-a -t ${V}:80 -r 255.255.255.255 -m`),
  withThresholds('server localhost', `-A -t ${V}:80`, `-a -t ${V}:80 -r 127.0.0.1:80`),
  ...['0', '1', '65535', '2147483647', '2147483648', '-1', 'abc', "''", ' 7', '+7'].map((w) =>
    withThresholds(`weight ${w}`, `-A -t ${V}:80`, {
      args: ['-a', '-t', `${V}:80`, '-r', R1, '-w', w === "''" ? '' : w],
    }),
  ),
  withThresholds('-x and -y', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -x 100 -y 50`),
  withThresholds('-y without -x is ERANGE', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -y 5`),
  withThresholds('-y above -x', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -x 5 -y 6`),
  withThresholds('-x only', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -x 2147483647`),
  withThresholds('-x too big', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -x 2147483648`),
  withThresholds('-y bad', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -y x`),
  withThresholds(
    'long threshold options',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1} --u-threshold 9 --l-threshold 3 --weight 4`,
  ),
  withThresholds('tun-type gue', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type gue --tun-port 6080`),
  withThresholds(
    'tun-type gue csum',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1} -i --tun-type gue --tun-port 6080 --tun-csum`,
  ),
  withThresholds(
    'tun-type gue remcsum',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1} -i --tun-type gue --tun-port 6080 --tun-remcsum`,
  ),
  withThresholds(
    'tun-type gue nocsum',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1} -i --tun-type gue --tun-port 6080 --tun-nocsum`,
  ),
  withThresholds('tun-type gue without port', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type gue`),
  withThresholds(
    'tun-type gue two csum options',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1} -i --tun-type gue --tun-port 1 --tun-csum --tun-remcsum`,
  ),
  withThresholds('tun-type gre', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type gre`),
  withThresholds('tun-type gre csum', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type gre --tun-csum`),
  withThresholds('tun-type gre remcsum', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type gre --tun-remcsum`),
  withThresholds('tun-type gre port', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type gre --tun-port 5`),
  withThresholds('tun-type ipip', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type ipip`),
  withThresholds('ipip with csum', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-csum`),
  withThresholds('tun-type bogus', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type vxlan`),
  withThresholds('tun-port 0', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type gue --tun-port 0`),
  withThresholds('tun-port 65536', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -i --tun-type gue --tun-port 65536`),
  withThresholds('tunnel options with masq', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} -m --tun-type gre`),
  withThresholds('tunnel options with DR', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1} --tun-csum`),
  withThresholds('tunnel options on delete', `-A -t ${V}:80`, `-d -t ${V}:80 -r ${R1} --tun-type gre`),
  withThresholds(
    'edit server resets to defaults',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1}:8080 -m -w 5 -x 10 -y 2`,
    `-e -t ${V}:80 -r ${R1}:8080`,
  ),
  withThresholds(
    'edit server masq to DR keeps entry',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1}:80 -m -w 5`,
    `-e -t ${V}:80 -r ${R1} -w 7`,
  ),
  withThresholds('edit server missing', `-A -t ${V}:80`, `-e -t ${V}:80 -r ${R1}`),
  withThresholds('edit server missing service', `-e -t ${V}:80 -r ${R1}`),
  withThresholds(
    'edit server to tunnel gue',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1}`,
    `-e -t ${V}:80 -r ${R1} -i --tun-type gue --tun-port 9 --tun-csum`,
  ),
  withThresholds('delete server', `-A -t ${V}:80`, `-a -t ${V}:80 -r ${R1}`, `-d -t ${V}:80 -r ${R1}`),
  withThresholds(
    'delete server keeps given port',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1}`,
    `-d -t ${V}:80 -r ${R1}:8080`,
  ),
  withThresholds(
    'delete server masq port',
    `-A -t ${V}:80`,
    `-a -t ${V}:80 -r ${R1}:8080 -m`,
    `-d -t ${V}:80 -r ${R1}:8080`,
  ),
  withThresholds('delete server missing', `-A -t ${V}:80`, `-d -t ${V}:80 -r ${R1}`),
  withThresholds('delete server missing service', `-d -t ${V}:80 -r ${R1}`),
  withThresholds('delete server with weight', `-A -t ${V}:80`, `-d -t ${V}:80 -r ${R1} -w 1`),
  withThresholds('delete server with -m', `-A -t ${V}:80`, `-d -t ${V}:80 -r ${R1} -m`),
  withThresholds('server options on service', `-A -t ${V}:80 -x 5`),
];

const zeroSetDaemon: Case[] = [
  withLists('zero all', `-A -t ${V}:80`, '-Z'),
  withLists('zero service', `-A -t ${V}:80`, `-Z -t ${V}:80`),
  withLists('zero missing service', `-Z -t ${V}:80`),
  withLists('zero any address', '-Z -t 0.0.0.0:0'),
  withLists('zero IPv6 any', '-Z -t [::]:0'),
  withLists('zero IPv6 ::1 port 0', '-Z -t [::1]:0'),
  withLists('zero fwmark missing', '-Z -f 3'),
  withLists('zero with -n', '-Z -n'),
  withLists('zero long', '--zero'),
  c('set timeouts', '--set 100 20 30', '-L --timeout'),
  c('set keeps zeros', '--set 0 0 0', '-L --timeout', '--set 1 0 0', '-L --timeout'),
  c('set max', '--set 2678400 2678400 2678400', '-L --timeout'),
  c('set too big', '--set 2678401 1 1'),
  c('set negative', '--set 1 -1 1'),
  c('set two values', '--set 1 2'),
  c('set no values', '--set'),
  c('set four values', '--set 1 2 3 4'),
  c('set bad value', '--set 1 x 3'),
  c('set with -n', '--set 1 2 3 -n'),
  c('set values after options', '--set 10 -- 20 30', '-L --timeout'),
  c('timeout default', '-L --timeout'),
  c('timeout with -n', '-L -n --timeout'),
  c('timeout with --stats', '-L --timeout --stats'),
  c('timeout with --persistent-conn', '-L --timeout --persistent-conn'),
  c('timeout and daemon', '-L --timeout --daemon'),
  c('daemon none', '-L --daemon'),
  c('daemon with --rate', '-L --daemon --rate'),
  c('daemon with --persistent-conn', '-L --daemon --persistent-conn'),
  c('connection with --thresholds', '-L -c --thresholds'),
  c('connection with service', `-L -t ${V}:80 -c`),
  c('timeout with service', `-L -t ${V}:80 --timeout`),
  c('start daemon bogus state', '--start-daemon primary'),
  c('stop daemon bogus state', '--stop-daemon primary'),
  c('start daemon missing argument', '--start-daemon'),
  c('start daemon =master no eth0', '--start-daemon=master'),
  c('stop daemon not running', '--stop-daemon master'),
  c('stop backup not running', '--stop-daemon backup'),
  c('daemon with service', `--start-daemon master -t ${V}:80`),
  c('stop daemon with interface', '--stop-daemon master --mcast-interface sync0'),
  c('stop daemon with syncid', '--stop-daemon master --syncid 3'),
  ...['256', '-1', 'x'].map((v) => c(`syncid ${v}`, `--start-daemon master --syncid ${v}`)),
  ...['0', '65536', 'x'].map((v) => c(`mcast-port ${v}`, `--start-daemon master --mcast-port ${v}`)),
  ...['0', '256'].map((v) => c(`mcast-ttl ${v}`, `--start-daemon master --mcast-ttl ${v}`)),
  ...['0', '65508'].map((v) => c(`sync-maxlen ${v}`, `--start-daemon master --sync-maxlen ${v}`)),
  ...['192.0.2.1', '239.1', 'x', '224.0.0.256'].map((v) =>
    c(`mcast-group ${v}`, `--start-daemon master --mcast-group ${v}`),
  ),
  ...['2001:db8::1', 'ff02::1::2', 'ff02::zz'].map((v) =>
    c(`mcast-group ${v}`, `--start-daemon master --mcast-group ${v}`),
  ),
  c('mcast-interface cut', '--start-daemon master --mcast-interface abcdefghijklmnopqrstu'),
];

const sync0 = [
  ['ip', 'link', 'add', 'sync0', 'type', 'dummy'],
  ['ip', 'link', 'set', 'sync0', 'multicast', 'on', 'up'],
  ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'sync0'],
];
const eth0 = [
  ['ip', 'link', 'add', 'eth0', 'type', 'dummy'],
  ['ip', 'link', 'set', 'eth0', 'multicast', 'on', 'up'],
];
const daemons: Case[] = [
  {
    ...c(
      'start master',
      '--start-daemon master --mcast-interface sync0',
      '-L --daemon',
      '--start-daemon master --mcast-interface sync0',
      '-L --daemon',
    ),
    setup: sync0,
  },
  {
    ...c('start master default eth0', '--start-daemon master', '-L --daemon', '--stop-daemon master', '-L --daemon'),
    setup: eth0,
  },
  {
    ...c(
      'master and backup with every option',
      '--start-daemon master --mcast-interface sync0 --syncid 7 --sync-maxlen 1000 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 5',
      '--start-daemon backup --mcast-interface sync0 --syncid 255 --sync-maxlen 1200 --mcast-group ff02::1:3 --mcast-port 9001 --mcast-ttl 2',
      '-L --daemon',
      '-L -n --daemon',
      '--stop-daemon backup',
      '-L --daemon',
      '--stop-daemon master',
      '-L --daemon',
    ),
    setup: sync0,
  },
  {
    ...c(
      'backup then stop twice',
      '--start-daemon backup --mcast-interface sync0 --syncid 3',
      '-L --daemon',
      '--stop-daemon backup',
      '--stop-daemon backup',
    ),
    setup: sync0,
  },
  { ...c('daemon on unknown interface', '--start-daemon backup --mcast-interface nosuch0'), setup: sync0 },
  { ...c('daemon options on list', '-L --mcast-group 239.1.1.1'), setup: sync0 },
  {
    ...c(
      'daemon mcast group IPv6 on IPv4 daemon',
      '--start-daemon master --mcast-interface sync0 --mcast-group ff05::5',
      '-L --daemon',
    ),
    setup: sync0,
  },
  {
    ...c('daemon syncid on list', '--start-daemon master --mcast-interface sync0 --syncid 9', '-L --daemon --syncid 9'),
    setup: sync0,
  },
  {
    ...c('start daemon long options with =', '--start-daemon=backup --mcast-interface=sync0 --syncid=4', '-L --daemon'),
    setup: sync0,
  },
];

/** A table with a bit of everything, for the listing modes. */
const TABLE = [
  `-A -t ${V}:80 -s wlc`,
  `-a -t ${V}:80 -r ${R1}:8080 -m -w 5`,
  `-a -t ${V}:80 -r ${R2}:8080 -m -w 0 -x 100 -y 10`,
  `-A -u ${V}:53 -s rr -p 360 -M 255.255.255.0 -o`,
  `-a -u ${V}:53 -r 198.51.100.3:53 -g -w 0`,
  `-A --sctp-service [${V6}]:5060 -s mh -p 3600 -M 64 --pe sip -b mh-fallback,mh-port`,
  `-a --sctp-service [${V6}]:5060 -r ${R1}:5060 -i -w 3 --tun-type ipip`,
  `-a --sctp-service [${V6}]:5060 -r [${R6}]:5060 -m -w 1`,
  '-A -f 5 -s sh -p 300 -b sh-fallback,sh-port',
  `-a -f 5 -r 198.51.100.8:0 -i -w 2 --tun-type gre --tun-nocsum`,
  `-a -f 5 -r 198.51.100.9:0 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum`,
  '-A -f 7 -6 -s rr',
  '-A -f 3000000000 -s rr',
  `-A -t 127.0.0.1:80 -s rr`,
  `-a -t 127.0.0.1:80 -r 127.0.0.1:80`,
  `-A -u [::1]:53 -s rr`,
  `-a -u [::1]:53 -r [::1]:53 -m`,
  `-A -t ${V}:443 --pe sip -s rr`,
  `-A -t ${V}:0 -p 60 -s lc`,
];
const LIST_MODES = [
  '',
  '-L',
  '-Ln',
  '-l -n',
  '-L --numeric',
  '-Ln --stats',
  '-Ln --stats --exact',
  '-Ln --rate',
  '-Ln --rate -X',
  '-Ln --thresholds',
  '-Ln --persistent-conn',
  '-Ln --tun-info',
  '-Ln --nosort',
  '-Ln --exact',
  '-Ln --stats --rate',
  '-Ln --thresholds --persistent-conn',
  '-Ln --persistent-conn --tun-info',
  '-L --stats',
  '-L --tun-info',
  '-S',
  '-Sn',
  '--save',
  '--save --numeric',
  '-S --nosort',
  '-S --exact',
  `-Ln -t ${V}:80`,
  `-L -t ${V}:80`,
  `-Ln -t ${V}:80 --stats`,
  `-Ln -t ${V}:80 --thresholds`,
  `-Ln -u ${V}:53 --persistent-conn`,
  '-Ln -f 5 --tun-info',
  '-Ln -f 7 -6',
  '-Ln -f 7',
  `-Ln -t ${V}:81`,
  `-L -n --sctp-service [${V6}]:5060 --rate`,
  '-L -f 3000000000',
  '-L -t 127.0.0.1:80',
  '-L -u [::1]:domain',
  '-L -n -c --stats',
];
const listings: Case[] = [
  c('listing modes on an empty table', ...LIST_MODES),
  c('listing modes on a mixed table', ...TABLE, ...LIST_MODES),
  c(
    'save restores into the same table',
    ...TABLE,
    { args: ['-C'] },
    { args: ['-R'], stdin: `${TABLE.join('\n')}\n` },
    '-Ln',
  ),
];

const restores: Case[] = [
  c('restore nothing', { args: ['-R'], stdin: '' }),
  c('restore blank lines', { args: ['-R'], stdin: '\n\n  \n\t\n' }, '-Ln'),
  c('restore simple', { args: ['-R'], stdin: `-A -t ${V}:80\n-a -t ${V}:80 -r ${R1}\n` }, '-Ln'),
  c('restore without final newline', { args: ['-R'], stdin: `-A -t ${V}:80\n-a -t ${V}:80 -r ${R1}` }, '-Ln'),
  c('restore with CRLF', { args: ['-R'], stdin: `-A -t ${V}:80\r\n-a -t ${V}:80 -r ${R1}\r\n` }, '-Ln'),
  c(
    'restore drops ipvsadm words',
    { args: ['-R'], stdin: `ipvsadm -A -t ${V}:80\n-a ipvsadm -t ${V}:80 -r ${R1} ipvsadm\nipvsadm\n` },
    '-Ln',
  ),
  c('restore comment line aborts', { args: ['-R'], stdin: `-A -t ${V}:80\n# comment\n-A -t ${V}:81\n` }, '-Ln'),
  c('restore trailing comment aborts', { args: ['-R'], stdin: `-A -t ${V}:80 # web\n-A -t ${V}:81\n` }, '-Ln'),
  c('restore kernel error continues', { args: ['-R'], stdin: `-A -t ${V}:80\n-A -t ${V}:80\n-A -t ${V}:81\n` }, '-Ln'),
  c('restore kernel error on last line', { args: ['-R'], stdin: `-A -t ${V}:80\n-A -t ${V}:80\n` }, '-Ln'),
  c(
    'restore validation error aborts',
    { args: ['-R'], stdin: `-A -t ${V}:80\n-A -t ${V}:81 -w 1\n-A -t ${V}:82\n` },
    '-Ln',
  ),
  c('restore popt error line', { args: ['-R'], stdin: `-A -t ${V}:80 --foo\n-A -t ${V}:81\n` }, '-Ln'),
  c('restore popt error last line', { args: ['-R'], stdin: `-A -t ${V}:81\n-L --foo\n` }, '-Ln'),
  c('restore with a restore line', { args: ['-R'], stdin: `-A -t ${V}:80\n-R\n-A -t ${V}:81\n` }, '-Ln'),
  c('restore with a list line', { args: ['-R'], stdin: `-A -t ${V}:80\n-Ln\n-A -t ${V}:81\n` }, '-Ln'),
  c(
    'restore with a failing list line',
    { args: ['-R'], stdin: `-A -t ${V}:80\n-Ln -t ${V}:99\n-A -t ${V}:81\n` },
    '-Ln',
  ),
  c('restore with a save line', { args: ['-R'], stdin: `-A -t ${V}:80\n-Sn\n` }),
  c('restore quotes are kept', { args: ['-R'], stdin: `-A -t ${V}:80 -s "rr"\n` }, '-Ln'),
  c('restore a line without command', { args: ['-R'], stdin: `-t ${V}:80\n-A -t ${V}:81\n` }, '-Ln'),
  c('restore -n', { args: ['-R', '-n'], stdin: `-A -t ${V}:80\n` }),
  c('restore with extra argument', { args: ['-R', 'x'], stdin: `-A -t ${V}:80\n` }),
  c('restore long', { args: ['--restore'], stdin: `-A -t ${V}:80\n-E -t ${V}:80 -s rr\n` }, '-Ln'),
  c(
    'restore timeouts and daemons lines',
    { args: ['-R'], stdin: '--set 10 20 30\n-L --timeout\n--stop-daemon master\n' },
    '-L --timeout',
  ),
  c('restore everything of the mixed table', { args: ['-R'], stdin: `${TABLE.join('\n')}\n` }, '-Ln', '-S'),
];

// --- generated ---------------------------------------------------------------

/** A small deterministic PRNG, so a failing generated case is the same on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rnd: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Validation order: options given in shuffled orders, several of them wrong at once. */
function validationOrder(count: number): Case[] {
  const rnd = prng(1031);
  const pool = [
    ['-t', `${V}:80`],
    ['-u', `${V}:53`],
    ['-f', '0'],
    ['-s', 'rr'],
    ['-p', '0'],
    ['-M', '24'],
    ['-r', R1],
    ['-m'],
    ['-g'],
    ['-w', '-1'],
    ['-x', 'x'],
    ['-y', '3'],
    ['-n'],
    ['-c'],
    ['--stats'],
    ['--rate'],
    ['--timeout'],
    ['--daemon'],
    ['--syncid', '300'],
    ['-o'],
    ['--pe', 'sip'],
    ['-b', 'sh-port'],
    ['--mcast-port', '0'],
    ['--tun-type', 'gre'],
    ['--tun-csum'],
    ['--tun-info'],
    ['--nosort'],
    ['-X'],
  ];
  const commands = [
    '-A',
    '-E',
    '-D',
    '-C',
    '-L',
    '-a',
    '-e',
    '-d',
    '-Z',
    '-S',
    '--start-daemon master',
    '--stop-daemon backup',
    '--set 1 2 3',
  ];
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const cmd = commands[Math.floor(rnd() * commands.length)]!;
    const opts = shuffle(pool, rnd).slice(0, 1 + Math.floor(rnd() * 5));
    const args = [...words(cmd), ...opts.flat()];
    out.push({ name: `validation order #${i}: ${args.join(' ')}`, steps: [{ args }] });
  }
  return out;
}

/** Random sequences of valid and invalid changes over a few services and servers. */
function sequences(count: number, length: number): Case[] {
  const rnd = prng(2024);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const services = [`-t ${V}:80`, `-u ${V}:53`, `-t [${V6}]:443`, '-f 11', '-f 12 -6', `--sctp-service ${V}:9`];
  const reals = [R1, `${R2}:8080`, '198.51.100.77', `[${R6}]:80`, `[${R6}]`];
  const scheds = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh', 'nq', 'sed'];
  const fwds = ['-g', '-m', '-i', ''];
  const ops = [
    () => `-A ${pick(services)} -s ${pick(scheds)}${rnd() < 0.3 ? ` -p ${Math.floor(rnd() * 1000)}` : ''}`,
    () => `-E ${pick(services)} -s ${pick(scheds)}${rnd() < 0.3 ? ' -p' : ''}`,
    () => `-D ${pick(services)}`,
    () => `-a ${pick(services)} -r ${pick(reals)} ${pick(fwds)} -w ${Math.floor(rnd() * 10)}`,
    () =>
      `-e ${pick(services)} -r ${pick(reals)} ${pick(fwds)} -w ${Math.floor(rnd() * 10)}${rnd() < 0.3 ? ' -x 20 -y 10' : ''}`,
    () => `-d ${pick(services)} -r ${pick(reals)}`,
    () => `-Z${rnd() < 0.5 ? ` ${pick(services)}` : ''}`,
    () => pick(['-Ln', '-Ln --thresholds', '-S -n', '-Ln --persistent-conn', '-Ln --tun-info']),
  ];
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const lines = Array.from({ length }, () => pick(ops)());
    out.push(c(`random sequence #${i}`, ...lines, '-Ln', '-Sn'));
  }
  return out;
}

/** Sort order with 32-bit wrap-around: services and servers inserted in shuffled order. */
function sorting(count: number): Case[] {
  const rnd = prng(77);
  const addrs = [
    '192.168.1.1',
    '10.0.0.2',
    '10.0.0.1',
    '127.0.0.1',
    '200.1.1.1',
    '1.1.1.1',
    '255.255.255.254',
    '128.0.0.1',
    '127.255.255.255',
    '0.0.0.1',
  ];
  const out: Case[] = [
    c(
      'sort example of the spec',
      `-A -t ${V}:80`,
      ...['192.168.1.1', '10.0.0.2', '10.0.0.1', '127.0.0.1', '200.1.1.1'].map((a) => `-a -t ${V}:80 -r ${a} -m`),
      '-Ln',
      '-Ln --nosort',
      '-Sn',
    ),
  ];
  for (let i = 0; i < count; i++) {
    const svcs = shuffle(addrs, rnd)
      .slice(0, 6)
      .map((a) => `-A -${rnd() < 0.5 ? 't' : 'u'} ${a}:${Math.floor(rnd() * 3) * 1000 + 80}`);
    const marks = shuffle(['1', '2147483647', '2147483648', '3000000000', '4294967295', '5'], rnd)
      .slice(0, 3)
      .map((m) => `-A -f ${m}${rnd() < 0.3 ? ' -6' : ''}`);
    const v6 = shuffle(['2001:db8::1', 'ff00::1', '::1', '8000::1', '2001:db8:8000::1'], rnd)
      .slice(0, 3)
      .map((a) => `-A -t [${a}]:80`);
    const dests = shuffle(addrs, rnd)
      .slice(0, 7)
      .map((a) => `-a -t ${V}:80 -r ${a}:${Math.floor(rnd() * 2) + 1} -m`);
    const dests6 = shuffle(['2001:db8::5', 'fe80::1', '8000::2', '::2'], rnd)
      .slice(0, 3)
      .map((a) => `-a -t ${V}:80 -r [${a}]:80 -i`);
    out.push(
      c(
        `sort order #${i}`,
        `-A -t ${V}:80`,
        ...shuffle([...svcs, ...marks, ...v6], rnd),
        ...shuffle([...dests, ...dests6], rnd),
        '-Ln',
        '-Ln --nosort',
        '-Sn',
        '-S',
      ),
    );
  }
  return out;
}

export const cases: Case[] = [
  ...grammar,
  ...serviceAddresses,
  ...serviceOptions,
  ...servers,
  ...zeroSetDaemon,
  ...daemons,
  ...listings,
  ...restores,
  ...validationOrder(60),
  ...sequences(25, 12),
  ...sorting(12),
];
