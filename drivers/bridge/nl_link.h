/* nl_link.h — the kernel side of virtual networks over rtnetlink (libnl-3,
 * libnl-route-3): Linux bridges, their addresses, and persistent tap devices
 * for QEMU. Everything acts in the network namespace of the calling thread.
 *
 * Errors: every function returns 0 (or a documented count) or a negative
 * errno. The kernel's own errno from the netlink ack is kept as is (-EEXIST,
 * -ENODEV, -EPERM, -ERANGE, -EBUSY...); libnl's error codes that carry no
 * kernel errno are translated by nl_error_to_errno(), the one place for it.
 * Missing links give -ENODEV.
 *
 * Thread-safety: no shared state; each call opens and closes its own netlink
 * socket, so calls may run on any thread concurrently. The kernel serializes
 * the changes themselves.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "objects/network_def.h"

/* libnl error code (NLE_*, positive or negative) -> negative errno. */
int nl_error_to_errno(int nlerr);

typedef struct {
  bool stp;
  unsigned delay;          /* forward delay, seconds; with STP on the kernel
                              enforces 2..30 s, so smaller values become 2 */
  unsigned mtu;            /* 0 = leave as is */
  const char *mac;         /* "52:54:00:..", NULL = leave as is */
  const char *alias;       /* IFLA_IFALIAS, NULL = leave as is */
} NlBridgeOptions;

/* Creates bridge `name` and applies `opts`. -EEXIST if a link of that name
 * exists. The bridge is left down. */
int nl_bridge_create(const char *name, const NlBridgeOptions *opts);
/* Applies `opts` to an existing bridge (-ENODEV if absent, -EMEDIUMTYPE if
 * `name` is not a bridge). */
int nl_bridge_configure(const char *name, const NlBridgeOptions *opts);

/* Deletes any link by name; -ENODEV if absent. A tap's fd holders lose it. */
int nl_link_delete(const char *name);
int nl_link_set_up(const char *name, bool up);
int nl_link_set_mac(const char *name, const char *mac);
int nl_link_set_mtu(const char *name, unsigned mtu);
/* Enslaves `name` to bridge `master`, or releases it when master is NULL. */
int nl_link_set_master(const char *name, const char *master);

typedef struct {
  int ifindex;
  char name[16];
  char kind[16];           /* "bridge", "tun", "veth", ... "" when none */
  bool up;                 /* IFF_UP */
  unsigned mtu;
  char mac[18];            /* "" when the link has no Ethernet address */
  int master_ifindex;      /* 0 = none */
  char *alias;             /* NULL when unset */
} NlLinkInfo;

/* Fills *ret_info for link `name` (-ENODEV if absent). Free with
 * nl_link_info_clear(). */
int nl_link_get(const char *name, NlLinkInfo *ret_info);
void nl_link_info_clear(NlLinkInfo *info);
/* Whether a link called `name` exists. */
bool nl_link_exists(const char *name);

typedef struct {
  int ifindex;
  NetworkAddr addr;
  unsigned prefix;
} NlAddr;

/* Adds addr/prefix to link `name` (IPv4 with its broadcast address; IPv6
 * without duplicate address detection, since the network owns its subnet).
 * -EEXIST if present. */
int nl_addr_add(const char *name, const NetworkAddr *addr, unsigned prefix);
int nl_addr_del(const char *name, const NetworkAddr *addr, unsigned prefix);
/* Every IPv4/IPv6 address of link `name`, or of all links when name is
 * NULL, as a GArray of NlAddr (IPv6 link-local addresses included). */
int nl_addr_list(const char *name, GArray **ret_addrs);

/* Creates a persistent tap device (IFF_TAP | IFF_NO_PI, plus IFF_VNET_HDR if
 * `vnet_hdr`) named `name`, or by the kernel from "vnet%d" when name is NULL.
 * Returns its name and an open fd (O_CLOEXEC: clear the flag, or map it, when
 * handing it to QEMU). The device outlives the fd until nl_tap_delete(). */
int nl_tap_create(const char *name, bool vnet_hdr, char **ret_name, int *ret_fd);
/* Deletes a tap made by nl_tap_create(); -ENODEV if absent. */
int nl_tap_delete(const char *name);
