/* bridge_network.h — the network driver the daemon calls: start, stop and
 * inspect a virtual network (Linux bridge + nftables chains + dnsmasq), read
 * its DHCP leases, follow its dnsmasq, and make taps for QEMU.
 *
 * Ownership on the host: a bridge virtfs made carries the alias
 * "virtfs-network UUID" (IFLA_IFALIAS). Start refuses a bridge of that name
 * without our alias (-EEXIST), and reuses one with it, so a start after a
 * daemon crash picks up its own leftovers without detaching the taps of
 * running guests; stale addresses are removed, settings re-applied, the
 * nftables chains replaced and dnsmasq restarted. Stop removes dnsmasq, the
 * chains and the bridge (only ours) and is a no-op for what is already gone.
 * Bridge-mode networks only check that the host bridge exists.
 *
 * Files live in RUNDIR/networks/NAME/: dnsmasq.conf, dnsmasq.pid, leases,
 * dnsmasq.log. The leases survive a stop, so guests keep their addresses
 * across network restarts.
 *
 * Everything acts in the network namespace of the calling thread. Callers
 * must pass the definition the network was started with (the live one) to
 * stop/status/leases, since names of chains and files derive from it, and
 * must serialize start/stop of one network (the registry's per-object state
 * does); different networks may be handled from different threads.
 *
 * Errors (negative errno, with a sentence in *ret_error):
 *   -EEXIST       the bridge name is taken by a link virtfs does not own
 *   -EADDRINUSE   another interface already has an address in the subnet
 *   -ENODEV       bridge mode: the host bridge does not exist
 *   -EMEDIUMTYPE  bridge mode: that link is not a bridge
 *   -EPERM        not allowed (not root, no CAP_NET_ADMIN)
 *   -ENOENT       dnsmasq not installed
 *   -EINVAL/-EADDRINUSE/-EIO  dnsmasq refused to start (its log is quoted)
 *   -ETIMEDOUT    dnsmasq did not come up within 5 s
 *   other         the kernel's errno from netlink, nftables' (nft_rules.h)
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "drivers/bridge/dnsmasq.h"
#include "objects/network_def.h"

typedef struct {
  const char *run_dir;         /* RUNDIR, e.g. /run/virtfs */
  const char *dnsmasq_binary;  /* NULL = VIRTFS_DNSMASQ_BINARY */
  const char *resolv_file;     /* upstream DNS for networks that forward to
                                  the host's resolvers: NULL = dnsmasq's
                                  default (/etc/resolv.conf), "" = none */
  const char *dnsmasq_user;    /* NULL = dnsmasq's default (it drops root) */
} BridgeDriverConfig;

/* Brings the network up; see above. On failure everything this call made is
 * undone (a reused bridge is kept). */
int bridge_network_start(const NetworkDef *def, const BridgeDriverConfig *cfg, char **ret_error);

/* Takes the network down; 0 also when it was not (or only partly) up. */
int bridge_network_stop(const NetworkDef *def, const BridgeDriverConfig *cfg, char **ret_error);

typedef struct {
  bool bridge;        /* our bridge exists (bridge mode: the host bridge) */
  bool up;            /* ... and is up */
  bool addresses;     /* every <ip> of the definition is on it */
  bool rules;         /* our nftables chains exist */
  bool dnsmasq;       /* dnsmasq serves it (true when none is needed) */
  pid_t dnsmasq_pid;  /* 0 when none runs */
} BridgeNetworkStatus;

/* What is in place for `def`, for reattaching after a daemon restart. */
int bridge_network_status(const NetworkDef *def, const BridgeDriverConfig *cfg,
                          BridgeNetworkStatus *ret_status);

/* All of the status is true: the network is fully up. For a bridge-mode
 * network: the host bridge exists (up or not, it is the host's). */
bool bridge_network_is_active(const NetworkDef *def, const BridgeDriverConfig *cfg);

/* The network's current DHCP leases (GPtrArray of DnsmasqLease); an empty
 * array when there is no lease file. Malformed lines are skipped. */
int bridge_network_read_leases(const NetworkDef *def, const BridgeDriverConfig *cfg,
                               GPtrArray **ret_leases, char **ret_error);

/* Follows the network's dnsmasq and restarts it when it dies (see
 * DnsmasqWatch in dnsmasq.h: callbacks run in `ctx`'s thread). Stores NULL
 * when the network needs no dnsmasq. -ESRCH when it needs one and none
 * runs. Free the watch with dnsmasq_watch_free() before stopping the network. */
int bridge_network_watch(const NetworkDef *def, const BridgeDriverConfig *cfg, GMainContext *ctx,
                         DnsmasqWatchFunc fn, void *userdata, GDestroyNotify destroy,
                         DnsmasqWatch **ret_watch);

/* The network's file paths (newly allocated), e.g. for the `leases` file. */
char *bridge_network_dir(const NetworkDef *def, const BridgeDriverConfig *cfg);
DnsmasqFiles bridge_network_dnsmasq_files(const NetworkDef *def, const BridgeDriverConfig *cfg,
                                          char **ret_conf, char **ret_pid, char **ret_log);

/* Creates a persistent tap (name chosen by the kernel, "vnetN"), gives it
 * the guest's `mac` with the first byte set to 0xfe (as libvirt does, so the
 * host side never claims the guest's address), the bridge's MTU, enslaves it
 * to `bridge_name` and sets it up. Returns its name and an O_CLOEXEC fd for
 * QEMU (-netdev tap,fd=N; vnet_hdr=on when `vnet_hdr`). On failure the tap is
 * gone. -ENODEV if the bridge does not exist. */
int bridge_tap_create(const char *bridge_name, const char *mac, bool vnet_hdr,
                      char **ret_tap_name, int *ret_fd, char **ret_error);

/* Deletes a tap; 0 also when it is already gone. */
int bridge_tap_delete(const char *tap_name);
