/* network_def.h — the persistent definition of a virtual network, as a plain
 * struct that mirrors the subset of libvirt's network XML virtfs supports,
 * plus the pure address arithmetic the bridge driver and the checks share.
 *
 * Supported subset (anything else is rejected with a sentence that names the
 * element and line): <network ipv6='yes|no'>, <name>, <uuid>, <forward
 * mode='nat|route|open|bridge|none' dev='IFACE'> with <nat ipv6='yes|no'>
 * <address start end/><port start end/></nat>, <bridge name stp delay/>,
 * <mtu size/>, <mac address/>, <domain name localOnly/>, <dns enable
 * forwardPlainNames> with <forwarder domain addr/>, <host ip><hostname/>,
 * <txt name value/> and <srv service protocol domain target port priority
 * weight/>, <bandwidth> with <inbound>/<outbound average peak burst/>,
 * <portgroup name default> holding a <bandwidth>, and any number of <ip>
 * of either family (address + netmask or prefix, subnets that do not
 * overlap) each with <dhcp><range start end/><host mac name ip/></dhcp>.
 *
 * Contract:
 *  - network_def_parse() and network_def_format() are pure: no I/O, no
 *    globals. libxml2 is confined to network_xml.c.
 *  - Parsing fills the defaults that make the definition canonical (UUID,
 *    bridge name, bridge MAC, stp on, delay 0), so format(parse(x)) is a
 *    fixed point.
 *  - Default bridge name (when <bridge name> is absent, every mode but
 *    'bridge'): "virbr-" + NAME when NAME is 1..8 characters of [A-Za-z0-9_-];
 *    otherwise "virbr-" + the first 9 hex digits of SHA-256(NAME). Both fit
 *    IFNAMSIZ-1 (15) bytes, the first form is at most 14 bytes and the second
 *    exactly 15, so the two forms never collide with each other, and distinct
 *    names give distinct short forms. A hash collision between two long names
 *    (36 bits) is caught by network_def_conflicts() like any bridge clash.
 *  - Default bridge MAC: 52:54:00 followed by the first three bytes of the
 *    UUID, so a definition with a UUID always formats the same.
 *  - Every string is owned by the struct; NetworkDef is freed with
 *    network_def_free() (NULL-tolerant) or g_autoptr(NetworkDef).
 *  - Thread-safety: no shared state; a NetworkDef may be read from several
 *    threads at once and is never mutated by these functions.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "objects/enum_table.h"

/* <forward mode='...'>. NONE is an isolated network (no <forward>). */
typedef enum {
  NETWORK_FORWARD_NONE,
  NETWORK_FORWARD_NAT,
  NETWORK_FORWARD_ROUTE,
  NETWORK_FORWARD_OPEN,
  NETWORK_FORWARD_BRIDGE,
} NetworkForwardMode;
ENUM_TABLE_DECL(network_forward_mode, NetworkForwardMode)

/* An IPv4 or IPv6 address in network byte order. */
typedef struct {
  int family;              /* AF_INET or AF_INET6; 0 = unset */
  uint8_t bytes[16];       /* AF_INET uses the first 4 */
} NetworkAddr;

/* Longest text of an address, NUL included (INET6_ADDRSTRLEN). */
#define NETWORK_ADDR_STRLEN 46
/* Longest bridge or interface name the kernel accepts (IFNAMSIZ - 1). */
#define NETWORK_IFNAME_MAX 15

typedef struct {
  NetworkAddr start, end;
} NetworkDhcpRange;

typedef struct {
  char mac[18];            /* "" when absent (IPv6 hosts have none) */
  char *name;              /* NULL when absent */
  NetworkAddr ip;
} NetworkDhcpHost;

/* One <ip>: the bridge's own address, its subnet and the DHCP service. */
typedef struct {
  NetworkAddr address;
  unsigned prefix;         /* 0..32 or 0..128 */
  GPtrArray *ranges;       /* NetworkDhcpRange*, ordered as written */
  GPtrArray *hosts;        /* NetworkDhcpHost*, ordered as written */
} NetworkIp;

typedef struct {
  NetworkAddr ip;
  GPtrArray *hostnames;    /* char*, at least one */
} NetworkDnsHost;

typedef struct {
  char *domain;            /* NULL = every domain */
  NetworkAddr addr;        /* family 0 = answer locally (domain only) */
} NetworkDnsForwarder;

/* <txt name value/>: a DNS TXT record. */
typedef struct {
  char *name;
  char *value;
} NetworkDnsTxt;

/* <srv service protocol domain target port priority weight/>: a DNS SRV
 * record; unset numbers are 0 and not written. */
typedef struct {
  char *service;           /* required */
  char *protocol;          /* required: tcp or udp */
  char *domain;            /* NULL = the network's domain */
  char *target;            /* NULL = no target (service not available) */
  unsigned port, priority, weight;
  bool port_set, priority_set, weight_set;
} NetworkDnsSrv;

/* One direction of <bandwidth>: libvirt's units, kilobytes per second for
 * average and peak, kilobytes for burst; 0 = not given. `average` is
 * required for a direction to be present. */
typedef struct {
  uint64_t average, peak, burst;
} NetworkRate;

typedef struct {
  NetworkRate in;          /* <inbound>: traffic into the network / guest */
  NetworkRate out;         /* <outbound>: traffic out of it */
} NetworkBandwidth;

/* Whether either direction is set. */
bool network_bandwidth_is_set(const NetworkBandwidth *bw);

/* <portgroup name default='yes'><bandwidth/></portgroup>. */
typedef struct {
  char *name;
  bool is_default;
  NetworkBandwidth bandwidth;
} NetworkPortgroup;

/* Tristate for attributes whose absence libvirt keeps apart from 'no'. */
typedef enum {
  NETWORK_TRISTATE_ABSENT,
  NETWORK_TRISTATE_YES,
  NETWORK_TRISTATE_NO,
} NetworkTristate;

typedef struct NetworkDef {
  char *name;
  char uuid[37];           /* canonical lowercase, always filled after parse */

  NetworkForwardMode forward;
  char *forward_dev;       /* nat/route: outgoing interface, NULL = any */
  NetworkAddr nat_start, nat_end;   /* nat: family 0 = masquerade */
  unsigned nat_port_start, nat_port_end; /* nat: 0 = not given (1024-65535) */
  bool nat_ipv6;           /* <nat ipv6='yes'>: masquerade the IPv6 subnets too */
  bool ipv6;               /* <network ipv6='yes'>: IPv6 between guests even
                              without an IPv6 <ip> (else the bridge has IPv6
                              off unless an IPv6 <ip> is given) */

  char *bridge;            /* always set: our bridge, or the host bridge in bridge mode */
  bool stp;                /* default true; unused in bridge mode */
  unsigned delay;          /* forward delay in seconds, default 0 */
  char mac[18];            /* bridge MAC; "" in bridge mode */
  unsigned mtu;            /* 0 = kernel default */

  char *domain;            /* <domain name>, NULL when absent */
  bool domain_local_only;

  bool dns_enabled;        /* <dns enable='no'> clears it; default true */
  NetworkTristate dns_forward_plain_names; /* NO: names without a dot are
                                              never sent upstream */
  GPtrArray *dns_txts;       /* NetworkDnsTxt* */
  GPtrArray *dns_srvs;       /* NetworkDnsSrv* */
  GPtrArray *dns_forwarders; /* NetworkDnsForwarder* */
  GPtrArray *dns_hosts;      /* NetworkDnsHost* */

  NetworkBandwidth bandwidth;  /* of the bridge (tc) */
  GPtrArray *portgroups;   /* NetworkPortgroup*, at most one default */

  GPtrArray *ips;          /* NetworkIp*, in the order written; subnets never
                              overlap */
} NetworkDef;

/* The first <ip> of `family` (AF_INET, AF_INET6), or NULL. */
const NetworkIp *network_def_first_ip(const NetworkDef *def, int family);
/* The <ip> whose subnet holds `addr`, or NULL. */
const NetworkIp *network_def_ip_for(const NetworkDef *def, const NetworkAddr *addr);
/* The portgroup called `name`, or with a NULL name the default portgroup
 * (what an interface naming none gets, as in libvirt); NULL when there is
 * none. */
const NetworkPortgroup *network_def_portgroup(const NetworkDef *def, const char *name);

/* virtfs's embedded default network: name 'default', a fresh UUID, NAT,
 * bridge by the default scheme ("virbr-default"), 192.168.122.1/24 with DHCP
 * .2-.254. Never fails. */
NetworkDef *network_def_new_default(void);

/* What `mkdir networks/NAME` gives: an isolated network with a fresh UUID, a
 * bridge by the default scheme and no address (a plain L2 switch that can
 * never clash with another network's subnet). `name` must be valid
 * (object_name_validate). Never fails. */
NetworkDef *network_def_new_empty(const char *name);

/* Parses libvirt network XML of `len` bytes. Returns 0 and stores a new
 * NetworkDef in *ret_def, or -EINVAL (malformed, unsupported element or
 * attribute, invalid or inconsistent value) or -EFBIG (over the size cap)
 * with a sentence naming the element and line in *ret_error (caller frees). */
int network_def_parse(const char *xml, size_t len, NetworkDef **ret_def, char **ret_error);

/* The canonical XML (2-space indent, libvirt's element order, trailing
 * newline). Returns a newly allocated string. */
char *network_def_format(const NetworkDef *def);

/* Deep copy. */
NetworkDef *network_def_copy(const NetworkDef *def);

void network_def_free(NetworkDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetworkDef, network_def_free)

/* Whether two definitions can be active at the same time. Returns 0 when they
 * can, or -EADDRINUSE with a sentence in *ret_error (may be NULL) when they
 * would own the same bridge or any of their subnets overlap. Two
 * bridge-mode networks on the same host bridge do not conflict. Pure. */
int network_def_conflicts(const NetworkDef *a, const NetworkDef *b, char **ret_error);

/* The bridge name the default scheme gives `name` (see above); newly
 * allocated. */
char *network_def_default_bridge_name(const char *name);

/* Whether this network needs a dnsmasq (an address, and DNS or DHCP on). */
bool network_def_wants_dnsmasq(const NetworkDef *def);

/* ---- address helpers (pure) ---- */

/* Parses a textual IPv4 or IPv6 address; -EINVAL if it is neither. */
int network_addr_parse(const char *text, NetworkAddr *ret_addr);
/* Writes the canonical text into buf (NETWORK_ADDR_STRLEN bytes) and returns buf. */
const char *network_addr_format(const NetworkAddr *addr, char *buf);
/* The address with the host bits cleared (prefix bits kept). */
NetworkAddr network_addr_mask(const NetworkAddr *addr, unsigned prefix);
/* The address with the host bits set (the IPv4 broadcast address). */
NetworkAddr network_addr_broadcast(const NetworkAddr *addr, unsigned prefix);
/* Byte-wise comparison; both must be of one family. */
int network_addr_compare(const NetworkAddr *a, const NetworkAddr *b);
/* Whether `addr` lies in net/prefix (same family required). */
bool network_addr_in_subnet(const NetworkAddr *addr, const NetworkAddr *net, unsigned prefix);
/* The IPv4 netmask of a prefix length, e.g. 24 -> 255.255.255.0. */
NetworkAddr network_addr_netmask(unsigned prefix);
/* Whether two subnets overlap (same family; different families never do). */
bool network_subnets_overlap(const NetworkAddr *a, unsigned prefix_a,
                             const NetworkAddr *b, unsigned prefix_b);
/* Number of addresses from start to end inclusive, saturated at UINT64_MAX. */
uint64_t network_addr_range_size(const NetworkAddr *start, const NetworkAddr *end);

/* Parses "52:54:00:AB:cd:01" into canonical lowercase (18 bytes with NUL);
 * -EINVAL unless six hex pairs. */
int network_mac_parse(const char *text, char ret_mac[18]);
