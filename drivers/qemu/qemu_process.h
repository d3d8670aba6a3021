/* qemu_process.h — starting QEMU and noticing its end, whether the daemon
 * started it or found it running after a restart.
 *
 * QEMU is started in its own session (so a terminal's signals and the
 * daemon's death do not reach it), with stdin from /dev/null, stdout and
 * stderr appended to a log file, and given file descriptors (taps) at fixed
 * numbers. Its end is watched through a pidfd on a GMainContext: the same
 * mechanism for children and for processes inherited from a previous
 * daemon (which, thanks to PR_SET_CHILD_SUBREAPER, are reparented to the
 * daemon anyway when their parent dies). Children are reaped with waitpid;
 * for other processes the exit status is unknown (-1). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct QemuProcessFd {
  int fd;          /* in the daemon; not closed by the spawn */
  int target;      /* number it gets in QEMU (>= 3) */
} QemuProcessFd;

/* Spawns argv[0] (looked up in PATH unless it contains '/'). 0 and the pid,
 * or -errno with a sentence (e.g. the binary is missing: -ENOENT). */
int qemu_process_spawn(const char *const *argv, const char *log_path,
                       const QemuProcessFd *fds, size_t nfds, pid_t *ret_pid,
                       char **ret_error);

/* Called once on the watch's context when the process is gone. status is
 * the wait status for a reaped child, -1 when unknown. */
typedef void (*QemuProcessExitFunc)(pid_t pid, int status, void *user_data);

typedef struct QemuProcessWatch QemuProcessWatch;

/* Watches pid. -ESRCH if it is already gone. */
int qemu_process_watch(GMainContext *context, pid_t pid, QemuProcessExitFunc func,
                       void *user_data, QemuProcessWatch **ret_watch);
/* Stops watching (no callback afterwards). Call on the watch's context. */
void qemu_process_watch_free(QemuProcessWatch *watch);

/* Sends a signal through the pidfd when there is one (no pid reuse race). */
int qemu_process_watch_kill(QemuProcessWatch *watch, int sig);

/* Whether pid is alive and its command line contains `needle` (used to
 * make sure a pid file from before a restart still names our QEMU). */
bool qemu_process_matches(pid_t pid, const char *needle);

/* The CPU time (user + system) of a process in nanoseconds, or -errno. */
int64_t qemu_process_cpu_time_ns(pid_t pid);

/* Counters of a network interface, from the host's side. */
typedef struct {
  uint64_t rx_bytes, rx_packets, rx_errors, rx_drops;
  uint64_t tx_bytes, tx_packets, tx_errors, tx_drops;
} QemuNetdevCounters;

/* Pure: finds `dev` in the text of /proc/net/dev. 0, or -ENOENT when it is
 * not listed, -EIO when its line is malformed. */
int qemu_netdev_counters_parse(const char *text, const char *dev, QemuNetdevCounters *ret);
/* The counters of `dev` in the calling thread's network namespace
 * (/proc/self/net/dev, which follows the namespace, unlike /sys). */
int qemu_netdev_counters(const char *dev, QemuNetdevCounters *ret);
