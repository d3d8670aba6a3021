/* qmp_client.c — a QMP connection on a GLib main loop; see qmp_client.h.
 *
 * Shape: a state machine (connecting, greeting, negotiating, ready,
 * closed) driven by sources attached to the client's context: a start idle,
 * a connect-retry timer, a readiness deadline, the socket's input and
 * output watches, and one timer per command with a timeout. Every source is
 * destroyed when the state becomes closed, and the open connection holds a
 * reference on the client, so no source ever runs on freed memory and the
 * last reference can be dropped from any thread.
 *
 * Commands are matched to replies by id ("virtfs-N"). QEMU answers in
 * order, but ids make timed-out commands harmless: their late reply finds no
 * pending entry and is dropped.
 *
 * Lock order: the client's `lock` only guards the published state (for
 * other threads) and is never held while calling out; a SyncCall's lock
 * guards its result. Neither is held while the other is taken. */
#define G_LOG_DOMAIN "virtfs-qmp"

#include "drivers/qemu/qmp_client.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define QMP_READ_CHUNK (64 * 1024)
#define QMP_RETRY_FIRST_MS 5
#define QMP_RETRY_MAX_MS 100
/* How long a synchronous caller waits beyond the command's own timeout in
 * case the loop thread does not run at all. */
#define QMP_SYNC_GRACE_MS 1000

typedef enum {
  CLIENT_CONNECTING,
  CLIENT_GREETING,
  CLIENT_NEGOTIATING,
  CLIENT_READY,
  CLIENT_CLOSED,
} ClientState;

typedef struct {
  QmpClient *client; /* borrowed: pendings die before the connection */
  char *id;
  char *command;
  char *text; /* NULL once written to the output buffer */
  GSource *timer;
  int timeout_ms;
  QmpCommandFunc callback;
  gpointer user_data;
  int fd; /* passed to QEMU with the command (SCM_RIGHTS), owned; -1: none */
} Pending;

/* A descriptor to send along with the byte at `offset` of the output. */
typedef struct {
  size_t offset;
  int fd;
} OutFd;

struct QmpClient;
static void out_fds_clear(struct QmpClient *c);

struct QmpClient {
  gatomicrefcount ref;
  GMainContext *context;
  char *socket_path;
  int connect_timeout_ms;
  QmpClientCallbacks callbacks;
  gint next_id; /* atomic: ids are made on any thread */

  /* Loop thread only. */
  ClientState state;
  int fd;
  GSource *start_source, *retry_source, *deadline_source;
  GSource *connect_source, *in_source, *out_source;
  int retry_delay_ms;
  int last_connect_errno;
  GByteArray *inbuf;
  size_t scan_pos; /* inbuf bytes already searched for '\n' */
  GString *outbuf;
  size_t out_pos;
  GQueue out_fds; /* OutFd*, by offset */
  GHashTable *pending; /* id -> Pending*, owned here */
  GQueue waiting;      /* Pending* submitted before ready, in order */

  /* Guarded by lock: what other threads may read. */
  GMutex lock;
  GCond cond;
  ClientState pub_state;
  int pub_error;
  char *pub_error_sentence;
  bool have_version;
  QmpVersion version;
};

static void client_shutdown(QmpClient *c, int error, const char *sentence, bool by_owner);

static void source_clear(GSource **s) {
  if (*s) {
    g_source_destroy(*s);
    g_source_unref(*s);
    *s = NULL;
  }
}

static GSource *attach(QmpClient *c, GSource *s, GSourceFunc fn, gpointer data) {
  g_source_set_callback(s, fn, data, NULL);
  g_source_attach(s, c->context);
  return s;
}

static GSource *attach_fd(QmpClient *c, GIOCondition cond, GUnixFDSourceFunc fn) {
  return attach(c, g_unix_fd_source_new(c->fd, cond), (GSourceFunc)(void (*)(void))fn, c);
}

static void publish(QmpClient *c, ClientState st, int error, const char *sentence) {
  g_mutex_lock(&c->lock);
  c->pub_state = st;
  if (error < 0) {
    c->pub_error = error;
    g_free(c->pub_error_sentence);
    c->pub_error_sentence = g_strdup(sentence);
  }
  g_cond_broadcast(&c->cond);
  g_mutex_unlock(&c->lock);
}

/* The sentence for a call on a closed client (-ENOTCONN). */
static int closed_error(QmpClient *c, const char *command, char **ret_error) {
  if (ret_error) {
    g_mutex_lock(&c->lock);
    *ret_error = g_strdup_printf("cannot send '%s': the QMP connection is closed (%s)",
                                 command,
                                 c->pub_error_sentence ? c->pub_error_sentence : "closed");
    g_mutex_unlock(&c->lock);
  }
  return -ENOTCONN;
}

/* ---- reference counting ---- */

QmpClient *qmp_client_ref(QmpClient *c) {
  g_return_val_if_fail(c, NULL);
  g_atomic_ref_count_inc(&c->ref);
  return c;
}

static void client_finalize(QmpClient *c) {
  /* Closed for sure: an open connection holds a reference. */
  g_hash_table_unref(c->pending);
  g_byte_array_unref(c->inbuf);
  out_fds_clear(c);
  g_string_free(c->outbuf, TRUE);
  g_free(c->socket_path);
  g_free(c->pub_error_sentence);
  g_mutex_clear(&c->lock);
  g_cond_clear(&c->cond);
  g_main_context_unref(c->context);
  g_free(c);
}

void qmp_client_unref(QmpClient *c) {
  if (c && g_atomic_ref_count_dec(&c->ref))
    client_finalize(c);
}

/* ---- pending commands ---- */

static Pending *pending_new(QmpClient *c, const char *command, char *id, char *text,
                            int timeout_ms, QmpCommandFunc callback, gpointer user_data) {
  Pending *p = g_new0(Pending, 1);
  p->client = c;
  p->command = g_strdup(command);
  p->id = id;
  p->text = text;
  p->timeout_ms = timeout_ms;
  p->callback = callback;
  p->user_data = user_data;
  p->fd = -1;
  return p;
}

static void pending_free(Pending *p) {
  source_clear(&p->timer);
  if (p->fd >= 0)
    close(p->fd);
  g_free(p->id);
  g_free(p->command);
  g_free(p->text);
  g_free(p);
}

/* Calls the command's callback (value is transferred) and frees `p`, which
 * the caller has already removed from the table and the waiting queue. */
static void pending_finish(QmpClient *c, Pending *p, int error, JsonNode *value,
                           const char *sentence) {
  source_clear(&p->timer);
  if (p->callback)
    p->callback(c, error, value, sentence, p->user_data);
  else if (value)
    json_node_unref(value);
  pending_free(p);
}

static gboolean on_command_timeout(gpointer data) {
  Pending *p = data;
  QmpClient *c = qmp_client_ref(p->client);
  g_hash_table_steal(c->pending, p->id);
  g_queue_remove(&c->waiting, p);
  g_clear_pointer(&p->timer, g_source_unref); /* being dispatched: REMOVE ends it */
  g_autofree char *sentence = g_strdup_printf("QEMU did not answer '%s' within %d ms",
                                              p->command, p->timeout_ms);
  g_debug("QMP %s: %s", c->socket_path, sentence);
  pending_finish(c, p, -ETIMEDOUT, NULL, sentence);
  qmp_client_unref(c);
  return G_SOURCE_REMOVE;
}

/* ---- writing ---- */

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data);

/* send() of `len` bytes with `fd` attached (SCM_RIGHTS): QEMU's getfd and
 * add-fd take the descriptor that arrives with the command. */
static ssize_t send_with_fd(int sock, const char *data, size_t len, int fd) {
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof(control.buf)};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  return sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void out_fds_clear(QmpClient *c) {
  OutFd *o;
  while ((o = g_queue_pop_head(&c->out_fds))) {
    close(o->fd);
    g_free(o);
  }
}

/* Writes what the output buffer holds without blocking. Errors are acted
 * upon only when `may_shutdown` (from the output watch): a submit must not
 * run callbacks inside its caller, so it leaves the error to the watch,
 * which sees the broken socket at once. */
static void client_flush(QmpClient *c, bool may_shutdown) {
  while (c->out_pos < c->outbuf->len) {
    OutFd *head = g_queue_peek_head(&c->out_fds);
    size_t len = c->outbuf->len - c->out_pos;
    ssize_t n;
    if (head && head->offset == c->out_pos) {
      n = send_with_fd(c->fd, c->outbuf->str + c->out_pos, len, head->fd);
      if (n > 0) {
        close(head->fd);
        g_free(g_queue_pop_head(&c->out_fds));
      }
    } else {
      if (head)
        len = head->offset - c->out_pos;
      n = send(c->fd, c->outbuf->str + c->out_pos, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (n >= 0) {
      c->out_pos += (size_t)n;
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || !may_shutdown) {
      if (!c->out_source)
        c->out_source = attach_fd(c, G_IO_OUT, on_writable);
      return;
    }
    int e = errno;
    g_autofree char *sentence = g_strdup_printf("writing to the QMP socket failed: %s",
                                                g_strerror(e));
    client_shutdown(c, -e, sentence, false);
    return;
  }
  g_string_truncate(c->outbuf, 0);
  c->out_pos = 0;
  source_clear(&c->out_source);
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data) {
  QmpClient *c = qmp_client_ref(data);
  client_flush(c, true);
  qmp_client_unref(c);
  return G_SOURCE_CONTINUE;
}

static void client_send(QmpClient *c, Pending *p) {
  if (p->fd >= 0) {
    OutFd *o = g_new(OutFd, 1);
    o->offset = c->outbuf->len;
    o->fd = p->fd;
    p->fd = -1;
    g_queue_push_tail(&c->out_fds, o);
  }
  g_string_append(c->outbuf, p->text);
  g_clear_pointer(&p->text, g_free);
  client_flush(c, false);
}

/* Loop thread. Takes `p`. Never calls p's callback: on error (connection
 * closed) p is freed and the error returned. */
static int client_submit(QmpClient *c, Pending *p, bool now, char **ret_error) {
  if (c->state == CLIENT_CLOSED) {
    int r = closed_error(c, p->command, ret_error);
    pending_free(p);
    return r;
  }
  g_hash_table_insert(c->pending, p->id, p);
  if (p->timeout_ms > 0)
    p->timer = attach(c, g_timeout_source_new((guint)p->timeout_ms), on_command_timeout, p);
  if (now || c->state == CLIENT_READY)
    client_send(c, p);
  else
    g_queue_push_tail(&c->waiting, p);
  return 0;
}

static char *next_id(QmpClient *c) {
  return g_strdup_printf("virtfs-%u", (guint)g_atomic_int_add(&c->next_id, 1));
}

/* ---- closing ---- */

static void client_shutdown(QmpClient *c, int error, const char *sentence, bool by_owner) {
  if (c->state == CLIENT_CLOSED)
    return;
  bool was_ready = c->state == CLIENT_READY;
  c->state = CLIENT_CLOSED;
  source_clear(&c->start_source);
  source_clear(&c->retry_source);
  source_clear(&c->deadline_source);
  source_clear(&c->connect_source);
  source_clear(&c->in_source);
  source_clear(&c->out_source);
  if (c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
  out_fds_clear(c);
  publish(c, CLIENT_CLOSED, error, sentence);
  /* QEMU exiting is ordinary (quit, poweroff); the owner learns of it
   * through on_disconnect and decides what it means. */
  if (by_owner || error == -ECONNRESET)
    g_debug("QMP %s: %s", c->socket_path, sentence);
  else
    g_warning("QMP %s: %s", c->socket_path, sentence);

  /* No user callback after this point except the ones below. */
  QmpClientCallbacks cb = c->callbacks;
  memset(&c->callbacks, 0, sizeof(c->callbacks));

  int pending_error = by_owner ? -ECANCELED : was_ready ? -ECONNRESET : error;
  g_queue_clear(&c->waiting);
  GList *all = g_hash_table_get_values(c->pending);
  g_hash_table_steal_all(c->pending);
  for (GList *l = all; l; l = l->next) {
    Pending *p = l->data;
    g_autofree char *s = g_strdup_printf("'%s' got no answer: %s", p->command, sentence);
    pending_finish(c, p, pending_error, NULL, s);
  }
  g_list_free(all);

  if (!by_owner) {
    if (was_ready && cb.on_disconnect)
      cb.on_disconnect(c, error, sentence, cb.user_data);
    else if (!was_ready && cb.on_ready)
      cb.on_ready(c, error, sentence, cb.user_data);
  }
  qmp_client_unref(c); /* the connection's reference */
}

/* Runs fn(data) now if this thread owns or can acquire the context (it is
 * then, for the duration, the loop thread), else on the loop thread soon. */
static void client_invoke(QmpClient *c, GSourceFunc fn, gpointer data, GDestroyNotify destroy) {
  if (g_main_context_acquire(c->context)) {
    fn(data);
    g_main_context_release(c->context);
    if (destroy)
      destroy(data);
    return;
  }
  GSource *s = g_idle_source_new();
  g_source_set_priority(s, G_PRIORITY_DEFAULT);
  g_source_set_callback(s, fn, data, destroy);
  g_source_attach(s, c->context);
  g_source_unref(s);
}

static gboolean close_in_loop(gpointer data) {
  QmpClient *c = data;
  client_shutdown(c, -ECANCELED, "the QMP connection was closed by virtfs", true);
  return G_SOURCE_REMOVE;
}

void qmp_client_close(QmpClient *c) {
  if (!c)
    return;
  client_invoke(c, close_in_loop, qmp_client_ref(c), (GDestroyNotify)qmp_client_unref);
}

void qmp_client_free(QmpClient *c) {
  if (!c)
    return;
  qmp_client_close(c);
  qmp_client_unref(c);
}

/* ---- reading ---- */

static void on_capabilities(QmpClient *c, int error, JsonNode *value, const char *sentence,
                            gpointer data) {
  if (value)
    json_node_unref(value);
  if (error < 0) {
    g_autofree char *s = g_strdup_printf("QMP negotiation failed: %s", sentence);
    client_shutdown(c, error, s, false);
    return;
  }
  c->state = CLIENT_READY;
  source_clear(&c->deadline_source);
  publish(c, CLIENT_READY, 0, NULL);
  g_debug("QMP %s: ready", c->socket_path);
  while (!g_queue_is_empty(&c->waiting) && c->state == CLIENT_READY)
    client_send(c, g_queue_pop_head(&c->waiting));
  if (c->state == CLIENT_READY && c->callbacks.on_ready)
    c->callbacks.on_ready(c, 0, NULL, c->callbacks.user_data);
}

static void client_greeted(QmpClient *c, const QmpMessage *m) {
  g_mutex_lock(&c->lock);
  c->version = m->version;
  c->have_version = true;
  g_mutex_unlock(&c->lock);
  c->state = CLIENT_NEGOTIATING;
  g_autofree char *text = NULL;
  char *id = next_id(c);
  (void)qmp_command_build(QMP_CMD_CAPABILITIES, NULL, id, &text);
  /* No own timeout: the readiness deadline covers the negotiation. */
  Pending *p = pending_new(c, QMP_CMD_CAPABILITIES, id, g_steal_pointer(&text), 0,
                           on_capabilities, NULL);
  (void)client_submit(c, p, true, NULL);
}

static void client_reply(QmpClient *c, QmpMessage *m) {
  Pending *p = m->id ? g_hash_table_lookup(c->pending, m->id) : NULL;
  if (!p) {
    /* A reply to a command that timed out, or an error QEMU could not tie
     * to a command (it answers unparsable input without an id). */
    if (m->kind == QMP_MESSAGE_ERROR)
      g_warning("QMP %s: error for no pending command (id %s): %s", c->socket_path,
                m->id ? m->id : "none", m->error_desc);
    else
      g_debug("QMP %s: reply to no pending command (id %s)", c->socket_path, m->id ? m->id : "none");
    return;
  }
  g_hash_table_steal(c->pending, m->id);
  if (m->kind == QMP_MESSAGE_RETURN) {
    pending_finish(c, p, 0, qmp_message_steal_value(m), NULL);
  } else {
    g_autofree char *s = qmp_error_sentence(p->command, m->error_class, m->error_desc);
    pending_finish(c, p, qmp_error_class_to_errno(m->error_class), NULL, s);
  }
}

static void client_line(QmpClient *c, const char *line, size_t len) {
  size_t blank = 0;
  while (blank < len && g_ascii_isspace(line[blank]))
    blank++;
  if (blank == len)
    return;
  g_autoptr(QmpMessage) m = NULL;
  g_autofree char *why = NULL;
  int r = qmp_message_parse(line, len, &m, &why);
  if (r < 0) {
    g_autofree char *s = g_strdup_printf("QEMU sent a line that is not QMP: %s", why);
    client_shutdown(c, r == -EMSGSIZE ? -EMSGSIZE : -EPROTO, s, false);
    return;
  }
  if (c->state == CLIENT_GREETING) {
    if (m->kind != QMP_MESSAGE_GREETING) {
      client_shutdown(c, -EPROTO, "QEMU did not begin with a QMP greeting", false);
      return;
    }
    client_greeted(c, m);
    return;
  }
  switch (m->kind) {
  case QMP_MESSAGE_RETURN:
  case QMP_MESSAGE_ERROR:
    client_reply(c, m);
    break;
  case QMP_MESSAGE_EVENT:
    if (c->callbacks.on_event)
      c->callbacks.on_event(c, m, c->callbacks.user_data);
    break;
  case QMP_MESSAGE_GREETING:
    g_warning("QMP %s: a second greeting, ignored", c->socket_path);
    break;
  }
}

static void client_read(QmpClient *c) {
  guint old = c->inbuf->len;
  g_byte_array_set_size(c->inbuf, old + QMP_READ_CHUNK);
  ssize_t n = recv(c->fd, c->inbuf->data + old, QMP_READ_CHUNK, MSG_DONTWAIT);
  int e = errno;
  g_byte_array_set_size(c->inbuf, old + (guint)MAX(n, 0));
  if (n < 0) {
    if (e == EINTR || e == EAGAIN)
      return;
    g_autofree char *s = g_strdup_printf("reading from the QMP socket failed: %s", g_strerror(e));
    client_shutdown(c, -e, s, false);
    return;
  }
  if (n == 0) {
    client_shutdown(c, -ECONNRESET, "QEMU closed the QMP connection (it exited or crashed)", false);
    return;
  }
  size_t start = 0;
  while (c->state != CLIENT_CLOSED) {
    const guint8 *data = c->inbuf->data;
    const guint8 *nl = memchr(data + c->scan_pos, '\n', c->inbuf->len - c->scan_pos);
    if (!nl) {
      c->scan_pos = c->inbuf->len;
      break;
    }
    size_t end = (size_t)(nl - data) + 1;
    c->scan_pos = end;
    client_line(c, (const char *)data + start, end - start);
    start = end;
  }
  if (c->state == CLIENT_CLOSED)
    return;
  if (start) {
    g_byte_array_remove_range(c->inbuf, 0, (guint)start);
    c->scan_pos -= start;
  }
  if (c->inbuf->len > QMP_LINE_MAX) {
    g_autofree char *s = g_strdup_printf("QEMU sent a QMP line longer than %d bytes", QMP_LINE_MAX);
    client_shutdown(c, -EMSGSIZE, s, false);
  }
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data) {
  QmpClient *c = qmp_client_ref(data);
  client_read(c);
  qmp_client_unref(c);
  return G_SOURCE_CONTINUE;
}

/* ---- connecting ---- */

static void client_try_connect(QmpClient *c);

static gboolean on_retry(gpointer data) {
  QmpClient *c = qmp_client_ref(data);
  g_clear_pointer(&c->retry_source, g_source_unref);
  if (c->state == CLIENT_CONNECTING)
    client_try_connect(c);
  qmp_client_unref(c);
  return G_SOURCE_REMOVE;
}

static void client_connected(QmpClient *c) {
  c->state = CLIENT_GREETING;
  publish(c, CLIENT_GREETING, 0, NULL);
  c->in_source = attach_fd(c, G_IO_IN, on_readable);
}

static bool connect_retryable(int e) {
  /* The socket file does not exist yet, or exists without a listener yet
   * (or a stale one), or the listener's backlog is full. */
  return e == ENOENT || e == ECONNREFUSED || e == EAGAIN || e == EINTR;
}

static void connect_failed(QmpClient *c, int e) {
  if (connect_retryable(e)) {
    c->last_connect_errno = e;
    c->retry_source = attach(c, g_timeout_source_new((guint)c->retry_delay_ms), on_retry, c);
    c->retry_delay_ms = MIN(c->retry_delay_ms * 2, QMP_RETRY_MAX_MS);
    return;
  }
  g_autofree char *s = g_strdup_printf("cannot connect to the QMP socket: %s", g_strerror(e));
  client_shutdown(c, -e, s, false);
}

static gboolean on_connect_done(gint fd, GIOCondition cond, gpointer data) {
  QmpClient *c = qmp_client_ref(data);
  int err = 0;
  socklen_t len = sizeof(err);
  g_clear_pointer(&c->connect_source, g_source_unref);
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (err == 0) {
    client_connected(c);
  } else {
    close(c->fd);
    c->fd = -1;
    connect_failed(c, err);
  }
  qmp_client_unref(c);
  return G_SOURCE_REMOVE;
}

static void client_try_connect(QmpClient *c) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  memcpy(sa.sun_path, c->socket_path, strlen(c->socket_path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    connect_failed(c, errno);
    return;
  }
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
    c->fd = fd;
    client_connected(c);
    return;
  }
  int e = errno;
  if (e == EINPROGRESS) {
    c->fd = fd;
    c->connect_source = attach_fd(c, G_IO_OUT, on_connect_done);
    return;
  }
  close(fd);
  connect_failed(c, e);
}

static gboolean on_start(gpointer data) {
  QmpClient *c = qmp_client_ref(data);
  g_clear_pointer(&c->start_source, g_source_unref);
  if (c->state == CLIENT_CONNECTING)
    client_try_connect(c);
  qmp_client_unref(c);
  return G_SOURCE_REMOVE;
}

static gboolean on_deadline(gpointer data) {
  QmpClient *c = qmp_client_ref(data);
  g_clear_pointer(&c->deadline_source, g_source_unref);
  g_autofree char *s = NULL;
  if (c->state == CLIENT_CONNECTING)
    s = g_strdup_printf("the QMP socket did not accept a connection within %d ms (%s)",
                        c->connect_timeout_ms,
                        c->last_connect_errno ? g_strerror(c->last_connect_errno) : "no attempt ended");
  else
    s = g_strdup_printf("QEMU did not complete the QMP handshake within %d ms",
                        c->connect_timeout_ms);
  client_shutdown(c, -ETIMEDOUT, s, false);
  qmp_client_unref(c);
  return G_SOURCE_REMOVE;
}

int qmp_client_new(GMainContext *context, const char *socket_path, int connect_timeout_ms,
                   const QmpClientCallbacks *callbacks, QmpClient **ret_client) {
  if (!socket_path || !*socket_path)
    return -EINVAL;
  if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
    return -ENAMETOOLONG;
  QmpClient *c = g_new0(QmpClient, 1);
  g_atomic_ref_count_init(&c->ref);
  g_atomic_ref_count_inc(&c->ref); /* the connection's, dropped when closed */
  c->context = g_main_context_ref(context ? context : g_main_context_default());
  c->socket_path = g_strdup(socket_path);
  c->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : QMP_CLIENT_CONNECT_TIMEOUT_MS;
  if (callbacks)
    c->callbacks = *callbacks;
  c->state = c->pub_state = CLIENT_CONNECTING;
  c->fd = -1;
  c->retry_delay_ms = QMP_RETRY_FIRST_MS;
  c->inbuf = g_byte_array_new();
  c->outbuf = g_string_new(NULL);
  c->pending = g_hash_table_new(g_str_hash, g_str_equal);
  g_queue_init(&c->waiting);
  g_mutex_init(&c->lock);
  g_cond_init(&c->cond);
  /* Attached last: from here on the loop thread may run them. */
  GSource *start = g_idle_source_new();
  GSource *deadline = g_timeout_source_new((guint)c->connect_timeout_ms);
  c->start_source = start;
  c->deadline_source = deadline;
  attach(c, deadline, on_deadline, c);
  attach(c, start, on_start, c);
  *ret_client = c;
  return 0;
}

/* ---- state for other threads ---- */

bool qmp_client_is_ready(QmpClient *c) {
  g_mutex_lock(&c->lock);
  bool ready = c->pub_state == CLIENT_READY;
  g_mutex_unlock(&c->lock);
  return ready;
}

int qmp_client_get_version(QmpClient *c, QmpVersion *ret_version) {
  int r = -ENOTCONN;
  g_mutex_lock(&c->lock);
  if (c->have_version) {
    *ret_version = c->version;
    r = 0;
  }
  g_mutex_unlock(&c->lock);
  return r;
}

int qmp_client_wait_ready(QmpClient *c, int timeout_ms, char **ret_error) {
  g_return_val_if_fail(!g_main_context_is_owner(c->context), -EDEADLK);
  int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
  int r = 0;
  g_mutex_lock(&c->lock);
  while (c->pub_state != CLIENT_READY && c->pub_state != CLIENT_CLOSED) {
    if (timeout_ms <= 0)
      g_cond_wait(&c->cond, &c->lock);
    else if (!g_cond_wait_until(&c->cond, &c->lock, end))
      break;
  }
  if (c->pub_state == CLIENT_CLOSED) {
    r = c->pub_error < 0 ? c->pub_error : -ENOTCONN;
    if (ret_error)
      *ret_error = g_strdup(c->pub_error_sentence ? c->pub_error_sentence : "the QMP connection is closed");
  } else if (c->pub_state != CLIENT_READY) {
    r = -ETIMEDOUT;
    if (ret_error)
      *ret_error = g_strdup_printf("the QMP connection was not ready within %d ms", timeout_ms);
  }
  g_mutex_unlock(&c->lock);
  return r;
}

/* ---- commands ---- */

int qmp_client_execute(QmpClient *c, const char *command, JsonNode *arguments,
                       int timeout_ms, QmpCommandFunc callback, gpointer user_data,
                       char **ret_error) {
  g_return_val_if_fail(c && command, -EINVAL);
  if (!g_main_context_acquire(c->context)) {
    g_critical("qmp_client_execute() called outside the thread running the client's loop");
    return -EDEADLK;
  }
  g_autofree char *id = next_id(c);
  g_autofree char *text = NULL;
  int r = qmp_command_build(command, arguments, id, &text);
  if (r < 0) {
    if (ret_error)
      *ret_error = g_strdup_printf("invalid QMP command '%s' or arguments", command);
  } else {
    Pending *p = pending_new(c, command, g_steal_pointer(&id), g_steal_pointer(&text),
                             timeout_ms, callback, user_data);
    r = client_submit(c, p, false, ret_error);
  }
  g_main_context_release(c->context);
  return r;
}

typedef struct {
  gatomicrefcount ref;
  GMutex lock;
  GCond cond;
  bool done;
  int error;
  JsonNode *value;
  char *sentence;
  QmpClient *client; /* referenced */
  char *command, *id, *text;
  int timeout_ms;
  int fd; /* to send with the command, owned; -1: none */
} SyncCall;

static SyncCall *sync_call_ref(SyncCall *call) {
  g_atomic_ref_count_inc(&call->ref);
  return call;
}

static void sync_call_unref(SyncCall *call) {
  if (!g_atomic_ref_count_dec(&call->ref))
    return;
  if (call->value)
    json_node_unref(call->value);
  g_free(call->sentence);
  g_free(call->command);
  g_free(call->id);
  g_free(call->text);
  if (call->fd >= 0)
    close(call->fd);
  qmp_client_unref(call->client);
  g_mutex_clear(&call->lock);
  g_cond_clear(&call->cond);
  g_free(call);
}

/* QmpCommandFunc of synchronous calls: hands the outcome to the waiter and
 * drops the reference the pending command held. */
static void sync_done(QmpClient *c, int error, JsonNode *value, const char *sentence,
                      gpointer data) {
  SyncCall *call = data;
  g_mutex_lock(&call->lock);
  call->error = error;
  call->value = value;
  call->sentence = g_strdup(sentence);
  call->done = true;
  g_cond_broadcast(&call->cond);
  g_mutex_unlock(&call->lock);
  sync_call_unref(call);
}

static gboolean sync_submit(gpointer data) {
  SyncCall *call = data;
  QmpClient *c = call->client;
  Pending *p = pending_new(c, call->command, g_steal_pointer(&call->id),
                           g_steal_pointer(&call->text), call->timeout_ms, sync_done,
                           sync_call_ref(call));
  p->fd = call->fd;
  call->fd = -1;
  g_autofree char *why = NULL;
  int r = client_submit(c, p, false, &why);
  if (r < 0)
    sync_done(c, r, NULL, why, call);
  return G_SOURCE_REMOVE;
}

int qmp_client_execute_sync(QmpClient *c, const char *command, JsonNode *arguments,
                            int timeout_ms, JsonNode **ret_return, char **ret_error) {
  return qmp_client_execute_sync_fd(c, command, arguments, -1, timeout_ms, ret_return,
                                    ret_error);
}

int qmp_client_execute_sync_fd(QmpClient *c, const char *command, JsonNode *arguments, int fd,
                               int timeout_ms, JsonNode **ret_return, char **ret_error) {
  g_return_val_if_fail(c && command, -EINVAL);
  /* The loop thread would wait for a reply only it can read. */
  g_return_val_if_fail(!g_main_context_is_owner(c->context), -EDEADLK);

  g_autofree char *id = next_id(c);
  g_autofree char *text = NULL;
  if (qmp_command_build(command, arguments, id, &text) < 0) {
    if (ret_error)
      *ret_error = g_strdup_printf("invalid QMP command '%s' or arguments", command);
    return -EINVAL;
  }
  g_mutex_lock(&c->lock);
  bool closed = c->pub_state == CLIENT_CLOSED;
  g_mutex_unlock(&c->lock);
  if (closed)
    return closed_error(c, command, ret_error);

  SyncCall *call = g_new0(SyncCall, 1);
  g_atomic_ref_count_init(&call->ref);
  g_mutex_init(&call->lock);
  g_cond_init(&call->cond);
  call->client = qmp_client_ref(c);
  call->command = g_strdup(command);
  call->id = g_steal_pointer(&id);
  call->text = g_steal_pointer(&text);
  call->timeout_ms = timeout_ms;
  call->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
  if (fd >= 0 && call->fd < 0) {
    int e = errno;
    if (ret_error)
      *ret_error = g_strdup_printf("cannot pass a descriptor with '%s': %s", command,
                                   g_strerror(e));
    sync_call_unref(call);
    return -e;
  }
  client_invoke(c, sync_submit, sync_call_ref(call), (GDestroyNotify)sync_call_unref);

  int64_t end = g_get_monotonic_time() + ((int64_t)timeout_ms + QMP_SYNC_GRACE_MS) * 1000;
  int r;
  g_mutex_lock(&call->lock);
  while (!call->done) {
    if (timeout_ms <= 0)
      g_cond_wait(&call->cond, &call->lock);
    else if (!g_cond_wait_until(&call->cond, &call->lock, end))
      break;
  }
  if (call->done) {
    r = call->error;
    if (r >= 0 && ret_return)
      *ret_return = g_steal_pointer(&call->value);
    if (r < 0 && ret_error)
      *ret_error = g_steal_pointer(&call->sentence);
  } else {
    r = -ETIMEDOUT;
    if (ret_error)
      *ret_error = g_strdup_printf("'%s' was not answered within %d ms: the QMP client's "
                                   "main loop did not run it", command, timeout_ms);
  }
  g_mutex_unlock(&call->lock);
  sync_call_unref(call);
  return r;
}
