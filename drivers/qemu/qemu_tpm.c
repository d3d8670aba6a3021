/* qemu_tpm.c — starting swtpm for a domain's <tpm> and keeping its state;
 * the rules are in qemu_tpm.h. */
#include "drivers/qemu/qemu_tpm.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/qemu/qemu_process.h"

const DomainXNode *qemu_tpm_device(const DomainDef *def) {
  for (guint i = 0; def->xdevices && i < def->xdevices->len; i++) {
    const DomainXNode *x = def->xdevices->pdata[i];
    if (strcmp(x->name, "tpm") == 0)
      return x;
  }
  return NULL;
}

bool qemu_tpm_is_tpm2(const DomainXNode *tpm) {
  const char *version = domain_xnode_attr(domain_xnode_child(tpm, "backend"), "version");
  return !version || strcmp(version, "2.0") == 0;
}

int qemu_tpm_swtpm_argv(const DomainDef *def, const char *binary, GStrv *ret_argv,
                        char **ret_error) {
  const DomainXNode *tpm = qemu_tpm_device(def);
  if (!tpm) {
    if (ret_error)
      *ret_error = g_strdup("the domain has no <tpm>");
    return -EINVAL;
  }
  GStrvBuilder *b = g_strv_builder_new();
  g_strv_builder_add_many(b, binary, "socket", NULL);
  if (qemu_tpm_is_tpm2(tpm))
    g_strv_builder_add(b, "--tpm2");
  g_autofree char *state = g_strdup_printf("dir=/proc/self/fd/%d,mode=0600", QEMU_TPM_STATE_FD);
  g_autofree char *ctrl = g_strdup_printf("type=unixio,fd=%d", QEMU_TPM_CTRL_FD);
  /* stdout is the log file (qemu_process_spawn) */
  g_strv_builder_add_many(b, "--tpmstate", state, "--ctrl", ctrl, "--log", "fd=1",
                          "--terminate", NULL);
  *ret_argv = g_strv_builder_end(b);
  g_strv_builder_unref(b);
  return 0;
}

static char *state_path(const char *state_dir, const char *uuid) {
  return g_build_filename(state_dir, "tpm", uuid, NULL);
}

static int listen_unix(const char *path, int *ret_fd, char **ret_error) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    *ret_error = g_strdup_printf("the TPM socket path %s is too long for a unix socket (use a "
                                 "shorter --run-dir)", path);
    return -ENAMETOOLONG;
  }
  strcpy(addr.sun_path, path);
  g_unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1) < 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    *ret_error = g_strdup_printf("cannot listen on %s: %s", path, g_strerror(e));
    return -e;
  }
  *ret_fd = fd;
  return 0;
}

int qemu_tpm_start(const DomainDef *def, const char *state_dir, const char *socket_path,
                   QemuTpm *tpm, char **ret_error) {
  g_auto(GStrv) argv = NULL;
  int r = qemu_tpm_swtpm_argv(def, QEMU_TPM_SWTPM_BINARY, &argv, ret_error);
  if (r < 0)
    return r;
  g_autofree char *dir = state_path(state_dir, def->uuid);
  g_autofree char *log_dir = g_build_filename(state_dir, "logs", "swtpm", NULL);
  if (g_mkdir_with_parents(dir, 0700) < 0 || g_chmod(dir, 0700) < 0 ||
      g_mkdir_with_parents(log_dir, 0700) < 0) {
    int e = errno;
    *ret_error = g_strdup_printf("cannot create the TPM state directory %s: %s", dir,
                                 g_strerror(e));
    return -e;
  }
  int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    int e = errno;
    *ret_error = g_strdup_printf("cannot open %s: %s", dir, g_strerror(e));
    return -e;
  }
  int sock_fd = -1;
  if ((r = listen_unix(socket_path, &sock_fd, ret_error)) < 0) {
    close(dir_fd);
    return r;
  }
  g_autofree char *file = g_strdup_printf("%s.log", def->name);
  g_autofree char *log_path = g_build_filename(log_dir, file, NULL);
  const QemuProcessFd fds[] = {{sock_fd, QEMU_TPM_CTRL_FD}, {dir_fd, QEMU_TPM_STATE_FD}};
  pid_t pid = 0;
  g_autofree char *error = NULL;
  r = qemu_process_spawn((const char *const *)argv, log_path, fds, G_N_ELEMENTS(fds), &pid,
                         &error);
  close(sock_fd);
  close(dir_fd);
  if (r < 0) {
    g_unlink(socket_path);
    *ret_error = r == -ENOENT ? g_strdup("<tpm> needs the TPM emulator swtpm, which is not "
                                        "installed (Debian package swtpm)")
                              : g_strdup_printf("cannot start swtpm: %s", error);
    return r;
  }
  tpm->pid = pid;
  tpm->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  tpm->socket_path = g_strdup(socket_path);
  return 0;
}

/* Reaps swtpm when it exits. It is our child, so nobody else would. */
static gboolean on_swtpm_exit(gint pidfd, GIOCondition cond, gpointer data) {
  siginfo_t info = {0};
  waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG);
  return G_SOURCE_REMOVE;
}

static void close_pidfd(gpointer data) {
  close(GPOINTER_TO_INT(data));
}

void qemu_tpm_release(QemuTpm *tpm, GMainContext *context) {
  if (tpm->socket_path)
    g_unlink(tpm->socket_path);
  g_clear_pointer(&tpm->socket_path, g_free);
  if (tpm->pidfd >= 0) {
    GSource *s = g_unix_fd_source_new(tpm->pidfd, G_IO_IN);
    g_source_set_callback(s, (GSourceFunc)(void (*)(void))on_swtpm_exit,
                          GINT_TO_POINTER(tpm->pidfd), close_pidfd);
    g_source_attach(s, context);
    g_source_unref(s);
  }
  tpm->pid = 0;
  tpm->pidfd = -1;
}

/* Waits up to `ms` for swtpm to exit; reaps it. */
static bool wait_exit(QemuTpm *tpm, int ms) {
  struct pollfd p = {.fd = tpm->pidfd, .events = POLLIN};
  if (poll(&p, 1, ms) <= 0)
    return false;
  siginfo_t info = {0};
  waitid(P_PIDFD, (id_t)tpm->pidfd, &info, WEXITED);
  return true;
}

void qemu_tpm_abort(QemuTpm *tpm) {
  if (!tpm)
    return;
  if (tpm->pidfd >= 0) {
    /* SIGTERM first: swtpm then writes its state out whole. */
    syscall(SYS_pidfd_send_signal, tpm->pidfd, SIGTERM, NULL, 0);
    if (!wait_exit(tpm, 1000)) {
      syscall(SYS_pidfd_send_signal, tpm->pidfd, SIGKILL, NULL, 0);
      wait_exit(tpm, -1);
    }
    close(tpm->pidfd);
  } else if (tpm->pid > 0) {
    kill(tpm->pid, SIGKILL);
    waitpid(tpm->pid, NULL, 0);
  }
  if (tpm->socket_path)
    g_unlink(tpm->socket_path);
  g_clear_pointer(&tpm->socket_path, g_free);
  tpm->pid = 0;
  tpm->pidfd = -1;
}

void qemu_tpm_remove_state(const char *state_dir, const char *uuid) {
  g_autofree char *dir = state_path(state_dir, uuid);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  /* swtpm keeps its files flat in the directory (tpm2-00.permall, .lock,
   * a saved volatile state) */
  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
}
