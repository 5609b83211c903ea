// Decoding of netlink attributes: lenient about attributes this build does not
// know (newer kernels add them), strict about the ones it knows: a known
// attribute with the wrong length is an error that names it.
#pragma once

#include <arpa/inet.h>
#include <linux/ip_vs.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "error.h"

namespace ipvs {

// Inline accessors: the decoders call these once per attribute of every dump
// message, and libnl's own (nla_len, nla_get_u64, nla_next...) are out-of-line
// calls that cost a quarter of a snapshot's instructions.
inline int AttrLen(const nlattr* a) { return a->nla_len - NLA_HDRLEN; }
inline void* AttrData(const nlattr* a) { return reinterpret_cast<char*>(const_cast<nlattr*>(a)) + NLA_HDRLEN; }
template <typename T>
inline T AttrGet(const nlattr* a) {
  T v;
  memcpy(&v, AttrData(a), sizeof v);
  return v;
}
inline uint8_t U8(const nlattr* a) { return AttrGet<uint8_t>(a); }
inline uint16_t U16(const nlattr* a) { return AttrGet<uint16_t>(a); }
inline uint32_t U32(const nlattr* a) { return AttrGet<uint32_t>(a); }
inline uint64_t U64(const nlattr* a) { return AttrGet<uint64_t>(a); }

enum class AttrKind { kU8, kU16, kU32, kU64, kAddr, kString, kNested, kFlags, kIgnored };

struct AttrRule {
  const char* name;  // nullptr: not a known attribute
  AttrKind kind;
  size_t maxString = 0;  // for kString: the longest accepted payload, NUL included
};

// The payload length of each kind (indexed by AttrKind); 0: any (a string,
// a nest), checked apart. A table, not a switch: the decoders call this for
// every attribute of every dump message, and the switch's indirect jump,
// taken a different way for each attribute, mispredicted most of the time.
constexpr uint8_t kAttrLength[] = {1, 2, 4, 8, 16, 0, 0, 8, 0};
static_assert(sizeof kAttrLength == static_cast<size_t>(AttrKind::kIgnored) + 1, "one length per AttrKind");

[[noreturn]] inline void ThrowAttrLength(const AttrRule& rule, size_t got, size_t want) {
  throw KernelError(EBADMSG, std::string("the kernel sent ") + rule.name + " with " + std::to_string(got) +
                                 " bytes, expected " + std::to_string(want));
}

[[noreturn]] inline void ThrowAttrString(const AttrRule& rule, size_t got) {
  throw KernelError(EBADMSG, std::string("the kernel sent ") + rule.name + " as " + std::to_string(got) +
                                 " bytes, not a string of at most " + std::to_string(rule.maxString - 1) +
                                 " characters");
}

[[noreturn]] inline void ThrowAttrCut(int maxType, const AttrRule* rules, const nlattr* attr, int left) {
  int type = attr->nla_type & NLA_TYPE_MASK;
  std::string what = type <= maxType && rules[type].name != nullptr ? std::string(rules[type].name)
                                                                    : "an attribute of type " + std::to_string(type);
  throw KernelError(EBADMSG, "the kernel sent " + what + " cut short: " + std::to_string(attr->nla_len) +
                                 " bytes announced, " + std::to_string(left) + " there");
}

// Calls f(type, attr) for each known attribute at head/len, in order,
// after checking its length against its rule. Throws KernelError (EBADMSG)
// naming the attribute when a known one has a bad length, or when one is cut
// short (announces more bytes than are left, or fewer than its header);
// unknown ones (newer kernels) and kIgnored ones are skipped, and fewer than
// a header's bytes at the end are padding.
template <typename F>
inline void ForEachAttr(int maxType, const AttrRule* rules, nlattr* head, int len, F&& f) {
  nlattr* attr = head;
  for (; len >= static_cast<int>(sizeof(nlattr));
       len -= NLA_ALIGN(attr->nla_len),
       attr = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(attr) + NLA_ALIGN(attr->nla_len))) {
    if (attr->nla_len < sizeof(nlattr) || static_cast<int>(attr->nla_len) > len)
      ThrowAttrCut(maxType, rules, attr, len);
    int type = attr->nla_type & NLA_TYPE_MASK;
    if (type > maxType || rules[type].name == nullptr) continue;
    const AttrRule& rule = rules[type];
    size_t got = static_cast<size_t>(AttrLen(attr));
    size_t want = kAttrLength[static_cast<int>(rule.kind)];
    if (want != 0) {
      if (got != want) ThrowAttrLength(rule, got, want);
    } else if (rule.kind == AttrKind::kString) {
      if (got == 0 || got > rule.maxString || memchr(AttrData(attr), 0, got) == nullptr) ThrowAttrString(rule, got);
    } else if (rule.kind == AttrKind::kIgnored) {
      continue;
    }
    f(type, attr);
  }
}

// Fills tb[0..maxType] from the attributes at head/len (see ForEachAttr).
inline void ParseAttrs(nlattr** tb, int maxType, const AttrRule* rules, nlattr* head, int len) {
  memset(tb, 0, (maxType + 1) * sizeof *tb);
  ForEachAttr(maxType, rules, head, len, [tb](int type, nlattr* attr) { tb[type] = attr; });
}

// The top-level attributes of a generic netlink message (IPVS has no user header).
// (libnl's genlmsg_attrdata and genlmsg_attrlen are four out-of-line calls
// per message; this is their arithmetic.)
inline void ParseGenl(nlattr** tb, int maxType, const AttrRule* rules, const nlmsghdr* hdr) {
  constexpr int kHeaders = NLMSG_HDRLEN + GENL_HDRLEN;
  if (hdr->nlmsg_len < static_cast<uint32_t>(kHeaders))
    throw KernelError(EBADMSG, "the kernel sent a generic netlink message of " + std::to_string(hdr->nlmsg_len) +
                                   " bytes, shorter than its headers");
  auto* head = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(const_cast<nlmsghdr*>(hdr)) + kHeaders);
  ParseAttrs(tb, maxType, rules, head, static_cast<int>(hdr->nlmsg_len) - kHeaders);
}

inline void ParseNested(nlattr** tb, int maxType, const AttrRule* rules, nlattr* nest) {
  ParseAttrs(tb, maxType, rules, static_cast<nlattr*>(AttrData(nest)), AttrLen(nest));
}

// Throws when a required attribute is missing from a kernel message.
inline nlattr* Require(nlattr** tb, int type, const AttrRule* rules) {
  if (tb[type] == nullptr) throw KernelError(EBADMSG, std::string("the kernel's reply lacks ") + rules[type].name);
  return tb[type];
}

// The top-level attributes of every IPVS command.
inline const AttrRule kCmdRules[IPVS_CMD_ATTR_MAX + 1] = {
    {},
    {"IPVS_CMD_ATTR_SERVICE", AttrKind::kNested},
    {"IPVS_CMD_ATTR_DEST", AttrKind::kNested},
    {"IPVS_CMD_ATTR_DAEMON", AttrKind::kNested},
    {"IPVS_CMD_ATTR_TIMEOUT_TCP", AttrKind::kU32},
    {"IPVS_CMD_ATTR_TIMEOUT_TCP_FIN", AttrKind::kU32},
    {"IPVS_CMD_ATTR_TIMEOUT_UDP", AttrKind::kU32},
};

// The settings tables (IPVS_DEST_SETTINGS, IPVS_SVC_SETTINGS): the kind of
// attribute a C type travels as, and its host or network order on the wire.
template <typename T>
constexpr AttrKind KindOf() {
  return sizeof(T) == 1 ? AttrKind::kU8 : sizeof(T) == 2 ? AttrKind::kU16 : AttrKind::kU32;
}

template <typename T>
T Order(T v, bool net) {
  if (!net || sizeof(T) == 1) return v;
  return sizeof(T) == 2 ? static_cast<T>(htons(static_cast<uint16_t>(v)))
                        : static_cast<T>(htonl(static_cast<uint32_t>(v)));
}
constexpr bool Host = false, Net = true;

template <typename T>
T DecodeSetting(nlattr** tb, int attr, const AttrRule* rules, bool net, bool required) {
  nlattr* a = required ? Require(tb, attr, rules) : tb[attr];
  if (a == nullptr) return 0;
  return Order(static_cast<T>(AttrGet<std::make_unsigned_t<T>>(a)), net);
}
constexpr bool Required = true, Optional = false;

inline std::string GetString(nlattr* attr) { return std::string(static_cast<const char*>(AttrData(attr))); }

// Message building: libnl reports only "no room", which cannot happen for
// the fixed-size IPVS requests unless memory ran out.
inline void Check(int err) {
  if (err < 0) throw KernelError(ENOMEM, "building a netlink request");
}

inline nlattr* NestStart(nl_msg* msg, int type) {
  nlattr* nest = nla_nest_start(msg, type);
  if (nest == nullptr) throw KernelError(ENOMEM, "building a netlink request");
  return nest;
}

}  // namespace ipvs
