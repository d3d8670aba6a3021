/* qemu_agent.c — the QEMU guest agent's transport: requests to qemu-ga
 * over the unix socket of the domain's org.qemu.guest_agent.0 channel (see
 * qemu_argv_agent_channel), and the guest/ files built on them.
 *
 * Everything here runs on the calling FUSE worker thread with blocking
 * socket I/O bounded by poll(): nothing touches the daemon's main loop
 * (QMP and the console run there) except one query-chardev through the
 * domain's QMP client, which tells at once whether the guest has the port
 * open at all.
 *
 * One request at a time per domain (QemuDomain.agent_busy): the socket
 * carries one conversation, and a hung agent holds up only the readers of
 * its own guest/. Every request, the wait for that turn included, ends
 * within QEMU_AGENT_TIMEOUT_MS. The connection is made at the first
 * request of a run (also after a daemon restart: the socket lives in the
 * run dir, which reattach reads) and kept; after a timeout or a protocol
 * error it is closed, and the next request starts a fresh one.
 *
 * Each request begins with guest-sync-delimited and a fresh id: the agent
 * answers with 0xFF and the id, so whatever an abandoned earlier exchange
 * left in the stream is skipped. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "drivers/qemu/qemu_argv.h"
#include "drivers/qemu/qemu_driver_priv.h"
#include "drivers/qemu/qga_codec.h"
#include "drivers/qemu/qmp_codec.h"

/* A reply line longer than this is refused (a guest's whole interface
 * list is a few KiB). */
#define AGENT_LINE_MAX (1024 * 1024)

typedef struct {
  QemuDomain *dom;
  int64_t deadline; /* monotonic µs */
  const char *doing; /* the command under way, for sentences */
  bool refused;      /* the agent answered with an error: the stream is fine */
} AgentSession;

static int remaining_ms(const AgentSession *s) {
  int64_t left = s->deadline - g_get_monotonic_time();
  return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

static int timed_out(const AgentSession *s, char **ret_error) {
  *ret_error = g_strdup_printf("the guest agent did not answer '%s' within %d s (is qemu-ga "
                               "running and responsive in the guest?)",
                               s->doing, QEMU_AGENT_TIMEOUT_MS / 1000);
  return -ETIMEDOUT;
}

static int io_failed(const AgentSession *s, int err, char **ret_error) {
  *ret_error = g_strdup_printf("the guest agent's connection failed during '%s': %s", s->doing,
                               g_strerror(err));
  return -EIO;
}

/* Waits for `events` on the session's socket until the deadline. */
static int wait_fd(AgentSession *s, short events, char **ret_error) {
  struct pollfd p = {.fd = s->dom->agent_fd, .events = events};
  for (;;) {
    int ms = remaining_ms(s);
    if (ms == 0)
      return timed_out(s, ret_error);
    int n = poll(&p, 1, ms);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_failed(s, errno, ret_error);
    if (n > 0)
      return 0;
  }
}

static int send_line(AgentSession *s, const char *line, char **ret_error) {
  size_t len = strlen(line), done = 0;
  while (done < len) {
    int r = wait_fd(s, POLLOUT, ret_error);
    if (r < 0)
      return r;
    ssize_t n = send(s->dom->agent_fd, line + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0)
      return io_failed(s, errno, ret_error);
    done += (size_t)n;
  }
  return 0;
}

/* Appends what the socket has to dom->agent_buf, waiting until the deadline. */
static int receive(AgentSession *s, char **ret_error) {
  GString *buf = s->dom->agent_buf;
  if (buf->len > AGENT_LINE_MAX) {
    *ret_error = g_strdup_printf("the guest agent's reply to '%s' is longer than %d bytes",
                                 s->doing, AGENT_LINE_MAX);
    return -EPROTO;
  }
  for (;;) {
    int r = wait_fd(s, POLLIN, ret_error);
    if (r < 0)
      return r;
    char chunk[4096];
    ssize_t n = recv(s->dom->agent_fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0)
      return io_failed(s, errno, ret_error);
    if (n == 0)
      return io_failed(s, ECONNRESET, ret_error);
    g_string_append_len(buf, chunk, n);
    return 0;
  }
}

/* The next complete line of the buffer, parsed; blank lines are skipped. */
static int read_message(AgentSession *s, QmpMessage **ret_msg, char **ret_error) {
  GString *buf = s->dom->agent_buf;
  for (;;) {
    char *nl = memchr(buf->str, '\n', buf->len);
    if (nl) {
      size_t len = (size_t)(nl - buf->str) + 1;
      g_autofree char *line = g_strndup(buf->str, len);
      g_string_erase(buf, 0, (gssize)len);
      if (!*g_strstrip(line))
        continue;
      g_autofree char *why = NULL;
      if (qmp_message_parse(line, strlen(line), ret_msg, &why) < 0) {
        *ret_error = g_strdup_printf("the guest agent's reply to '%s' is not valid: %s", s->doing,
                                     why);
        return -EPROTO;
      }
      return 0;
    }
    int r = receive(s, ret_error);
    if (r < 0)
      return r;
  }
}

/* guest-sync-delimited with a fresh id; skips everything up to its 0xFF. */
static int sync_stream(AgentSession *s, char **ret_error) {
  int64_t id = g_random_int_range(1, G_MAXINT32);
  g_autoptr(JsonNode) args = qga_args_sync(id);
  g_autofree char *line = NULL;
  qmp_command_build(QGA_CMD_SYNC_DELIMITED, args, NULL, &line);
  s->doing = QGA_CMD_SYNC_DELIMITED;
  int r = send_line(s, line, ret_error);
  GString *buf = s->dom->agent_buf;
  while (r >= 0) {
    ssize_t after = qga_after_sync_marker(buf->str, buf->len);
    if (after >= 0 && memchr(buf->str + after, '\n', buf->len - (size_t)after)) {
      g_string_erase(buf, 0, after);
      g_autoptr(QmpMessage) msg = NULL;
      r = read_message(s, &msg, ret_error);
      if (r == 0 && msg->kind == QMP_MESSAGE_RETURN && qga_reply_check_sync(msg->value, id) == 0)
        return 0;
      continue; /* the answer to an older sync: wait for ours */
    }
    r = receive(s, ret_error);
  }
  return r;
}

static void disconnect(QemuDomain *dom) {
  if (dom->agent_fd >= 0)
    close(dom->agent_fd);
  dom->agent_fd = -1;
  g_string_truncate(dom->agent_buf, 0);
}

/* Is the agent's port open in the guest? From QEMU, without asking the
 * guest: query-chardev's frontend-open of charchannelN. */
static int port_open(QemuDomain *dom, unsigned idx, char **ret_error) {
  g_autoptr(JsonNode) value = NULL;
  g_autofree char *why = NULL;
  int r = qemu_qmp_sync(dom, "query-chardev", NULL, &value, &why);
  if (r < 0) {
    *ret_error = g_strdup_printf("cannot ask QEMU about the guest agent's channel: %s", why);
    return r;
  }
  g_autofree char *label = g_strdup_printf("charchannel%u", idx);
  JsonArray *a = JSON_NODE_HOLDS_ARRAY(value) ? json_node_get_array(value) : NULL;
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    JsonObject *o = json_node_get_object(e);
    if (g_strcmp0(json_object_get_string_member_with_default(o, "label", ""), label) != 0)
      continue;
    if (json_object_get_boolean_member_with_default(o, "frontend-open", FALSE))
      return 0;
    break;
  }
  *ret_error = g_strdup("the guest agent is not connected: nothing in the guest has opened "
                        "its port " QGA_CHANNEL_NAME " (is qemu-ga installed and running?)");
  return -ENOTCONN;
}

static int agent_connect(AgentSession *s, const char *path, char **ret_error) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    *ret_error = g_strdup_printf("the guest agent's socket path is longer than %zu bytes",
                                 sizeof sa.sun_path - 1);
    return -ENAMETOOLONG;
  }
  memcpy(sa.sun_path, path, strlen(path));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int err = errno;
    if (fd >= 0)
      close(fd);
    *ret_error = g_strdup_printf("cannot connect to the guest agent's socket %s: %s", path,
                                 g_strerror(err));
    return -err;
  }
  s->dom->agent_fd = fd;
  return 0;
}

/* Ends a request; a failed one (r < 0) drops the connection unless the
 * agent itself answered with an error (the stream is then in step). */
static void session_end(AgentSession *s, int r) {
  QemuDomain *dom = s->dom;
  if (r < 0 && !s->refused)
    disconnect(dom);
  g_mutex_lock(&dom->agent_lock);
  dom->agent_busy = false;
  g_cond_signal(&dom->agent_cond);
  g_mutex_unlock(&dom->agent_lock);
  qemu_domain_unref(dom);
  s->dom = NULL;
}

/* Starts a request: takes the domain's agent (waiting at most until the
 * deadline), checks that the guest opened the port, connects if needed
 * and syncs the stream. On success, session_end must follow. */
static int session_begin(QemuDriver *driver, Obj *obj, AgentSession *s, char **ret_error) {
  (void)driver;
  *s = (AgentSession){.deadline = g_get_monotonic_time() + QEMU_AGENT_TIMEOUT_MS * 1000LL,
                      .doing = QGA_CMD_SYNC_DELIMITED};
  QemuDomain *dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  unsigned idx = 0;
  g_autofree char *path = NULL;
  g_mutex_lock(&obj->lock);
  r = qemu_argv_agent_channel(dom->live_def, dom->dir, &idx, &path);
  g_mutex_unlock(&obj->lock);
  if (r < 0) {
    *ret_error = g_strdup("the domain has no guest agent channel (<channel type='unix'> with "
                          "<target type='virtio' name='" QGA_CHANNEL_NAME "'/>)");
    qemu_domain_unref(dom);
    return -ENOTCONN;
  }
  g_mutex_lock(&dom->agent_lock);
  while (dom->agent_busy) {
    if (!g_cond_wait_until(&dom->agent_cond, &dom->agent_lock, s->deadline) &&
        g_get_monotonic_time() >= s->deadline) {
      g_mutex_unlock(&dom->agent_lock);
      *ret_error = g_strdup_printf("the guest agent is busy with another request that did not "
                                   "end within %d s", QEMU_AGENT_TIMEOUT_MS / 1000);
      qemu_domain_unref(dom);
      return -ETIMEDOUT;
    }
  }
  dom->agent_busy = true;
  g_mutex_unlock(&dom->agent_lock);
  s->dom = dom;

  r = port_open(dom, idx, ret_error);
  if (r < 0)
    disconnect(dom); /* the guest closed it: what we had is stale */
  if (r >= 0 && dom->agent_fd < 0)
    r = agent_connect(s, path, ret_error);
  if (r >= 0)
    r = sync_stream(s, ret_error);
  if (r < 0)
    session_end(s, r);
  return r;
}

/* One command of a session. `no_reply`: the agent answers only on failure
 * (guest-shutdown), so the command counts as done once sent. */
static int session_run(AgentSession *s, const char *command, JsonNode *args, bool no_reply,
                       JsonNode **ret_value, char **ret_error) {
  g_autofree char *line = NULL;
  qmp_command_build(command, args, NULL, &line);
  s->doing = command;
  int r = send_line(s, line, ret_error);
  if (r < 0 || no_reply)
    return r;
  g_autoptr(QmpMessage) msg = NULL;
  r = read_message(s, &msg, ret_error);
  if (r < 0)
    return r;
  if (msg->kind == QMP_MESSAGE_ERROR) {
    s->refused = true;
    *ret_error = g_strdup_printf("the guest agent refused '%s': %s", command,
                                 msg->error_desc ? msg->error_desc : "no reason given");
    return -EIO;
  }
  if (msg->kind != QMP_MESSAGE_RETURN) {
    *ret_error = g_strdup_printf("the guest agent's reply to '%s' is not what the protocol says",
                                 command);
    return -EPROTO;
  }
  if (ret_value)
    *ret_value = qmp_message_steal_value(msg);
  return 0;
}

int qemu_agent_command(QemuDriver *driver, Obj *obj, const char *command, JsonNode *args,
                       bool no_reply, JsonNode **ret_value, char **ret_error) {
  AgentSession s;
  int r = session_begin(driver, obj, &s, ret_error);
  if (r < 0)
    return r;
  r = session_run(&s, command, args, no_reply, ret_value, ret_error);
  session_end(&s, r);
  return r;
}

int qemu_guest_read(QemuDriver *driver, Obj *obj, QemuGuestFile file, GString *out,
                    char **ret_error) {
  static const char *const first[] = {
    [QEMU_GUEST_STATE] = QGA_CMD_INFO,
    [QEMU_GUEST_ADDRESSES] = QGA_CMD_NETWORK_GET_INTERFACES,
    [QEMU_GUEST_OS] = QGA_CMD_GET_OSINFO,
    [QEMU_GUEST_USERS] = QGA_CMD_GET_USERS,
    [QEMU_GUEST_FILESYSTEMS] = QGA_CMD_GET_FSINFO,
    [QEMU_GUEST_TIME] = QGA_CMD_GET_TIME,
  };
  AgentSession s;
  g_autofree char *why = NULL;
  int r = session_begin(driver, obj, &s, &why);
  g_autoptr(JsonNode) value = NULL, second = NULL;
  if (r >= 0) {
    r = session_run(&s, first[file], NULL, false, &value, &why);
    if (r >= 0 && file == QEMU_GUEST_STATE)
      r = session_run(&s, QGA_CMD_FSFREEZE_STATUS, NULL, false, &second, &why);
    if (r >= 0 && file == QEMU_GUEST_OS)
      r = session_run(&s, QGA_CMD_GET_HOST_NAME, NULL, false, &second, &why);
    session_end(&s, r);
  }
  if (r < 0 && file == QEMU_GUEST_STATE) {
    /* state says why there is no agent rather than failing */
    g_string_append_printf(out, "connected: no\nreason: %s\n", why);
    return 0;
  }
  if (r < 0) {
    *ret_error = g_steal_pointer(&why);
    return r;
  }
  switch (file) {
  case QEMU_GUEST_STATE: return qga_render_state(value, second, out, ret_error);
  case QEMU_GUEST_ADDRESSES: return qga_render_addresses(value, out, ret_error);
  case QEMU_GUEST_OS: return qga_render_os(value, second, out, ret_error);
  case QEMU_GUEST_USERS: return qga_render_users(value, out, ret_error);
  case QEMU_GUEST_FILESYSTEMS: return qga_render_filesystems(value, out, ret_error);
  case QEMU_GUEST_TIME: return qga_render_time(value, out, ret_error);
  }
  return -EINVAL;
}

int qemu_guest_ctl(QemuDriver *driver, Obj *obj, const char *line, char **ret_error) {
  g_autofree char *verb = g_strdup(line);
  char *password = strchr(verb, '\n');
  if (password)
    *password++ = '\0';
  g_auto(QgaCtl) ctl = {0};
  int r = qga_ctl_parse(verb, &ctl, ret_error);
  if (r >= 0 && ctl.await_password_for && (!password || !*password)) {
    *ret_error = g_strdup("set-password: the password must follow on the next line");
    r = -EINVAL;
  } else if (r >= 0 && !ctl.await_password_for && password) {
    *ret_error = g_strdup("guest/ctl: one verb per line");
    r = -EINVAL;
  } else if (r >= 0 && ctl.await_password_for) {
    ctl.args = qga_args_set_password(ctl.await_password_for, password);
  }
  if (r >= 0) {
    bool no_reply = strcmp(ctl.command, QGA_CMD_SHUTDOWN) == 0;
    r = qemu_agent_command(driver, obj, ctl.command, ctl.args, no_reply, NULL, ret_error);
  }
  if (password)
    explicit_bzero(password, strlen(password));
  return r;
}
