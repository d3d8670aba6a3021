/* dnsmasq.h — DHCP and DNS of a virtual network: a pure builder of dnsmasq's
 * configuration, a pure lease-file parser, and the dnsmasq process itself
 * (spawn, find again after a daemon restart, stop, watch and restart).
 *
 * One dnsmasq per network, configured only by the file we write
 * (--conf-file=OURS replaces /etc/dnsmasq.conf; `no-hosts` keeps /etc/hosts
 * out; `no-resolv` keeps /etc/resolv.conf out unless the network forwards to
 * the host's resolvers), listening only on the network's bridge
 * (`interface=BRIDGE`, `bind-dynamic`, `except-interface=lo`).
 *
 * Process model: dnsmasq runs with --keep-in-foreground in its own session
 * (setsid), so it survives the daemon, writes its pid file, and is not
 * confused by double forks. The daemon follows it with a pidfd, which works
 * the same for a child it spawned and for one found again from the pid file
 * after a restart. dnsmasq's stderr goes to a log file beside its config.
 *
 * Errors: negative errno plus a sentence in *ret_error; dnsmasq's exit
 * status is translated by dnsmasq_exit_status_to_errno(), the one place.
 * Thread-safety: the builders and parser are pure; the process functions
 * keep no shared state; DnsmasqWatch is documented below.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "objects/network_def.h"

typedef struct {
  const char *pid_path;    /* pid-file= */
  const char *lease_path;  /* dhcp-leasefile= */
  const char *resolv_file; /* upstream resolvers when the network forwards
                              DNS to the host's: NULL = dnsmasq's default
                              (/etc/resolv.conf), "" = none (no-resolv) */
  const char *user;        /* user= to drop to, NULL = dnsmasq's default */
} DnsmasqConfigOptions;

/* dnsmasq's configuration for `def` (which must want one, see
 * network_def_wants_dnsmasq). Newly allocated. Pure.
 * Upstream DNS: explicit <forwarder addr> without a domain, an isolated
 * network (nothing may leave it), or resolv_file "" give `no-resolv`;
 * otherwise queries go to the resolvers of resolv_file. */
char *dnsmasq_build_config(const NetworkDef *def, const DnsmasqConfigOptions *opts);

/* One line of dnsmasq's lease file:
 *   EXPIRY MAC IP HOSTNAME CLIENTID          (IPv4)
 *   EXPIRY IAID IP HOSTNAME CLIENTID         (IPv6, after a "duid ..." line)
 * "*" stands for an absent hostname or client id. */
typedef struct {
  int64_t expiry;          /* seconds since the epoch, 0 = never */
  char mac[18];            /* IPv4 leases; "" for IPv6 */
  uint32_t iaid;           /* IPv6 leases */
  NetworkAddr ip;
  char *hostname;          /* NULL when "*" */
  char *client_id;         /* NULL when "*" */
} DnsmasqLease;

void dnsmasq_lease_free(DnsmasqLease *lease);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DnsmasqLease, dnsmasq_lease_free)

/* Parses `len` bytes of a lease file into a GPtrArray of DnsmasqLease (owns
 * its elements). Malformed lines (a file caught mid-rewrite, garbage) are
 * skipped and counted in *ret_skipped (may be NULL); "duid" lines are not
 * leases and not counted. Never fails. Pure. */
GPtrArray *dnsmasq_parse_leases(const char *text, size_t len, unsigned *ret_skipped);

/* ---- the process ---- */

/* Absolute path of program `binary` (NULL = VIRTFS_DNSMASQ_BINARY; a name
 * with a '/' is taken as is if executable), searched in PATH and then in
 * /usr/sbin and /sbin, which a daemon started with a user's PATH may lack.
 * NULL when not found. Also used for tc(8). */
char *dnsmasq_find_program(const char *binary);

typedef struct {
  const char *binary;      /* NULL = VIRTFS_DNSMASQ_BINARY (searched in PATH,
                              then /usr/sbin, /sbin) */
  const char *conf_path;
  const char *pid_path;    /* must match pid-file= in the config */
  const char *log_path;    /* dnsmasq's stderr, truncated at each spawn;
                              NULL = /dev/null */
} DnsmasqFiles;

/* dnsmasq's exit status (as from waitpid) -> negative errno: 1 bad config
 * -EINVAL, 2 network (port or address in use, permissions) -EADDRINUSE,
 * 3 file system -EIO, 4 memory -ENOMEM, killed by a signal -EINTR, other -EIO. */
int dnsmasq_exit_status_to_errno(int status);

/* Starts dnsmasq and returns once it is serving (it wrote its pid file, which
 * it does after binding its sockets), or fails with its exit status as errno
 * and the last lines of its log in *ret_error. Waits with poll() on a pidfd
 * and an inotify watch, up to 5 s, without sleeping. *ret_pidfd
 * (O_CLOEXEC) may be NULL. */
int dnsmasq_spawn(const DnsmasqFiles *files, pid_t *ret_pid, int *ret_pidfd, char **ret_error);

/* Finds the dnsmasq started with `files` from its pid file, checking
 * /proc/PID/cmdline so a recycled pid is never taken for it. Returns 0 with
 * its pid (and a pidfd when ret_pidfd is not NULL), or -ESRCH. */
int dnsmasq_find(const DnsmasqFiles *files, pid_t *ret_pid, int *ret_pidfd);

/* Stops the dnsmasq started with `files` (SIGTERM, SIGKILL after 2 s),
 * reaps it if it is our child, and removes its pid file. 0 also when none
 * was running. */
int dnsmasq_stop(const DnsmasqFiles *files);

/* ---- watching ---- */

typedef enum {
  DNSMASQ_WATCH_RESTARTED, /* dnsmasq died and a new one serves (new_pid) */
  DNSMASQ_WATCH_FAILED,    /* dnsmasq died and could not be brought back;
                              the watch stops (error says why) */
} DnsmasqWatchEvent;

typedef void (*DnsmasqWatchFunc)(DnsmasqWatchEvent event, pid_t new_pid, const char *error,
                                 void *userdata);

typedef struct DnsmasqWatch DnsmasqWatch;

/* Follows the running dnsmasq of `files` (found with dnsmasq_find) from
 * `ctx` (NULL = the default main context) and restarts it whenever it exits,
 * calling `fn` in ctx's thread after each restart. More than 5 exits within
 * 30 s are taken as a crash loop: the watch reports DNSMASQ_WATCH_FAILED and
 * stops. `files` are copied. `destroy` (may be NULL) frees userdata when the
 * watch is finalized, after any callback in flight. -ESRCH when no dnsmasq
 * runs. */
int dnsmasq_watch_new(const DnsmasqFiles *files, GMainContext *ctx, DnsmasqWatchFunc fn,
                      void *userdata, GDestroyNotify destroy, DnsmasqWatch **ret_watch);

/* Stops watching; callable from any thread. When it returns, no restart is
 * in progress and none will start, so dnsmasq_stop() may follow. A callback
 * already being dispatched in ctx's thread may still finish after it. */
void dnsmasq_watch_free(DnsmasqWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DnsmasqWatch, dnsmasq_watch_free)

/* The pid the watch currently follows (0 after a failure). */
pid_t dnsmasq_watch_pid(DnsmasqWatch *watch);
