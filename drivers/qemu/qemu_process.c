/* qemu_process.c — see qemu_process.h. */
#include "drivers/qemu/qemu_process.h"

#include <errno.h>
#include <glib-unix.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"

static int pidfd_open_compat(pid_t pid) {
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal_compat(int pidfd, int sig) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(const char *const *argv, int log_fd, int null_fd,
                       const QemuProcessFd *fds, size_t nfds, int err_pipe) {
  setsid();
  /* keep the error pipe out of the way of the fd numbers we hand out */
  err_pipe = fcntl(err_pipe, F_DUPFD_CLOEXEC, 1000);
  if (err_pipe < 0)
    _exit(127);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  for (int s = 1; s < NSIG; s++)
    signal(s, SIG_DFL);
  /* Move every fd we need above the targets, then into place. */
  int high = 200;
  for (size_t i = 0; i < nfds; i++)
    if (dup2(fds[i].fd, high + (int)i) < 0)
      goto fail;
  if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
    goto fail;
  for (size_t i = 0; i < nfds; i++)
    if (dup2(high + (int)i, fds[i].target) < 0)
      goto fail;
  int keep = 3;
  for (size_t i = 0; i < nfds; i++)
    if (fds[i].target >= keep)
      keep = fds[i].target + 1;
  /* close everything else except the error pipe (close-on-exec) */
  syscall(SYS_close_range, keep, err_pipe - 1, 0);
  syscall(SYS_close_range, err_pipe + 1, ~0U, 0);
  execvp(argv[0], (char *const *)argv);
fail:;
  int e = errno;
  (void)!write(err_pipe, &e, sizeof(e));
  _exit(127);
}

int qemu_process_spawn(const char *const *argv, const char *log_path,
                       const QemuProcessFd *fds, size_t nfds, pid_t *ret_pid,
                       char **ret_error) {
  for (size_t i = 0; i < nfds; i++)
    if (fds[i].target < 3 || fds[i].target >= 100) {
      *ret_error = g_strdup_printf("file descriptor target %d out of range", fds[i].target);
      return -EINVAL;
    }
  int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    int e = errno;
    *ret_error = g_strdup_printf("cannot open the log file %s: %s", log_path, g_strerror(e));
    return -e;
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int pipefd[2];
  if (null_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
    int e = errno;
    close(log_fd);
    if (null_fd >= 0)
      close(null_fd);
    *ret_error = g_strdup_printf("cannot prepare to start QEMU: %s", g_strerror(e));
    return -e;
  }
  pid_t pid = fork();
  if (pid == 0)
    child_exec(argv, log_fd, null_fd, fds, nfds, pipefd[1]);
  int e = errno;
  close(pipefd[1]);
  close(log_fd);
  close(null_fd);
  if (pid < 0) {
    close(pipefd[0]);
    *ret_error = g_strdup_printf("cannot fork: %s", g_strerror(e));
    return -e;
  }
  int child_errno = 0;
  ssize_t n;
  do
    n = read(pipefd[0], &child_errno, sizeof(child_errno));
  while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  if (n == sizeof(child_errno)) {
    waitpid(pid, NULL, 0);
    *ret_error = g_strdup_printf("cannot run %s: %s", argv[0], g_strerror(child_errno));
    return -child_errno;
  }
  *ret_pid = pid;
  return 0;
}

struct QemuProcessWatch {
  pid_t pid;
  int pidfd;
  GSource *source;
  QemuProcessExitFunc func;
  void *user_data;
};

static gboolean on_pidfd(gint fd, GIOCondition cond, gpointer data) {
  QemuProcessWatch *w = data;
  int status = -1;
  pid_t r;
  do
    r = waitpid(w->pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return G_SOURCE_CONTINUE; /* spurious: not exited yet */
  if (r < 0)
    status = -1; /* not our child: the status is not ours to know */
  QemuProcessExitFunc func = w->func;
  void *user_data = w->user_data;
  pid_t pid = w->pid;
  w->func = NULL;
  g_source_destroy(w->source);
  if (func)
    func(pid, status, user_data);
  return G_SOURCE_REMOVE;
}

int qemu_process_watch(GMainContext *context, pid_t pid, QemuProcessExitFunc func,
                       void *user_data, QemuProcessWatch **ret_watch) {
  int pidfd = pidfd_open_compat(pid);
  if (pidfd < 0)
    return -errno;
  QemuProcessWatch *w = g_new0(QemuProcessWatch, 1);
  w->pid = pid;
  w->pidfd = pidfd;
  w->func = func;
  w->user_data = user_data;
  w->source = g_unix_fd_source_new(pidfd, G_IO_IN);
  g_source_set_callback(w->source, (GSourceFunc)(void (*)(void))on_pidfd, w, NULL);
  g_source_attach(w->source, context);
  *ret_watch = w;
  return 0;
}

void qemu_process_watch_free(QemuProcessWatch *w) {
  if (!w)
    return;
  g_source_destroy(w->source);
  g_source_unref(w->source);
  close(w->pidfd);
  g_free(w);
}

int qemu_process_watch_kill(QemuProcessWatch *w, int sig) {
  if (pidfd_signal_compat(w->pidfd, sig) < 0)
    return -errno;
  return 0;
}

bool qemu_process_matches(pid_t pid, const char *needle) {
  g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, NULL))
    return false;
  for (gsize i = 0; i < len; i++)
    if (data[i] == '\0')
      data[i] = ' ';
  return strstr(data, needle) != NULL;
}

int64_t qemu_process_cpu_time_ns(pid_t pid) {
  g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
  g_autofree char *data = NULL;
  if (!g_file_get_contents(path, &data, NULL, NULL))
    return -ESRCH;
  /* fields after the command name, which is in parentheses and may hold
   * blanks: state is field 3, utime 14, stime 15 */
  const char *p = strrchr(data, ')');
  if (!p)
    return -EIO;
  g_auto(GStrv) f = g_strsplit(p + 2, " ", 0);
  if (g_strv_length(f) < 13)
    return -EIO;
  uint64_t ticks = g_ascii_strtoull(f[11], NULL, 10) + g_ascii_strtoull(f[12], NULL, 10);
  long hz = sysconf(_SC_CLK_TCK);
  return (int64_t)(ticks * (1000000000ULL / (uint64_t)hz));
}

int qemu_netdev_counters_parse(const char *text, const char *dev, QemuNetdevCounters *ret) {
  g_auto(GStrv) lines = g_strsplit(text, "\n", 0);
  for (guint i = 0; lines[i]; i++) {
    char *colon = strchr(lines[i], ':');
    if (!colon)
      continue;
    *colon = '\0';
    if (strcmp(g_strstrip(lines[i]), dev) != 0)
      continue;
    /* receive: bytes packets errs drop fifo frame compressed multicast,
     * then transmit: bytes packets errs drop ... */
    uint64_t v[16];
    const char *p = colon + 1;
    for (int k = 0; k < 16; k++) {
      while (*p == ' ' || *p == '\t')
        p++;
      char *end = NULL;
      if (!g_ascii_isdigit(*p))
        return -EIO;
      v[k] = g_ascii_strtoull(p, &end, 10);
      p = end;
    }
    *ret = (QemuNetdevCounters){
      .rx_bytes = v[0], .rx_packets = v[1], .rx_errors = v[2], .rx_drops = v[3],
      .tx_bytes = v[8], .tx_packets = v[9], .tx_errors = v[10], .tx_drops = v[11],
    };
    return 0;
  }
  return -ENOENT;
}

int qemu_netdev_counters(const char *dev, QemuNetdevCounters *ret) {
  g_autofree char *text = NULL;
  if (!g_file_get_contents("/proc/self/net/dev", &text, NULL, NULL))
    return -EIO;
  return qemu_netdev_counters_parse(text, dev, ret);
}
