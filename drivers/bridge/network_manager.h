/* network_manager.h — the daemon's glue between the registry's network
 * objects and the bridge driver (bridge_network.h), with nothing of FUSE:
 * start and stop with conflict checks, reattach after a daemon restart, the
 * default network, autostart, dnsmasq watches, and the taps of domains.
 *
 * Runtime: while a network is active its Obj.runtime holds the definition
 * it was started with (the live one; config.xml may change meanwhile and
 * takes effect at the next start) and the watch that restarts its dnsmasq.
 * A runtime makes the registry refuse undefine and rename (EBUSY). The live
 * definition is also written to RUN/networks/NAME/live.xml, which is what
 * network_manager_reattach_all() reads after a daemon restart.
 *
 * Locks, in this order: the manager's op_lock (serializes every start,
 * stop and reattach of every network; held while the kernel works), then
 * the registry's locks (registry.h), then Obj.lock. The conflict check and
 * the reservation of the runtime happen together under the registry's
 * write_lock; nothing waits for the kernel under a registry or object lock.
 * Readers (state, bridge, leases, taps) never take op_lock.
 *
 * Errors: 0 or -errno with a sentence in *ret_error (caller frees):
 *   -EBUSY        ctl verb in the wrong state; a tap on an inactive network
 *   -EADDRINUSE   the network conflicts with an active one (same bridge or
 *                 overlapping subnet), or its subnet is on another interface
 *   -ENOENT       the object was removed; a domain's network is not defined;
 *                 a host bridge does not exist
 *   other         the bridge driver's (bridge_network.h) */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "drivers/qemu/qemu_driver.h"
#include "objects/domain_def.h"
#include "objects/network_def.h"
#include "objects/registry.h"

typedef struct NetworkManager NetworkManager;

typedef struct {
  const char *run_dir;          /* RUNDIR: files in RUNDIR/networks/NAME/ */
  const char *dnsmasq_binary;   /* NULL = VIRTFS_DNSMASQ_BINARY */
  GMainContext *main_context;   /* where dnsmasq watches run (its own thread) */
} NetworkManagerConfig;

/* Creates the manager (copies the config). Touches nothing yet. */
NetworkManager *network_manager_new(Registry *registry, const NetworkManagerConfig *cfg);
/* Forgets every runtime without stopping any network: unmounting never takes
 * a network down, and the next daemon reattaches. Call before the registry
 * is freed. NULL-tolerant. */
void network_manager_free(NetworkManager *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetworkManager, network_manager_free)

/* After a restart: every defined network whose RUN/networks/NAME/live.xml
 * exists and whose bridge is still there becomes active again with that live
 * definition; what is missing (dnsmasq, rules, addresses) is restored
 * without duplicating anything. A live.xml whose bridge is gone, or whose
 * network is no longer defined, is cleaned up. Returns the number of active
 * networks found. */
int network_manager_reattach_all(NetworkManager *m);

/* Defines virtfs's `default` network (network_def_new_default) unless the
 * state dir says it was created once already (STATE/networks/.default-created)
 * or a network of that name exists; then writes that marker, so a user who
 * removes `default` does not get it back. Call in system (root) mode only.
 * Returns 1 when it defined it, 0 when not, or -errno. */
int network_manager_define_default(NetworkManager *m, char **ret_error);

/* Starts every autostart network that is not active, one after the other;
 * failures go to the network's error file. */
void network_manager_autostart(NetworkManager *m);

/* ---- lifecycle ---- */

/* Starts the network with a copy of its persistent definition. Returns 0
 * when started, 1 when it was active already. */
int network_manager_start(NetworkManager *m, Obj *obj, char **ret_error);
/* Stops the network (taps of running guests lose their bridge). Returns 0
 * when stopped, 1 when it was not active. */
int network_manager_stop(NetworkManager *m, Obj *obj, char **ret_error);

/* ---- reading (any thread, no waiting) ---- */

bool network_manager_is_active(Obj *obj);
/* A copy of the live definition while active, else NULL. */
NetworkDef *network_manager_live_def(Obj *obj);
/* The network's current, unexpired DHCP leases (GPtrArray of DnsmasqLease);
 * empty while inactive. */
int network_manager_leases(NetworkManager *m, Obj *obj, GPtrArray **ret_leases,
                           char **ret_error);

/* Appends one line per address the domain's interfaces got from the DHCP of
 * active networks, "TAP MAC IP/PREFIX" (TAP "-" when no tap of this daemon
 * carries that MAC), matched by MAC: interfaces of type network through
 * their network, of type bridge through the active network owning that
 * bridge, if any. */
int network_manager_domain_addresses(NetworkManager *m, const DomainDef *def, GString *out,
                                     char **ret_error);

/* ---- taps for QEMU ---- */

/* For <interface type='network'>: the network must be defined (-ENOENT) and
 * active (-EBUSY). For type='bridge': the host bridge must exist (-ENOENT;
 * -EINVAL if that link is not a bridge). Creates a tap on the bridge with the
 * guest's MAC (first byte 0xfe on the host side) and IFF_VNET_HDR when the
 * model is virtio (QEMU then needs vnet_hdr=on), stores its name in
 * iface->target_dev and returns an O_CLOEXEC fd. On a network with a
 * default <portgroup> that has a <bandwidth>, the tap gets that limit
 * (bandwidth.h); failing to set it fails the call. */
int network_manager_open_tap(NetworkManager *m, const DomainDef *def, size_t index,
                             DomainInterface *iface, int *ret_fd, char **ret_error);
/* Deletes the tap; nothing when it is gone already. */
void network_manager_close_tap(NetworkManager *m, const char *tap_name);

/* Sets hooks->open_tap, hooks->close_tap and hooks->user_data (= m) to the
 * two functions above. The other hooks are left as they are; since
 * user_data is shared, a caller combining hooks of several managers passes
 * its own user_data and calls the two functions above itself. */
void network_manager_fill_qemu_hooks(NetworkManager *m, QemuDriverHooks *hooks);
