/* dnsmasq.c — dnsmasq's config and leases (pure) and its process (spawn,
 * find, stop, watch); see dnsmasq.h for the model. */
#include "drivers/bridge/dnsmasq.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"

/* ---- config (pure) ---- */

/* dnsmasq's config reader turns blanks into separators, starts a comment at
 * a '#' after a blank and processes quotes and backslashes, so any value
 * with such characters is written quoted with '"' and '\' escaped. Our own
 * values (addresses, names checked by the parser) never need it; paths may,
 * since network names may contain spaces. */
static void append_value(GString *s, const char *v) {
  bool plain = *v != '\0';
  for (const char *p = v; *p; p++)
    if (g_ascii_isspace(*p) || *p == '#' || *p == '"' || *p == '\\' || *p == ',' || *p == '\'')
      plain = false;
  if (plain) {
    g_string_append(s, v);
    return;
  }
  g_string_append_c(s, '"');
  for (const char *p = v; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(s, '\\');
    g_string_append_c(s, *p);
  }
  g_string_append_c(s, '"');
}

static void opt(GString *s, const char *name, const char *value) {
  g_string_append(s, name);
  if (value) {
    g_string_append_c(s, '=');
    append_value(s, value);
  }
  g_string_append_c(s, '\n');
}

static void dhcp_ip(GString *s, const NetworkIp *ip, uint64_t *lease_max) {
  char a[NETWORK_ADDR_STRLEN], b[NETWORK_ADDR_STRLEN];
  bool v6 = ip->address.family == AF_INET6;
  NetworkAddr mask = network_addr_netmask(ip->prefix);
  g_autofree char *suffix = v6 ? g_strdup_printf("%u", ip->prefix)
                               : g_strdup(network_addr_format(&mask, a));
  for (guint i = 0; i < ip->ranges->len; i++) {
    const NetworkDhcpRange *r = ip->ranges->pdata[i];
    g_string_append_printf(s, "dhcp-range=%s,%s,%s\n", network_addr_format(&r->start, a),
                           network_addr_format(&r->end, b), suffix);
    uint64_t n = network_addr_range_size(&r->start, &r->end);
    *lease_max = n > UINT64_MAX - *lease_max ? UINT64_MAX : *lease_max + n;
  }
  NetworkAddr net = network_addr_mask(&ip->address, ip->prefix);
  if (!ip->ranges->len && ip->hosts->len)
    /* Static hosts only: serve them, hand out nothing else. */
    g_string_append_printf(s, "dhcp-range=%s,static,%s\n", network_addr_format(&net, a), suffix);
  if (v6 && !ip->ranges->len && !ip->hosts->len)
    /* No DHCPv6: router advertisements only, guests use SLAAC. */
    g_string_append_printf(s, "dhcp-range=%s,ra-only,%s\n", network_addr_format(&net, a), suffix);
  *lease_max += ip->hosts->len;
}

static void dhcp_hosts(GString *s, const NetworkIp *ip) {
  char a[NETWORK_ADDR_STRLEN];
  for (guint i = 0; i < ip->hosts->len; i++) {
    const NetworkDhcpHost *h = ip->hosts->pdata[i];
    g_string_append(s, "dhcp-host=");
    if (h->mac[0])
      g_string_append_printf(s, "%s,", h->mac);
    if (ip->address.family == AF_INET6) {
      g_string_append_printf(s, "%s,[%s]\n", h->name, network_addr_format(&h->ip, a));
      continue;
    }
    if (!h->mac[0])
      g_string_append_printf(s, "%s,", h->name);
    g_string_append(s, network_addr_format(&h->ip, a));
    if (h->mac[0] && h->name)
      g_string_append_printf(s, ",%s", h->name);
    g_string_append_c(s, '\n');
  }
}

char *dnsmasq_build_config(const NetworkDef *def, const DnsmasqConfigOptions *opts) {
  GString *s = g_string_new(NULL);
  char a[NETWORK_ADDR_STRLEN];
  g_string_append_printf(s, "# dnsmasq for virtfs network '%s', rewritten at every start.\n"
                         "# This file is the whole configuration (--conf-file).\n", def->name);
  opt(s, "strict-order", NULL);
  opt(s, "pid-file", opts->pid_path);
  opt(s, "except-interface", "lo");
  opt(s, "bind-dynamic", NULL);
  opt(s, "interface", def->bridge);
  opt(s, "no-hosts", NULL);
  opt(s, "log-facility", "-");
  if (opts->user)
    opt(s, "user", opts->user);

  /* DNS */
  if (!def->dns_enabled) {
    opt(s, "port", "0");
  } else {
    if (def->dns_forward_plain_names == NETWORK_TRISTATE_NO) {
      /* <dns forwardPlainNames='no'>: a name without a dot is answered
       * here or not at all, as libvirt configures it. */
      opt(s, "domain-needed", NULL);
      opt(s, "local", "//");
    }
    if (def->domain) {
      opt(s, "domain", def->domain);
      if (def->domain_local_only) {
        g_autofree char *local = g_strdup_printf("/%s/", def->domain);
        opt(s, "local", local);
      }
      opt(s, "expand-hosts", NULL);
    }
    bool explicit_upstream = false;
    for (guint i = 0; i < def->dns_forwarders->len; i++) {
      const NetworkDnsForwarder *f = def->dns_forwarders->pdata[i];
      if (f->addr.family && !f->domain)
        explicit_upstream = true;
    }
    if (explicit_upstream || def->forward == NETWORK_FORWARD_NONE ||
        (opts->resolv_file && !*opts->resolv_file))
      opt(s, "no-resolv", NULL);
    else if (opts->resolv_file)
      opt(s, "resolv-file", opts->resolv_file);
    for (guint i = 0; i < def->dns_forwarders->len; i++) {
      const NetworkDnsForwarder *f = def->dns_forwarders->pdata[i];
      g_string_append(s, "server=");
      if (f->domain)
        g_string_append_printf(s, "/%s/", f->domain);
      if (f->addr.family)
        g_string_append(s, network_addr_format(&f->addr, a));
      g_string_append_c(s, '\n');
    }
    for (guint i = 0; i < def->dns_hosts->len; i++) {
      const NetworkDnsHost *h = def->dns_hosts->pdata[i];
      g_string_append(s, "host-record=");
      for (guint j = 0; j < h->hostnames->len; j++)
        g_string_append_printf(s, "%s,", (const char *)h->hostnames->pdata[j]);
      g_string_append_printf(s, "%s\n", network_addr_format(&h->ip, a));
    }
    for (guint i = 0; i < def->dns_txts->len; i++) {
      const NetworkDnsTxt *t = def->dns_txts->pdata[i];
      /* Always quoted: the value may hold blanks and commas. */
      g_string_append_printf(s, "txt-record=%s,\"%s\"\n", t->name, t->value);
    }
    for (guint i = 0; i < def->dns_srvs->len; i++) {
      const NetworkDnsSrv *v = def->dns_srvs->pdata[i];
      g_string_append_printf(s, "srv-host=_%s._%s", v->service, v->protocol);
      if (v->domain)
        g_string_append_printf(s, ".%s", v->domain);
      if (v->target)
        g_string_append_printf(s, ",%s", v->target);
      if (v->port_set)
        g_string_append_printf(s, ",%u", v->port);
      if (v->priority_set)
        g_string_append_printf(s, ",%u", v->priority);
      if (v->weight_set)
        g_string_append_printf(s, ",%u", v->weight);
      g_string_append_c(s, '\n');
    }
  }

  /* DHCP: every <ip> with ranges or hosts is served (dnsmasq matches a
   * range to the bridge address of its subnet); every IPv6 <ip> gets router
   * advertisements. */
  bool dhcp4 = false, dhcp6 = false;
  uint64_t lease_max = 0;
  for (guint i = 0; i < def->ips->len; i++) {
    const NetworkIp *ip = def->ips->pdata[i];
    bool v6 = ip->address.family == AF_INET6;
    bool dhcp = ip->ranges->len || ip->hosts->len;
    if (v6)
      dhcp6 = dhcp6 || dhcp;
    else
      dhcp4 = dhcp4 || dhcp;
  }
  if (network_def_first_ip(def, AF_INET6))
    opt(s, "enable-ra", NULL);
  for (guint i = 0; i < def->ips->len; i++) {
    const NetworkIp *ip = def->ips->pdata[i];
    if (ip->address.family == AF_INET6 || ip->ranges->len || ip->hosts->len)
      dhcp_ip(s, ip, &lease_max);
  }
  if (dhcp4 || dhcp6) {
    opt(s, "dhcp-no-override", NULL);
    opt(s, "dhcp-authoritative", NULL);
    /* dnsmasq's default of 1000 would refuse guests on a big range. */
    if (lease_max > 1000000)
      lease_max = 1000000;
    g_string_append_printf(s, "dhcp-lease-max=%" G_GUINT64_FORMAT "\n", lease_max);
    opt(s, "dhcp-leasefile", opts->lease_path);
    for (guint i = 0; i < def->ips->len; i++)
      dhcp_hosts(s, def->ips->pdata[i]);
    if (def->mtu && dhcp4)
      g_string_append_printf(s, "dhcp-option=option:mtu,%u\n", def->mtu);
  }
  return g_string_free(s, FALSE);
}

/* ---- leases (pure) ---- */

void dnsmasq_lease_free(DnsmasqLease *lease) {
  if (!lease)
    return;
  g_free(lease->hostname);
  g_free(lease->client_id);
  g_free(lease);
}

static bool parse_int64(const char *s, int64_t *ret) {
  if (!*s)
    return false;
  int64_t v = 0;
  for (; *s; s++) {
    if (!g_ascii_isdigit(*s) || v > (INT64_MAX - 9) / 10)
      return false;
    v = v * 10 + (*s - '0');
  }
  *ret = v;
  return true;
}

static bool printable(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x21 || (unsigned char)*s == 0x7f)
      return false;
  return true;
}

static DnsmasqLease *parse_lease_line(const char *line) {
  g_auto(GStrv) f = g_strsplit_set(line, " \t", -1);
  const char *fields[5];
  guint n = 0;
  for (guint i = 0; f[i]; i++) {
    if (!*f[i])
      continue;
    if (n == 5)
      return NULL;
    fields[n++] = f[i];
  }
  if (n != 5)
    return NULL;
  g_autoptr(DnsmasqLease) l = g_new0(DnsmasqLease, 1);
  if (!parse_int64(fields[0], &l->expiry) || network_addr_parse(fields[2], &l->ip) < 0)
    return NULL;
  if (l->ip.family == AF_INET) {
    /* dnsmasq writes the hardware address as it got it; Ethernet is six
     * pairs, other types are longer and not ours. */
    if (network_mac_parse(fields[1], l->mac) < 0)
      return NULL;
  } else {
    int64_t iaid;
    if (!parse_int64(fields[1], &iaid) || iaid > UINT32_MAX)
      return NULL;
    l->iaid = (uint32_t)iaid;
  }
  if (!printable(fields[3]) || !printable(fields[4]))
    return NULL;
  if (strcmp(fields[3], "*") != 0)
    l->hostname = g_strdup(fields[3]);
  if (strcmp(fields[4], "*") != 0)
    l->client_id = g_strdup(fields[4]);
  return g_steal_pointer(&l);
}

GPtrArray *dnsmasq_parse_leases(const char *text, size_t len, unsigned *ret_skipped) {
  GPtrArray *leases = g_ptr_array_new_with_free_func((GDestroyNotify)dnsmasq_lease_free);
  unsigned skipped = 0;
  size_t pos = 0;
  while (pos < len) {
    const char *start = text + pos;
    const char *nl = memchr(start, '\n', len - pos);
    size_t line_len = nl ? (size_t)(nl - start) : len - pos;
    pos += line_len + (nl ? 1 : 0);
    g_autofree char *line = g_strndup(start, line_len);
    /* A NUL inside the line shortens it: then it is not what dnsmasq wrote. */
    if (strlen(line) != line_len) {
      skipped++;
      continue;
    }
    g_strstrip(line);
    if (!*line || g_str_has_prefix(line, "duid "))
      continue;
    DnsmasqLease *l = parse_lease_line(line);
    if (l)
      g_ptr_array_add(leases, l);
    else
      skipped++;
  }
  if (ret_skipped)
    *ret_skipped = skipped;
  return leases;
}

/* ---- process ---- */

int dnsmasq_exit_status_to_errno(int status) {
  if (WIFSIGNALED(status))
    return -EINTR;
  if (!WIFEXITED(status))
    return -EIO;
  switch (WEXITSTATUS(status)) {
  case 0: return 0;
  case 1: return -EINVAL;
  case 2: return -EADDRINUSE;
  case 3: return -EIO;
  case 4: return -ENOMEM;
  default: return -EIO;
  }
}

static int pidfd_open_compat(pid_t pid) {
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

char *dnsmasq_find_program(const char *binary) {
  if (!binary)
    binary = VIRTFS_DNSMASQ_BINARY;
  if (strchr(binary, '/'))
    return g_file_test(binary, G_FILE_TEST_IS_EXECUTABLE) ? g_strdup(binary) : NULL;
  char *p = g_find_program_in_path(binary);
  if (p)
    return p;
  /* Daemons started with a user's PATH may lack the sbin directories. */
  for (const char *const *dir = (const char *const[]){"/usr/sbin", "/sbin", NULL}; *dir; dir++) {
    g_autofree char *c = g_build_filename(*dir, binary, NULL);
    if (g_file_test(c, G_FILE_TEST_IS_EXECUTABLE))
      return g_steal_pointer(&c);
  }
  return NULL;
}

static bool read_pid_file(const char *path, pid_t *ret_pid) {
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return false;
  g_strstrip(text);
  int64_t v;
  if (!parse_int64(text, &v) || v <= 1 || v > INT32_MAX)
    return false;
  *ret_pid = (pid_t)v;
  return true;
}

/* Whether process `pid` is a dnsmasq given our config file. */
static bool is_our_dnsmasq(pid_t pid, const char *conf_path) {
  g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
  g_autofree char *cmdline = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &cmdline, &len, NULL))
    return false;
  g_autofree char *want = g_strdup_printf("--conf-file=%s", conf_path);
  for (gsize i = 0; i < len; i += strlen(cmdline + i) + 1)
    if (strcmp(cmdline + i, want) == 0)
      return true;
  return false;
}

static char *log_tail(const char *log_path) {
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!log_path || !g_file_get_contents(log_path, &text, &len, NULL) || len == 0)
    return g_strdup("no output");
  g_strstrip(text);
  /* The last three lines say why it stopped. */
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint n = g_strv_length(lines);
  guint first = n > 3 ? n - 3 : 0;
  return g_strjoinv("; ", lines + first);
}

static void child_setup(gpointer data) {
  /* Its own session: a signal to the daemon's process group or terminal
   * does not reach it, and it outlives the daemon. */
  setsid();
  /* The signal mask and ignored signals survive exec: a FUSE worker thread
   * blocks every signal and the daemon ignores SIGPIPE, and a dnsmasq
   * born with SIGTERM blocked would only go with SIGKILL, seconds later. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
}

/* Reaps `pid` if it is our child; returns its wait status or -1. */
static int reap(int pidfd) {
  siginfo_t info = {0};
  if (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0)
    return -1;
  if (info.si_code == CLD_EXITED)
    return W_EXITCODE(info.si_status, 0);
  return info.si_status & 0x7f;
}

#define SPAWN_TIMEOUT_MS 5000

int dnsmasq_spawn(const DnsmasqFiles *files, pid_t *ret_pid, int *ret_pidfd, char **ret_error) {
  g_autofree char *binary = dnsmasq_find_program(files->binary);
  if (!binary) {
    *ret_error = g_strdup_printf("dnsmasq ('%s') was not found",
                                 files->binary ? files->binary : VIRTFS_DNSMASQ_BINARY);
    return -ENOENT;
  }
  unlink(files->pid_path);
  int logfd = open(files->log_path ? files->log_path : "/dev/null",
                   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0640);
  if (logfd < 0) {
    int e = errno;
    *ret_error = g_strdup_printf("cannot open dnsmasq's log %s: %s", files->log_path,
                                 g_strerror(e));
    return -e;
  }
  /* Watch the pid file's directory before dnsmasq can write the file. */
  g_autofree char *dir = g_path_get_dirname(files->pid_path);
  int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (ifd < 0 || inotify_add_watch(ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    int e = errno;
    if (ifd >= 0)
      close(ifd);
    close(logfd);
    *ret_error = g_strdup_printf("cannot watch %s: %s", dir, g_strerror(e));
    return -e;
  }
  g_autofree char *conf_arg = g_strdup_printf("--conf-file=%s", files->conf_path);
  char *argv[] = {binary, conf_arg, (char *)"--keep-in-foreground", NULL};
  char *envp[] = {NULL};
  GPid pid = 0;
  g_autoptr(GError) gerr = NULL;
  gboolean ok = g_spawn_async_with_fds(NULL, argv, envp,
                                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                       child_setup, NULL, &pid, -1, logfd, logfd, &gerr);
  close(logfd);
  if (!ok) {
    close(ifd);
    *ret_error = g_strdup_printf("cannot run %s: %s", binary, gerr->message);
    return -EIO;
  }
  int pidfd = pidfd_open_compat(pid);
  if (pidfd < 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(ifd);
    *ret_error = g_strdup_printf("pidfd_open: %s", g_strerror(e));
    return -e;
  }

  int r = -ETIMEDOUT;
  gint64 deadline = g_get_monotonic_time() + SPAWN_TIMEOUT_MS * 1000;
  for (;;) {
    pid_t written = 0;
    if (read_pid_file(files->pid_path, &written) && written == pid) {
      r = 0;
      break;
    }
    struct pollfd fds[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = ifd, .events = POLLIN}};
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;
    if (left <= 0)
      break;
    int n = poll(fds, 2, (int)left);
    if (n < 0 && errno != EINTR) {
      r = -errno;
      break;
    }
    if (fds[0].revents) {
      /* It exited before serving: say why. */
      int status = reap(pidfd);
      r = dnsmasq_exit_status_to_errno(status < 0 ? W_EXITCODE(5, 0) : status);
      if (r == 0)
        r = -EIO;
      break;
    }
    if (fds[1].revents) {
      char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
      while (read(ifd, buf, sizeof(buf)) > 0)
        ; /* drained; the pid file is checked at the top of the loop */
    }
  }
  close(ifd);
  if (r < 0) {
    if (r == -ETIMEDOUT || r == -EINTR) {
      pidfd_signal(pidfd, SIGKILL);
      struct pollfd p = {.fd = pidfd, .events = POLLIN};
      poll(&p, 1, 1000);
      reap(pidfd);
    }
    close(pidfd);
    g_autofree char *tail = log_tail(files->log_path);
    *ret_error = r == -ETIMEDOUT
        ? g_strdup_printf("dnsmasq did not start within %d ms: %s", SPAWN_TIMEOUT_MS, tail)
        : g_strdup_printf("dnsmasq failed to start: %s", tail);
    return r;
  }
  *ret_pid = pid;
  if (ret_pidfd)
    *ret_pidfd = pidfd;
  else
    close(pidfd);
  return 0;
}

int dnsmasq_find(const DnsmasqFiles *files, pid_t *ret_pid, int *ret_pidfd) {
  pid_t pid = 0;
  if (!read_pid_file(files->pid_path, &pid))
    return -ESRCH;
  /* Open the pidfd first: once it is ours, checking the command line makes
   * sure it refers to our dnsmasq and not to a process that reused the pid. */
  int pidfd = pidfd_open_compat(pid);
  if (pidfd < 0)
    return -ESRCH;
  if (!is_our_dnsmasq(pid, files->conf_path)) {
    /* A dead child of ours has no command line left: reap the zombie. */
    reap(pidfd);
    close(pidfd);
    return -ESRCH;
  }
  /* A zombie child of ours has a cmdline no more; a live one counts. */
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  if (poll(&p, 1, 0) == 1) {
    reap(pidfd);
    close(pidfd);
    return -ESRCH;
  }
  *ret_pid = pid;
  if (ret_pidfd)
    *ret_pidfd = pidfd;
  else
    close(pidfd);
  return 0;
}

/* Waits up to `ms` for the process behind pidfd to exit. */
static bool wait_exit(int pidfd, int ms) {
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
  for (;;) {
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;
    int n = poll(&p, 1, left > 0 ? (int)left : 0);
    if (n == 1)
      return true;
    if (n == 0 || (n < 0 && errno != EINTR))
      return false;
  }
}

int dnsmasq_stop(const DnsmasqFiles *files) {
  pid_t pid = 0;
  int pidfd = -1;
  if (dnsmasq_find(files, &pid, &pidfd) == 0) {
    pidfd_signal(pidfd, SIGTERM);
    if (!wait_exit(pidfd, 2000)) {
      pidfd_signal(pidfd, SIGKILL);
      wait_exit(pidfd, 2000);
    }
    reap(pidfd);
    close(pidfd);
  }
  /* dnsmasq may have dropped the rights to remove it. */
  if (unlink(files->pid_path) < 0 && errno != ENOENT)
    return -errno;
  return 0;
}

/* ---- watch ---- */

#define CRASH_WINDOW_US (30 * G_USEC_PER_SEC)
#define CRASH_LIMIT 5

struct DnsmasqWatch {
  GMutex lock;             /* guards everything below */
  bool cancelled;
  char *binary, *conf_path, *pid_path, *log_path;
  GMainContext *ctx;
  GSource *source;         /* follows pidfd */
  int pidfd;
  pid_t pid;
  gint64 exits[CRASH_LIMIT]; /* monotonic times of the last exits, ring */
  unsigned nexits;
  DnsmasqWatchFunc fn;
  void *userdata;
  GDestroyNotify destroy;
};

static void watch_finalize(DnsmasqWatch *w) {
  if (w->destroy)
    w->destroy(w->userdata);
  if (w->pidfd >= 0)
    close(w->pidfd);
  g_free(w->binary);
  g_free(w->conf_path);
  g_free(w->pid_path);
  g_free(w->log_path);
  if (w->ctx)
    g_main_context_unref(w->ctx);
  g_mutex_clear(&w->lock);
}

static DnsmasqWatch *watch_ref(DnsmasqWatch *w) {
  return g_atomic_rc_box_acquire(w);
}

static void watch_unref(DnsmasqWatch *w) {
  g_atomic_rc_box_release_full(w, (GDestroyNotify)watch_finalize);
}

static DnsmasqFiles watch_files(const DnsmasqWatch *w) {
  return (DnsmasqFiles){.binary = w->binary, .conf_path = w->conf_path,
                        .pid_path = w->pid_path, .log_path = w->log_path};
}

static gboolean watch_on_exit(gint fd, GIOCondition cond, gpointer data);

/* Attaches a source for w->pidfd. Called with the lock held. */
static void watch_attach(DnsmasqWatch *w) {
  w->source = g_unix_fd_source_new(w->pidfd, G_IO_IN);
  g_source_set_callback(w->source, G_SOURCE_FUNC(watch_on_exit), watch_ref(w),
                        (GDestroyNotify)watch_unref);
  g_source_attach(w->source, w->ctx);
}

static gboolean watch_on_exit(gint fd, GIOCondition cond, gpointer data) {
  DnsmasqWatch *w = data;
  DnsmasqWatchEvent event = DNSMASQ_WATCH_RESTARTED;
  g_autofree char *error = NULL;
  pid_t new_pid = 0;

  g_mutex_lock(&w->lock);
  if (w->cancelled || fd != w->pidfd) {
    g_mutex_unlock(&w->lock);
    return G_SOURCE_REMOVE;
  }
  int status = reap(w->pidfd);
  close(w->pidfd);
  w->pidfd = -1;
  g_source_unref(w->source);
  w->source = NULL;

  gint64 now = g_get_monotonic_time();
  w->exits[w->nexits++ % CRASH_LIMIT] = now;
  bool crash_loop = w->nexits >= CRASH_LIMIT &&
                    now - w->exits[w->nexits % CRASH_LIMIT] < CRASH_WINDOW_US;
  if (crash_loop) {
    g_autofree char *tail = log_tail(w->log_path);
    error = g_strdup_printf("dnsmasq exited %d times within %d s; not restarting it: %s",
                            CRASH_LIMIT, (int)(CRASH_WINDOW_US / G_USEC_PER_SEC), tail);
    event = DNSMASQ_WATCH_FAILED;
    w->pid = 0;
  } else {
    DnsmasqFiles files = watch_files(w);
    int pidfd = -1;
    if (dnsmasq_spawn(&files, &new_pid, &pidfd, &error) < 0) {
      event = DNSMASQ_WATCH_FAILED;
      w->pid = 0;
    } else {
      w->pid = new_pid;
      w->pidfd = pidfd;
      watch_attach(w);
    }
  }
  (void)status;
  g_mutex_unlock(&w->lock);

  /* Outside the lock: the callback may take the daemon's locks, and the
   * daemon may free the watch while holding them. */
  if (w->fn)
    w->fn(event, new_pid, error, w->userdata);
  return G_SOURCE_REMOVE;
}

int dnsmasq_watch_new(const DnsmasqFiles *files, GMainContext *ctx, DnsmasqWatchFunc fn,
                      void *userdata, GDestroyNotify destroy, DnsmasqWatch **ret_watch) {
  pid_t pid = 0;
  int pidfd = -1;
  int r = dnsmasq_find(files, &pid, &pidfd);
  if (r < 0)
    return r;
  DnsmasqWatch *w = g_atomic_rc_box_new0(DnsmasqWatch);
  g_mutex_init(&w->lock);
  w->binary = g_strdup(files->binary);
  w->conf_path = g_strdup(files->conf_path);
  w->pid_path = g_strdup(files->pid_path);
  w->log_path = g_strdup(files->log_path);
  w->ctx = ctx ? g_main_context_ref(ctx) : g_main_context_ref(g_main_context_default());
  w->pid = pid;
  w->pidfd = pidfd;
  w->fn = fn;
  w->userdata = userdata;
  w->destroy = destroy;
  g_mutex_lock(&w->lock);
  watch_attach(w);
  g_mutex_unlock(&w->lock);
  *ret_watch = w;
  return 0;
}

void dnsmasq_watch_free(DnsmasqWatch *w) {
  if (!w)
    return;
  g_mutex_lock(&w->lock);
  w->cancelled = true;
  if (w->source) {
    g_source_destroy(w->source);
    g_source_unref(w->source);
    w->source = NULL;
  }
  g_mutex_unlock(&w->lock);
  watch_unref(w);
}

pid_t dnsmasq_watch_pid(DnsmasqWatch *w) {
  g_mutex_lock(&w->lock);
  pid_t pid = w->pid;
  g_mutex_unlock(&w->lock);
  return pid;
}
