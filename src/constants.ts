// Kernel constants from <linux/ip_vs.h> and the socket headers. The addon
// exports the same names from the header it was built against, and
// test/constants.test.ts holds the two to each other.
/**
 * The kernel's numbers that the raw client's structures carry (`RawServiceSpec.flags`,
 * `RawDestSpec.fwdMethod`, …), by their names in `<linux/ip_vs.h>` and the socket headers.
 * Exported as `constants`.
 */
export const K = {
  /** IPv4 address family. */
  AF_INET: 2,
  /** IPv6 address family. */
  AF_INET6: 10,
  /** TCP. */
  IPPROTO_TCP: 6,
  /** UDP. */
  IPPROTO_UDP: 17,
  /** SCTP. */
  IPPROTO_SCTP: 132,
  /** Any protocol: persistence templates in the connection table. */
  IPPROTO_IP: 0,
  /** ICMP. */
  IPPROTO_ICMP: 1,
  /** ICMPv6. */
  IPPROTO_ICMPV6: 58,
  /** Service flag: persistent (clients stick to one real server). */
  IP_VS_SVC_F_PERSISTENT: 0x0001,
  /** Service flag: in the kernel's hash table (set by the kernel). */
  IP_VS_SVC_F_HASHED: 0x0002,
  /** Service flag: one-packet scheduling (UDP: each datagram scheduled alone). */
  IP_VS_SVC_F_ONEPACKET: 0x0004,
  /** Service flag: the scheduler's first flag (sh and mh: fallback). */
  IP_VS_SVC_F_SCHED1: 0x0008,
  /** Service flag: the scheduler's second flag (sh, mh: port). */
  IP_VS_SVC_F_SCHED2: 0x0010,
  /** Service flag: the scheduler's third flag. */
  IP_VS_SVC_F_SCHED3: 0x0020,
  /** The forwarding method's bits of a real server's flags. */
  IP_VS_CONN_F_FWD_MASK: 0x0007,
  /** Forwarding: masquerading (NAT). */
  IP_VS_CONN_F_MASQ: 0x0000,
  /** Forwarding: local node. */
  IP_VS_CONN_F_LOCALNODE: 0x0001,
  /** Forwarding: tunnelling. */
  IP_VS_CONN_F_TUNNEL: 0x0002,
  /** Forwarding: direct routing (gatewaying). */
  IP_VS_CONN_F_DROUTE: 0x0003,
  /** Forwarding: cache bypass. */
  IP_VS_CONN_F_BYPASS: 0x0004,
  /** Tunnel type: IP in IP. */
  IP_VS_CONN_F_TUNNEL_TYPE_IPIP: 0,
  /** Tunnel type: Generic UDP Encapsulation. */
  IP_VS_CONN_F_TUNNEL_TYPE_GUE: 1,
  /** Tunnel type: GRE. */
  IP_VS_CONN_F_TUNNEL_TYPE_GRE: 2,
  /** Tunnel encapsulation: no checksum. */
  IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM: 0,
  /** Tunnel encapsulation: checksum. */
  IP_VS_TUNNEL_ENCAP_FLAG_CSUM: 1,
  /** Tunnel encapsulation: remote checksum offload. */
  IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM: 2,
  /** Sync daemon state: none. */
  IP_VS_STATE_NONE: 0,
  /** Sync daemon state: master (sends). */
  IP_VS_STATE_MASTER: 1,
  /** Sync daemon state: backup (receives). */
  IP_VS_STATE_BACKUP: 2,
  /** The longest scheduler name, with its NUL. */
  IP_VS_SCHEDNAME_MAXLEN: 16,
  /** The longest persistence engine name, with its NUL. */
  IP_VS_PENAME_MAXLEN: 16,
  /** The longest interface name, with its NUL. */
  IP_VS_IFNAME_MAXLEN: 16,
  /** The generic netlink family's version. */
  IPVS_GENL_VERSION: 1,
  /** Command: add a service. */
  IPVS_CMD_NEW_SERVICE: 1,
  /** Command: edit a service. */
  IPVS_CMD_SET_SERVICE: 2,
  /** Command: delete a service. */
  IPVS_CMD_DEL_SERVICE: 3,
  /** Command: add a real server. */
  IPVS_CMD_NEW_DEST: 5,
  /** Command: edit a real server. */
  IPVS_CMD_SET_DEST: 6,
  /** Command: delete a real server. */
  IPVS_CMD_DEL_DEST: 7,
} as const;
