/* qemu_driver.h — running domains in QEMU: start, stop, pause, reboot,
 * reattach after a daemon restart, live state, console, statistics.
 *
 * A domain is active while its QEMU process exists; its runtime
 * (QemuDomain) hangs off Obj.runtime for that time, so the registry refuses
 * to undefine or rename it. The state of an inactive domain is shutoff, or
 * crashed when QEMU died without being asked to.
 *
 * Files in the run dir, per domain, under RUN/domains/UUID/:
 *   qmp.sock, console.sock   QEMU's listening sockets
 *   qemu.pid                 written by QEMU (-pidfile)
 *   live.xml                 the live definition (for reattaching)
 *   id                       the domain id
 * QEMU's stdout/stderr go to STATE/logs/NAME.log.
 *
 * Threads: every function here may be called from FUSE worker threads,
 * never from the main loop thread (they wait for QMP replies and for state
 * changes). QMP events and process exits are handled on the main loop.
 *
 * Errors: 0 or -errno with a sentence in *ret_error:
 *   -EBUSY       not allowed in the current state (e.g. a network inactive)
 *   -EOPNOTSUPP  unsupported on this host (type kvm without /dev/kvm, CPU
 *                hot-unplug, ...)
 *   -EINVAL      invalid request or definition
 *   -ETIMEDOUT   the state was not reached in time
 *   -EIO         QEMU failed (its own message is in the sentence)
 *   -ENOENT      the QEMU binary is missing */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "objects/domain_def.h"
#include "objects/enum_table.h"
#include "objects/registry.h"

typedef enum {
  DOMAIN_STATE_SHUTOFF,
  DOMAIN_STATE_RUNNING,
  DOMAIN_STATE_PAUSED,
  DOMAIN_STATE_CRASHED,
  DOMAIN_STATE_SAVED,     /* inactive, its memory in a saved state (qemu_save.h) */
  DOMAIN_STATE_INCOMING,  /* QEMU waits for a migration stream (qemu_migrate.h) */
} DomainState;
ENUM_TABLE_DECL(domain_state, DomainState)

typedef struct QemuDriver QemuDriver;

/* What the driver needs from the rest of the daemon to start a domain: the
 * paths of storage volumes and the taps of network interfaces. Each hook
 * may be NULL (then such disks/interfaces are refused with -EOPNOTSUPP). */
typedef struct {
  void *user_data;
  /* Resolves <disk type='volume'>: 0 and a newly allocated path. */
  int (*resolve_volume)(void *user_data, const char *pool, const char *volume,
                        char **ret_path, bool *ret_is_block, char **ret_error);
  /* Opens a tap for interface `index` of `def` (network/bridge types):
   * returns the fd to give QEMU and fills iface->target_dev. */
  int (*open_tap)(void *user_data, const DomainDef *def, size_t index,
                  DomainInterface *iface, int *ret_fd, char **ret_error);
  /* Called when a domain's QEMU is gone, for each tap opened for it. */
  void (*close_tap)(void *user_data, const char *tap_name);
} QemuDriverHooks;

typedef struct {
  const char *state_dir;
  const char *run_dir;
  const char *qemu_binary;      /* used when a definition has no <emulator> */
  bool kvm_available;           /* KVM runs ordinary guests (node_kvm_usable) */
  const char *kvm_unavailable_reason; /* when !kvm_available: why, or NULL */
  int qmp_timeout_ms;           /* how long QEMU may take to answer on QMP (to
                                   come up, and per command); 0 = the default,
                                   QEMU_QMP_TIMEOUT_MS (10 s) */
  GMainContext *main_context;   /* the daemon's main loop (running in its own thread) */
  QemuDriverHooks hooks;
  const char *migration_host;   /* where `echo incoming > state` listens; NULL =
                                   0.0.0.0 */
} QemuDriverConfig;

/* Creates the driver. Copies the config. Registers nothing yet. */
int qemu_driver_new(Registry *registry, const QemuDriverConfig *cfg, QemuDriver **ret_driver,
                    char **ret_error);
/* Forgets every runtime without stopping any QEMU (unmount never stops a VM). */
void qemu_driver_free(QemuDriver *driver);

/* The domain with this UUID was undefined: what the driver kept of it
 * between runs (last state, console output) goes, once no run or console
 * reader uses it any more. */
void qemu_driver_forget_domain(QemuDriver *driver, const char *uuid);

/* Finds the QEMU processes of every defined domain that are still running
 * (pid file + QMP socket in the run dir) and attaches to them. Returns the
 * number reattached. */
int qemu_driver_reattach_all(QemuDriver *driver);

/* Starts the domains marked autostart that are not running, in the
 * background. */
void qemu_driver_autostart(QemuDriver *driver);

/* ---- lifecycle ---- */

/* Starts the domain and returns when QEMU runs the guest (or, with
 * `paused`, when it is ready but paused). */
int qemu_domain_start(QemuDriver *driver, Obj *obj, bool paused, char **ret_error);
/* Sends the ACPI power button (resuming a paused guest first); returns
 * once QEMU accepted it. A guest that never ran is ended instead (nothing
 * in it could lose data); one without ACPI is -EOPNOTSUPP. */
int qemu_domain_shutdown(QemuDriver *driver, Obj *obj, char **ret_error);
/* Ends QEMU (SIGTERM, then SIGKILL after a grace period) and returns when
 * the process is gone. */
int qemu_domain_destroy(QemuDriver *driver, Obj *obj, char **ret_error);
/* ACPI power button, then a reset instead of a power-off. */
int qemu_domain_reboot(QemuDriver *driver, Obj *obj, char **ret_error);
int qemu_domain_reset(QemuDriver *driver, Obj *obj, char **ret_error);
int qemu_domain_suspend(QemuDriver *driver, Obj *obj, char **ret_error);
int qemu_domain_resume(QemuDriver *driver, Obj *obj, char **ret_error);

/* Asked regularly by a call that waits long: when func returns true (the
 * caller was interrupted), the wait ends with -EINTR. func runs on the
 * calling thread. */
typedef struct {
  bool (*func)(void *data);
  void *data;
} QemuCancel;

/* Declarative: asks for `target` (running, paused or shutoff) and waits
 * until it is reached or timeout_ms passed (-ETIMEDOUT). Writing the
 * current state does nothing. shutoff is a graceful shutdown: the power
 * button, pressed again every QEMU_POWER_BUTTON_RETRY_MS until the guest
 * reacts; a guest that never ran (started paused) is simply ended, and
 * one without ACPI is refused at once (-EOPNOTSUPP). `cancel` (may be
 * NULL) ends the wait for a shutdown with -EINTR; the button stays
 * pressed. */
int qemu_domain_set_state(QemuDriver *driver, Obj *obj, DomainState target, int timeout_ms,
                          const QemuCancel *cancel, char **ret_error);

/* ---- reading ---- */

/* State and its reason ("booted", "shutdown", "destroyed", "crashed",
 * "paused", "starting", ...; may be empty). */
DomainState qemu_domain_get_state(QemuDriver *driver, Obj *obj, char **ret_reason);
bool qemu_domain_is_active(Obj *obj);
/* The domain id while active, else -1. */
int qemu_domain_get_id(Obj *obj);
/* The live definition as XML (with live-only state), or NULL when inactive. */
char *qemu_domain_live_xml(Obj *obj);
/* key: value lines (cpu time, balloon, per-disk block statistics). */
int qemu_domain_stats(QemuDriver *driver, Obj *obj, GString *out, char **ret_error);
/* Adds state-related key: value lines to info (state, reason, id, pid,
 * cpu_time_ns). */
void qemu_domain_info(QemuDriver *driver, Obj *obj, GString *out);

/* ---- live changes ---- */

/* Current memory through the balloon (KiB), and live vCPUs (hotplug). */
int qemu_domain_get_live_memory(QemuDriver *driver, Obj *obj, uint64_t *ret_kib, char **ret_error);
int qemu_domain_set_live_memory(QemuDriver *driver, Obj *obj, uint64_t kib, char **ret_error);
int qemu_domain_get_live_vcpus(QemuDriver *driver, Obj *obj, unsigned *ret_count, char **ret_error);
int qemu_domain_set_live_vcpus(QemuDriver *driver, Obj *obj, unsigned count, char **ret_error);

/* ---- devices (qemu_hotplug.c) ---- */

/* Plugs `disk` into the running domain (blockdev-add + device_add) and adds
 * it to the live definition. A virtio disk without a PCI <address> gets a
 * place (pc: the lowest free slot of bus 0; q35: slot 0 behind a free
 * pcie-root-port), written back into disk->address for the caller to keep
 * in the persistent definition. -EEXIST (target in use), -EOPNOTSUPP
 * (ide/sata bus), -ENOSPC (no slot or root port), -EIO (QEMU refused;
 * nothing stays plugged). */
int qemu_domain_attach_disk(QemuDriver *driver, Obj *obj, DomainDisk *disk, char **ret_error);
/* Unplugs disk `target` (device_del), waits for the guest to release it
 * (-ETIMEDOUT after 10 s: the disk stays), then removes its block nodes and
 * drops it from the live definition. */
int qemu_domain_detach_disk(QemuDriver *driver, Obj *obj, const char *target, char **ret_error);
/* Changes a running CD-ROM's medium to disk's source (blockdev-change-medium),
 * or ejects it when it has none. Anything but the source differing is
 * -EBUSY; a tray the guest locked is -EBUSY. */
int qemu_domain_update_disk(QemuDriver *driver, Obj *obj, DomainDisk *disk, char **ret_error);
/* Plugs an interface (netdev_add + device_add), placed like a disk; for
 * network and bridge interfaces the bridge driver's hook makes the tap and
 * QEMU gets its descriptor with getfd. Unplugs the interface with MAC
 * `mac` like a disk (10 s, then -ETIMEDOUT), then netdev_del and the tap. */
int qemu_domain_attach_interface(QemuDriver *driver, Obj *obj, DomainInterface *iface,
                                 char **ret_error);
int qemu_domain_detach_interface(QemuDriver *driver, Obj *obj, const char *mac,
                                 char **ret_error);
/* The caller stored the outcome of its last attach or detach in the
 * definition (or gave up): the operation's journal goes. Until then, a
 * daemon killed in between finishes or undoes it at reattach. */
void qemu_domain_hotplug_commit(QemuDriver *driver, Obj *obj);

/* ---- console ---- */

typedef struct QemuConsoleReader QemuConsoleReader;
typedef void (*QemuConsoleNotify)(void *user_data);

/* A reader of the console output from now on. -EBUSY when inactive. The
 * notify function is called (on any thread) when output arrives, for poll. */
int qemu_console_open(QemuDriver *driver, Obj *obj, QemuConsoleNotify notify, void *user_data,
                      QemuConsoleReader **ret_reader);
/* Waits up to timeout_us for output; appends at most max bytes. Returns the
 * number of bytes, 0 on timeout, -EPIPE when the domain stopped. */
int qemu_console_read(QemuConsoleReader *reader, size_t max, GString *out, int64_t timeout_us);
bool qemu_console_readable(QemuConsoleReader *reader);
/* Writes bytes to the guest's serial port. */
int qemu_console_write(QemuConsoleReader *reader, const char *data, size_t len);
void qemu_console_close(QemuConsoleReader *reader);
/* The last stretch of console output kept by the daemon (console.log). */
int qemu_console_log(QemuDriver *driver, Obj *obj, GString *out);

/* Whether an active domain has a disk on the volume `pool`/`volume` (by
 * <disk type='volume'>) or on the file or device `path` (either may be
 * NULL). Used to refuse deleting, shrinking or overwriting a volume in use. */
bool qemu_driver_disk_in_use(QemuDriver *driver, const char *pool, const char *volume,
                             const char *path);

/* ---- interface counters and the screen (qemu_netstats.c, qemu_screen.c) ---- */

/* The counters of one interface of a running domain, seen from the guest
 * (a tap's receive is the guest's transmit), as libvirt reports them. */
typedef struct {
  char *target_dev;       /* the tap */
  char *source;           /* the network or bridge; "" for user networking */
  bool on_network;        /* source names a virtfs network (type='network') */
  uint64_t rx_bytes, rx_packets, rx_errors, rx_drops;
  uint64_t tx_bytes, tx_packets, tx_errors, tx_drops;
} QemuInterfaceStats;
void qemu_interface_stats_free(QemuInterfaceStats *s);

/* Pure: the counters of `dev` in the text of /proc/net/dev, turned to the
 * guest's view. -ENOENT when dev is not listed. */
int qemu_parse_proc_net_dev(const char *text, const char *dev, QemuInterfaceStats *ret_stats);

/* The counters of every interface with a tap of a running domain (array of
 * QemuInterfaceStats*; empty while inactive). Read from /proc/net/dev of
 * the daemon's network namespace, where its taps are. */
int qemu_domain_interface_stats(QemuDriver *driver, Obj *obj, GPtrArray **ret_stats,
                                char **ret_error);

/* Whether the domain's definition has a display (a <graphics> or a
 * <video> other than none) that screen.png can show. */
bool qemu_domain_has_display(Obj *obj);
/* Whether it has a <graphics> (a VNC server while it runs). */
bool qemu_domain_has_graphics(Obj *obj);
/* The current screen as PNG bytes (QMP screendump, format png); a dump
 * less than a second old is returned again, so that the open and the stat
 * of one read agree. -EBUSY when not running, -EOPNOTSUPP without a
 * display, -EIO when QEMU fails. */
int qemu_domain_screendump(QemuDriver *driver, Obj *obj, GBytes **ret_png, char **ret_error);
/* The address clients connect to for the display, "vnc://HOST:PORT" (from
 * QMP query-vnc); -ENOENT when the running domain has no VNC server. */
int qemu_domain_display_address(QemuDriver *driver, Obj *obj, char **ret_address,
                                char **ret_error);

/* ---- the QEMU guest agent (qemu_agent.c) ----
 * Requests go to qemu-ga over the domain's org.qemu.guest_agent.0 channel
 * on the calling thread, one at a time per domain. Each, the wait behind
 * another request of the same domain included, ends within this time. */
#define QEMU_AGENT_TIMEOUT_MS 3000

typedef enum {
  QEMU_GUEST_STATE,
  QEMU_GUEST_ADDRESSES,
  QEMU_GUEST_OS,
  QEMU_GUEST_USERS,
  QEMU_GUEST_FILESYSTEMS,
  QEMU_GUEST_TIME,
} QemuGuestFile;

/* The text of guest/FILE (qga_codec.h gives the formats). Without an
 * answering agent: -EBUSY (the domain is not running), -ENOTCONN (no agent
 * channel, or nothing in the guest opened it; at once), -ETIMEDOUT (the
 * agent did not answer in time), -EIO (it refused). QEMU_GUEST_STATE never
 * fails: it says "connected: no" with the reason instead. */
int qemu_guest_read(QemuDriver *driver, Obj *obj, QemuGuestFile file, GString *out,
                    char **ret_error);
/* One line of guest/ctl (qga_ctl_parse), sent to the agent; for
 * set-password, "set-password USER\nPASSWORD" (the password is wiped
 * here after use and never part of a sentence). */
int qemu_guest_ctl(QemuDriver *driver, Obj *obj, const char *line, char **ret_error);
