// Protocols, as every layer names them: the kernel's number, the library's
// name, the text /proc/net/ip_vs_conn prints, and ipvsadm's spellings (the
// listing's word and the option that names a service of it).
import { K } from '../constants.js';

export const PROTOCOLS = [
  { name: 'tcp', number: K.IPPROTO_TCP, kernel: 'TCP', ipvsadm: 'TCP', option: '-t' },
  { name: 'udp', number: K.IPPROTO_UDP, kernel: 'UDP', ipvsadm: 'UDP', option: '-u' },
  { name: 'sctp', number: K.IPPROTO_SCTP, kernel: 'SCTP', ipvsadm: 'SCTP', option: '--sctp-service' },
  // Only in the connection table: ICMP errors of a connection, and
  // persistence templates (protocol IP).
  { name: 'icmp', number: K.IPPROTO_ICMP, kernel: 'ICMP', ipvsadm: 'ICMP', option: undefined },
  { name: 'icmpv6', number: K.IPPROTO_ICMPV6, kernel: 'ICMPv6', ipvsadm: 'ICMPv6', option: undefined },
  { name: 'ip', number: K.IPPROTO_IP, kernel: 'IP', ipvsadm: 'IP', option: undefined },
] as const;

export type ProtocolEntry = (typeof PROTOCOLS)[number];
/** Every protocol the connection table shows by name. */
export type ProtocolName = ProtocolEntry['name'];
/** The protocols a virtual service can have. */
export type ServiceProtocol = Extract<ProtocolEntry, { option: string }>['name'];

export const SERVICE_PROTOCOLS = PROTOCOLS.filter((p) => p.option !== undefined).map(
  (p) => p.name,
) as ServiceProtocol[];

export const protocolByName = (name: string): ProtocolEntry | undefined => PROTOCOLS.find((p) => p.name === name);
export const protocolByNumber = (n: number): ProtocolEntry | undefined => PROTOCOLS.find((p) => p.number === n);
export const protocolByKernel = (text: string): ProtocolEntry | undefined => PROTOCOLS.find((p) => p.kernel === text);
