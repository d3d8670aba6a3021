/* test_qmp_client.c — the QMP transport against a real QEMU
 * (`-machine none`, ~100 ms to start, no root) and against fake peers in
 * this file for what QEMU will not do on demand: stay silent, answer late,
 * send garbage or an endless line.
 *
 * Two ways of running the loop: the async tests iterate the client's
 * context in the test thread; the sync tests run it in a thread of their
 * own (as the daemon does) and call from the test thread (as FUSE workers
 * do). Without QEMU the QEMU tests skip, except under CI=true. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "drivers/qemu/qmp_client.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
                 "\"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}\r\n"

/* ---- fixtures ---- */

typedef struct {
  char *dir;
  char *sock;
  GPid qemu;
} Fixture;

static int setup(void **state) {
  Fixture *f = g_new0(Fixture, 1);
  f->dir = g_dir_make_tmp("virtfs-qmp-XXXXXX", NULL);
  assert_non_null(f->dir);
  f->sock = g_build_filename(f->dir, "qmp.sock", NULL);
  *state = f;
  return 0;
}

static void qemu_kill(Fixture *f) {
  if (f->qemu > 0) {
    kill(f->qemu, SIGKILL);
    waitpid(f->qemu, NULL, 0);
    f->qemu = 0;
  }
}

static int teardown(void **state) {
  Fixture *f = *state;
  qemu_kill(f);
  g_unlink(f->sock);
  g_rmdir(f->dir);
  g_free(f->sock);
  g_free(f->dir);
  g_free(f);
  return 0;
}

static void require_qemu(void) {
  g_autofree char *path = g_find_program_in_path(VIRTFS_QEMU_BINARY);
  if (path)
    return;
  if (g_strcmp0(g_getenv("CI"), "true") == 0)
    fail_msg("%s is required under CI=true", VIRTFS_QEMU_BINARY);
  skip();
}

static void die_with_parent(gpointer data) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void qemu_start(Fixture *f) {
  g_autofree char *qmp = g_strdup_printf("unix:%s,server=on,wait=off", f->sock);
  const char *argv[] = {VIRTFS_QEMU_BINARY, "-machine", "none", "-nodefaults",
                        "-display", "none", "-qmp", qmp, NULL};
  g_autoptr(GError) err = NULL;
  if (!g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                     die_with_parent, NULL, &f->qemu, &err))
    fail_msg("cannot start QEMU: %s", err->message);
}

/* What the client reported, from whichever thread runs the loop. */
typedef struct {
  GMutex lock;
  int ready_calls, ready_error;
  int disconnect_calls, disconnect_error;
  char *sentence;
  GPtrArray *events; /* names */
  GArray *event_kinds;
  int64_t last_event_seconds;
  QmpClient **free_on_disconnect; /* the owner lets go inside the callback */
} Watch;

static void watch_init(Watch *w) {
  memset(w, 0, sizeof(*w));
  g_mutex_init(&w->lock);
  w->events = g_ptr_array_new_with_free_func(g_free);
  w->event_kinds = g_array_new(FALSE, FALSE, sizeof(QmpEvent));
}

static void watch_clear(Watch *w) {
  g_free(w->sentence);
  g_ptr_array_unref(w->events);
  g_array_unref(w->event_kinds);
  g_mutex_clear(&w->lock);
}

static int watch_get(Watch *w, int *field) {
  g_mutex_lock(&w->lock);
  int v = *field;
  g_mutex_unlock(&w->lock);
  return v;
}

static void on_ready(QmpClient *c, int error, const char *sentence, gpointer data) {
  Watch *w = data;
  g_mutex_lock(&w->lock);
  w->ready_calls++;
  w->ready_error = error;
  g_free(w->sentence);
  w->sentence = g_strdup(sentence);
  g_mutex_unlock(&w->lock);
}

static void on_disconnect(QmpClient *c, int error, const char *sentence, gpointer data) {
  Watch *w = data;
  g_mutex_lock(&w->lock);
  w->disconnect_calls++;
  w->disconnect_error = error;
  g_free(w->sentence);
  w->sentence = g_strdup(sentence);
  g_mutex_unlock(&w->lock);
  if (w->free_on_disconnect)
    g_clear_pointer(w->free_on_disconnect, qmp_client_free);
}

static void on_event(QmpClient *c, const QmpMessage *m, gpointer data) {
  Watch *w = data;
  assert_int_equal(m->kind, QMP_MESSAGE_EVENT);
  g_mutex_lock(&w->lock);
  g_ptr_array_add(w->events, g_strdup(m->event_name));
  g_array_append_val(w->event_kinds, m->event);
  w->last_event_seconds = m->timestamp_seconds;
  g_mutex_unlock(&w->lock);
}

static QmpClient *client_new(GMainContext *ctx, const char *path, int timeout_ms, Watch *w) {
  QmpClientCallbacks cb = {on_ready, on_event, on_disconnect, w};
  QmpClient *c = NULL;
  assert_int_equal(qmp_client_new(ctx, path, timeout_ms, &cb, &c), 0);
  return c;
}

/* The outcome of one async command. */
typedef struct {
  int done;
  int error;
  JsonNode *value;
  char *sentence;
} Outcome;

static void on_outcome(QmpClient *c, int error, JsonNode *value, const char *sentence,
                       gpointer data) {
  Outcome *o = data;
  o->done++;
  o->error = error;
  o->value = value;
  o->sentence = g_strdup(sentence);
}

static void outcome_clear(Outcome *o) {
  if (o->value)
    json_node_unref(o->value);
  g_free(o->sentence);
  memset(o, 0, sizeof(*o));
}

static gboolean wake(gpointer data) {
  return G_SOURCE_REMOVE;
}

/* Iterates `ctx` in this thread until *counter >= target (read under the
 * watch lock when `w` is given) or timeout_ms passes. */
static bool run_until(GMainContext *ctx, Watch *w, int *counter, int target, int timeout_ms) {
  int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
  for (;;) {
    int v = w ? watch_get(w, counter) : *counter;
    if (v >= target)
      return true;
    if (g_get_monotonic_time() >= end)
      return false;
    GSource *t = g_timeout_source_new(20);
    g_source_set_callback(t, wake, NULL, NULL);
    g_source_attach(t, ctx);
    g_main_context_iteration(ctx, TRUE);
    g_source_destroy(t);
    g_source_unref(t);
  }
}

static void run_pending(GMainContext *ctx) {
  while (g_main_context_iteration(ctx, FALSE))
    ;
}

/* A thread running a context's main loop, like the daemon's. */
typedef struct {
  GMainContext *ctx;
  GMainLoop *loop;
  GThread *thread;
} LoopThread;

static gpointer loop_main(gpointer data) {
  LoopThread *lt = data;
  g_main_context_push_thread_default(lt->ctx);
  g_main_loop_run(lt->loop);
  g_main_context_pop_thread_default(lt->ctx);
  return NULL;
}

static void loop_start(LoopThread *lt) {
  lt->ctx = g_main_context_new();
  lt->loop = g_main_loop_new(lt->ctx, FALSE);
  lt->thread = g_thread_new("qmp-loop", loop_main, lt);
  while (!g_main_loop_is_running(lt->loop))
    g_usleep(1000);
}

/* Stops the thread; the caller's thread may then iterate the context. */
static void loop_stop(LoopThread *lt) {
  g_main_loop_quit(lt->loop);
  g_thread_join(lt->thread);
  run_pending(lt->ctx);
  g_main_loop_unref(lt->loop);
}

/* ---- a fake QMP peer ---- */

typedef enum {
  FAKE_NO_GREETING, /* accepts and never speaks */
  FAKE_LATE_REPLY,  /* answers the first command 500 ms late, then normally */
  FAKE_OVERSIZED,   /* answers the first command with 17 MiB and no newline */
  FAKE_GARBAGE,     /* answers the first command with a line that is not JSON */
  FAKE_SILENT,      /* negotiates, then never answers */
} FakeMode;

typedef struct {
  FakeMode mode;
  int listen_fd;
  GThread *thread;
} FakePeer;

static int peer_read_line(int fd, GString *line) {
  g_string_truncate(line, 0);
  char ch;
  for (;;) {
    ssize_t n = recv(fd, &ch, 1, 0);
    if (n <= 0)
      return -1;
    g_string_append_c(line, ch);
    if (ch == '\n')
      return 0;
  }
}

static void peer_send(int fd, const char *text, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    text += n;
    len -= (size_t)n;
  }
}

static char *peer_reply_to(const char *line, const char *return_json) {
  g_autoptr(JsonParser) p = json_parser_new();
  assert_true(json_parser_load_from_data(p, line, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  return g_strdup_printf("{\"return\": %s, \"id\": \"%s\"}\r\n", return_json,
                         json_object_get_string_member(o, "id"));
}

static gpointer peer_main(gpointer data) {
  FakePeer *p = data;
  int fd = accept(p->listen_fd, NULL, NULL);
  if (fd < 0)
    return NULL;
  g_autoptr(GString) line = g_string_new(NULL);
  if (p->mode != FAKE_NO_GREETING) {
    peer_send(fd, GREETING, strlen(GREETING));
    if (peer_read_line(fd, line) == 0) {
      g_autofree char *r = peer_reply_to(line->str, "{}");
      peer_send(fd, r, strlen(r));
    }
  }
  if (p->mode != FAKE_NO_GREETING && p->mode != FAKE_SILENT && peer_read_line(fd, line) == 0) {
    if (p->mode == FAKE_LATE_REPLY) {
      g_usleep(500 * 1000);
      g_autofree char *late = peer_reply_to(line->str, "{\"status\": \"late\", \"running\": false}");
      peer_send(fd, late, strlen(late));
      if (peer_read_line(fd, line) == 0) {
        g_autofree char *r = peer_reply_to(line->str, "{\"status\": \"running\", \"running\": true}");
        peer_send(fd, r, strlen(r));
      }
    } else if (p->mode == FAKE_OVERSIZED) {
      size_t chunk = 1 << 20;
      g_autofree char *x = g_strnfill(chunk, 'x');
      for (int i = 0; i < 17; i++)
        peer_send(fd, x, chunk);
    } else if (p->mode == FAKE_GARBAGE) {
      const char *g = "this is not json\r\n";
      peer_send(fd, g, strlen(g));
    }
  }
  while (peer_read_line(fd, line) == 0)
    ;
  close(fd);
  return NULL;
}

static void peer_start(FakePeer *p, const char *path, FakeMode mode) {
  p->mode = mode;
  p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(p->listen_fd >= 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
  assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(p->listen_fd, 1), 0);
  p->thread = g_thread_new("fake-qmp", peer_main, p);
}

static void peer_stop(FakePeer *p) {
  shutdown(p->listen_fd, SHUT_RDWR); /* wakes accept() if no one came */
  g_thread_join(p->thread);
  close(p->listen_fd);
}

/* ---- tests against QEMU, loop in the test thread ---- */

static void test_connect_status_errors(void **state) {
  Fixture *f = *state;
  require_qemu();
  g_autoptr(GMainContext) ctx = g_main_context_new();
  Watch w;
  watch_init(&w);
  /* The client exists before QEMU creates its socket: it must retry. */
  QmpClient *c = client_new(ctx, f->sock, 10000, &w);
  Outcome early = {0};
  assert_int_equal(qmp_client_execute(c, QMP_CMD_QUERY_STATUS, NULL, 10000, on_outcome,
                                      &early, NULL), 0);
  run_until(ctx, NULL, &early.done, 1, 50);
  assert_int_equal(early.done, 0);
  qemu_start(f);
  assert_true(run_until(ctx, &w, &w.ready_calls, 1, 10000));
  assert_int_equal(w.ready_error, 0);
  assert_true(qmp_client_is_ready(c));
  QmpVersion v;
  assert_int_equal(qmp_client_get_version(c, &v), 0);
  assert_true(v.major >= 7);

  /* The command queued before the connection was ready has its answer. */
  assert_true(run_until(ctx, NULL, &early.done, 1, 5000));
  assert_int_equal(early.error, 0);
  bool running = false;
  g_autofree char *status = NULL;
  assert_int_equal(qmp_reply_parse_status(early.value, &running, &status), 0);
  assert_true(running);
  assert_string_equal(status, "running");
  outcome_clear(&early);

  Outcome o = {0};
  assert_int_equal(qmp_client_execute(c, "no-such-command", NULL, 5000, on_outcome, &o, NULL), 0);
  assert_true(run_until(ctx, NULL, &o.done, 1, 5000));
  assert_int_equal(o.error, -EOPNOTSUPP);
  assert_null(o.value);
  assert_non_null(strstr(o.sentence, "no-such-command"));
  outcome_clear(&o);

  g_autoptr(JsonNode) del = NULL;
  assert_int_equal(qmp_args_device_del("nope", &del), 0);
  assert_int_equal(qmp_client_execute(c, QMP_CMD_DEVICE_DEL, del, 5000, on_outcome, &o, NULL), 0);
  assert_true(run_until(ctx, NULL, &o.done, 1, 5000));
  assert_int_equal(o.error, -ENODEV);
  assert_non_null(strstr(o.sentence, "'nope'"));
  outcome_clear(&o);

  /* Non-object arguments are refused before anything is sent. */
  g_autoptr(JsonNode) bad = json_node_new(JSON_NODE_ARRAY);
  json_node_take_array(bad, json_array_new());
  g_autofree char *why = NULL;
  assert_int_equal(qmp_client_execute(c, "stop", bad, 5000, on_outcome, &o, &why), -EINVAL);
  assert_non_null(why);

  qmp_client_free(c);
  run_pending(ctx);
  assert_int_equal(w.disconnect_calls, 0); /* the owner's close is not reported */
  assert_int_equal(w.ready_calls, 1);
  watch_clear(&w);
}

static void test_events(void **state) {
  Fixture *f = *state;
  require_qemu();
  qemu_start(f);
  g_autoptr(GMainContext) ctx = g_main_context_new();
  Watch w;
  watch_init(&w);
  QmpClient *c = client_new(ctx, f->sock, 10000, &w);
  assert_true(run_until(ctx, &w, &w.ready_calls, 1, 10000));
  assert_int_equal(w.ready_error, 0);

  Outcome o = {0};
  assert_int_equal(qmp_client_execute(c, QMP_CMD_STOP, NULL, 5000, on_outcome, &o, NULL), 0);
  assert_true(run_until(ctx, NULL, &o.done, 1, 5000));
  assert_int_equal(o.error, 0);
  outcome_clear(&o);
  assert_true(run_until(ctx, NULL, (int *)&w.events->len, 1, 5000));
  assert_int_equal(qmp_client_execute(c, QMP_CMD_CONT, NULL, 5000, on_outcome, &o, NULL), 0);
  assert_true(run_until(ctx, NULL, &o.done, 1, 5000));
  outcome_clear(&o);
  assert_true(run_until(ctx, NULL, (int *)&w.events->len, 2, 5000));
  assert_int_equal(w.events->len, 2);
  assert_string_equal(g_ptr_array_index(w.events, 0), "STOP");
  assert_string_equal(g_ptr_array_index(w.events, 1), "RESUME");
  assert_int_equal(g_array_index(w.event_kinds, QmpEvent, 0), QMP_EVENT_STOP);
  assert_int_equal(g_array_index(w.event_kinds, QmpEvent, 1), QMP_EVENT_RESUME);
  assert_true(w.last_event_seconds > 1600000000);

  /* quit: QEMU says SHUTDOWN, answers, and closes the socket. */
  assert_int_equal(qmp_client_execute(c, QMP_CMD_QUIT, NULL, 5000, on_outcome, &o, NULL), 0);
  assert_true(run_until(ctx, &w, &w.disconnect_calls, 1, 5000));
  assert_int_equal(o.done, 1);
  assert_int_equal(o.error, 0);
  outcome_clear(&o);
  assert_int_equal(w.disconnect_error, -ECONNRESET);
  assert_string_equal(g_ptr_array_index(w.events, 2), "SHUTDOWN");
  waitpid(f->qemu, NULL, 0);
  f->qemu = 0;
  qmp_client_free(c);
  watch_clear(&w);
}

/* ---- tests against QEMU, loop in its own thread ---- */

typedef struct {
  QmpClient *client;
  int thread_no;
  int calls;
  int failures;
} Worker;

static gpointer worker_main(gpointer data) {
  Worker *wk = data;
  for (int i = 0; i < wk->calls; i++) {
    g_autofree char *id = g_strdup_printf("nope-%d-%d", wk->thread_no, i);
    g_autoptr(JsonNode) args = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *why = NULL;
    if (i % 2) {
      assert_int_equal(qmp_args_device_del(id, &args), 0);
      int r = qmp_client_execute_sync(wk->client, QMP_CMD_DEVICE_DEL, args, 5000, &ret, &why);
      /* The reply is this thread's own: QEMU names the id it was given. */
      g_autofree char *quoted = g_strdup_printf("'%s'", id);
      if (r != -ENODEV || !why || !strstr(why, quoted) || ret)
        wk->failures++;
    } else {
      int r = qmp_client_execute_sync(wk->client, QMP_CMD_QUERY_STATUS, NULL, 5000, &ret, &why);
      bool running = false;
      g_autofree char *status = NULL;
      if (r != 0 || qmp_reply_parse_status(ret, &running, &status) < 0 || !running)
        wk->failures++;
    }
  }
  return NULL;
}

static int criticals;

static void count_critical(const gchar *domain, GLogLevelFlags level, const gchar *message,
                           gpointer data) {
  g_atomic_int_inc(&criticals);
}

typedef struct {
  QmpClient *client;
  int result;
  int done;
} LoopCall;

static gboolean sync_from_loop(gpointer data) {
  LoopCall *lc = data;
  lc->result = qmp_client_execute_sync(lc->client, QMP_CMD_QUERY_STATUS, NULL, 1000, NULL, NULL);
  g_atomic_int_set(&lc->done, 1);
  return G_SOURCE_REMOVE;
}

static int compare_int64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void test_sync_from_worker(void **state) {
  Fixture *f = *state;
  require_qemu();
  qemu_start(f);
  LoopThread lt;
  loop_start(&lt);
  Watch w;
  watch_init(&w);
  QmpClient *c = client_new(lt.ctx, f->sock, 10000, &w);
  g_autofree char *why = NULL;
  assert_int_equal(qmp_client_wait_ready(c, 10000, &why), 0);

  JsonNode *ret = NULL;
  assert_int_equal(qmp_client_execute_sync(c, QMP_CMD_QUERY_STATUS, NULL, 5000, &ret, &why), 0);
  bool running = false;
  g_autofree char *status = NULL;
  assert_int_equal(qmp_reply_parse_status(ret, &running, &status), 0);
  assert_string_equal(status, "running");
  json_node_unref(ret);

  assert_int_equal(qmp_client_execute_sync(c, "no-such-command", NULL, 5000, NULL, &why),
                   -EOPNOTSUPP);
  assert_non_null(strstr(why, "no-such-command"));

  /* Four threads at once: every reply reaches its own caller. */
  Worker workers[4];
  GThread *threads[4];
  for (int i = 0; i < 4; i++) {
    workers[i] = (Worker){c, i, 200, 0};
    threads[i] = g_thread_new("worker", worker_main, &workers[i]);
  }
  for (int i = 0; i < 4; i++) {
    g_thread_join(threads[i]);
    assert_int_equal(workers[i].failures, 0);
  }

  /* From the loop thread it would wait for itself: refused. */
  guint handler = g_log_set_handler("virtfs-qmp", G_LOG_LEVEL_CRITICAL, count_critical, NULL);
  LoopCall lc = {c, 0, 0};
  g_main_context_invoke(lt.ctx, sync_from_loop, &lc);
  while (!g_atomic_int_get(&lc.done))
    g_usleep(1000);
  g_log_remove_handler("virtfs-qmp", handler);
  assert_int_equal(lc.result, -EDEADLK);
  assert_int_equal(g_atomic_int_get(&criticals), 1);

  /* Round-trip time of query-status through the sync API. */
  enum { N = 1000 };
  int64_t *us = g_new(int64_t, N);
  for (int i = 0; i < N; i++) {
    int64_t t0 = g_get_monotonic_time();
    assert_int_equal(qmp_client_execute_sync(c, QMP_CMD_QUERY_STATUS, NULL, 5000, &ret, NULL), 0);
    us[i] = g_get_monotonic_time() - t0;
    json_node_unref(ret);
  }
  qsort(us, N, sizeof(*us), compare_int64);
  print_message("query-status via qmp_client_execute_sync: median %" G_GINT64_FORMAT
                " us, p90 %" G_GINT64_FORMAT " us, p99 %" G_GINT64_FORMAT
                " us, max %" G_GINT64_FORMAT " us (n=%d)\n",
                us[N / 2], us[N * 9 / 10], us[N * 99 / 100], us[N - 1], N);
  g_free(us);

  qmp_client_free(c); /* from another thread: the close runs on the loop */
  loop_stop(&lt);
  assert_int_equal(w.disconnect_calls, 0);
  g_main_context_unref(lt.ctx);
  watch_clear(&w);
}

typedef struct {
  QmpClient *client; /* the worker's own reference */
  int result;
  char *why;
  GMutex lock;
  GCond cond;
  bool go;
} Holder;

static gpointer holder_blocked(gpointer data) {
  Holder *h = data;
  h->result = qmp_client_execute_sync(h->client, QMP_CMD_QUERY_STATUS, NULL, 10000, NULL, &h->why);
  return NULL;
}

static gpointer holder_late(gpointer data) {
  Holder *h = data;
  g_mutex_lock(&h->lock);
  while (!h->go)
    g_cond_wait(&h->cond, &h->lock);
  g_mutex_unlock(&h->lock);
  h->result = qmp_client_execute_sync(h->client, QMP_CMD_QUERY_STATUS, NULL, 1000, NULL, &h->why);
  qmp_client_unref(h->client); /* the last reference: freed on this thread */
  return NULL;
}

static void test_disconnect_sigkill(void **state) {
  Fixture *f = *state;
  require_qemu();
  qemu_start(f);
  LoopThread lt;
  loop_start(&lt);
  Watch w;
  watch_init(&w);
  QmpClient *c = client_new(lt.ctx, f->sock, 10000, &w);
  assert_int_equal(qmp_client_wait_ready(c, 10000, NULL), 0);

  /* A worker waits on a command QEMU will never answer: QEMU is stopped,
   * then killed. */
  kill(f->qemu, SIGSTOP);
  Holder blocked = {qmp_client_ref(c), 0, NULL};
  GThread *t1 = g_thread_new("blocked", holder_blocked, &blocked);
  Holder late = {qmp_client_ref(c), 0, NULL};
  g_mutex_init(&late.lock);
  g_cond_init(&late.cond);
  GThread *t2 = g_thread_new("late", holder_late, &late);
  g_usleep(200 * 1000);
  qemu_kill(f);
  g_thread_join(t1);
  assert_int_equal(blocked.result, -ECONNRESET);
  assert_non_null(strstr(blocked.why, "query-status"));
  qmp_client_unref(blocked.client);
  g_free(blocked.why);

  int64_t end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (watch_get(&w, &w.disconnect_calls) < 1 && g_get_monotonic_time() < end)
    g_usleep(1000);
  assert_int_equal(watch_get(&w, &w.disconnect_calls), 1);
  assert_int_equal(w.disconnect_error, -ECONNRESET);
  assert_false(qmp_client_is_ready(c));
  g_autofree char *why = NULL;
  assert_int_equal(qmp_client_execute_sync(c, QMP_CMD_QUERY_STATUS, NULL, 1000, NULL, &why),
                   -ENOTCONN);
  assert_non_null(why);

  /* The owner lets go while a worker still holds a reference; the worker
   * then calls, fails cleanly and drops the last reference. */
  qmp_client_free(c);
  g_mutex_lock(&late.lock);
  late.go = true;
  g_cond_signal(&late.cond);
  g_mutex_unlock(&late.lock);
  g_thread_join(t2);
  assert_int_equal(late.result, -ENOTCONN);
  g_free(late.why);
  g_mutex_clear(&late.lock);
  g_cond_clear(&late.cond);

  loop_stop(&lt);
  assert_int_equal(w.disconnect_calls, 1);
  assert_int_equal(w.ready_calls, 1);
  g_main_context_unref(lt.ctx);
  watch_clear(&w);
}

/* ---- tests against fake peers ---- */

static void test_timeout_and_late_reply(void **state) {
  Fixture *f = *state;
  FakePeer peer;
  peer_start(&peer, f->sock, FAKE_LATE_REPLY);
  LoopThread lt;
  loop_start(&lt);
  Watch w;
  watch_init(&w);
  QmpClient *c = client_new(lt.ctx, f->sock, 5000, &w);
  assert_int_equal(qmp_client_wait_ready(c, 5000, NULL), 0);
  QmpVersion v;
  assert_int_equal(qmp_client_get_version(c, &v), 0);
  assert_int_equal(v.major, 7);

  int64_t t0 = g_get_monotonic_time();
  g_autofree char *why = NULL;
  JsonNode *ret = NULL;
  assert_int_equal(qmp_client_execute_sync(c, QMP_CMD_QUERY_STATUS, NULL, 300, &ret, &why),
                   -ETIMEDOUT);
  int64_t elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
  assert_true(elapsed_ms >= 290 && elapsed_ms < 900); /* the command's timeout, not the grace */
  assert_string_equal(why, "QEMU did not answer 'query-status' within 300 ms");
  assert_null(ret);

  /* The late reply to the first command is dropped; the second command
   * gets its own. */
  assert_int_equal(qmp_client_execute_sync(c, QMP_CMD_QUERY_STATUS, NULL, 5000, &ret, NULL), 0);
  bool running = false;
  g_autofree char *status = NULL;
  assert_int_equal(qmp_reply_parse_status(ret, &running, &status), 0);
  assert_string_equal(status, "running");
  json_node_unref(ret);

  qmp_client_free(c);
  loop_stop(&lt);
  peer_stop(&peer);
  assert_int_equal(w.disconnect_calls, 0);
  g_main_context_unref(lt.ctx);
  watch_clear(&w);
}

static void test_connect_deadlines(void **state) {
  Fixture *f = *state;
  g_autoptr(GMainContext) ctx = g_main_context_new();

  /* No socket ever appears. */
  Watch w;
  watch_init(&w);
  QmpClient *c = client_new(ctx, f->sock, 300, &w);
  Outcome o = {0};
  assert_int_equal(qmp_client_execute(c, QMP_CMD_QUERY_STATUS, NULL, 0, on_outcome, &o, NULL), 0);
  int64_t t0 = g_get_monotonic_time();
  assert_true(run_until(ctx, &w, &w.ready_calls, 1, 5000));
  assert_true(g_get_monotonic_time() - t0 >= 250 * 1000);
  assert_int_equal(w.ready_error, -ETIMEDOUT);
  assert_non_null(strstr(w.sentence, "No such file or directory"));
  /* A command submitted before fails with the connect error. */
  assert_int_equal(o.done, 1);
  assert_int_equal(o.error, -ETIMEDOUT);
  outcome_clear(&o);
  g_autofree char *why = NULL;
  assert_int_equal(qmp_client_execute(c, QMP_CMD_QUERY_STATUS, NULL, 0, on_outcome, &o, &why),
                   -ENOTCONN);
  assert_int_equal(o.done, 0);
  assert_non_null(why);
  qmp_client_free(c);
  watch_clear(&w);

  /* A peer that accepts but never greets. */
  FakePeer peer;
  peer_start(&peer, f->sock, FAKE_NO_GREETING);
  watch_init(&w);
  c = client_new(ctx, f->sock, 300, &w);
  assert_true(run_until(ctx, &w, &w.ready_calls, 1, 5000));
  assert_int_equal(w.ready_error, -ETIMEDOUT);
  assert_non_null(strstr(w.sentence, "handshake"));
  assert_int_equal(w.disconnect_calls, 0);
  qmp_client_free(c);
  peer_stop(&peer);
  watch_clear(&w);

  /* Bad paths are refused at once. */
  g_autofree char *long_path = g_strnfill(200, 'x');
  assert_int_equal(qmp_client_new(ctx, long_path, 0, NULL, &c), -ENAMETOOLONG);
  assert_int_equal(qmp_client_new(ctx, "", 0, NULL, &c), -EINVAL);
}

static void broken_peer(Fixture *f, FakeMode mode, int want, bool free_in_callback) {
  g_unlink(f->sock);
  g_autoptr(GMainContext) ctx = g_main_context_new();
  FakePeer peer;
  peer_start(&peer, f->sock, mode);
  Watch w;
  watch_init(&w);
  QmpClient *c = client_new(ctx, f->sock, 5000, &w);
  if (free_in_callback)
    w.free_on_disconnect = &c;
  assert_true(run_until(ctx, &w, &w.ready_calls, 1, 5000));
  assert_int_equal(w.ready_error, 0);
  Outcome o = {0};
  assert_int_equal(qmp_client_execute(c, QMP_CMD_QUERY_STATUS, NULL, 10000, on_outcome, &o, NULL), 0);
  assert_true(run_until(ctx, &w, &w.disconnect_calls, 1, 10000));
  assert_int_equal(w.disconnect_error, want);
  assert_int_equal(o.done, 1);
  assert_int_equal(o.error, -ECONNRESET);
  outcome_clear(&o);
  run_pending(ctx);
  assert_int_equal(w.disconnect_calls, 1);
  assert_true(free_in_callback == (c == NULL));
  qmp_client_free(c);
  peer_stop(&peer);
  watch_clear(&w);
}

static void test_oversized_line(void **state) {
  broken_peer(*state, FAKE_OVERSIZED, -EMSGSIZE, false);
}

static void test_garbage_line(void **state) {
  /* The owner frees the client inside on_disconnect, on the loop thread. */
  broken_peer(*state, FAKE_GARBAGE, -EPROTO, true);
}

static void test_close_by_owner(void **state) {
  Fixture *f = *state;
  g_autoptr(GMainContext) ctx = g_main_context_new();
  FakePeer peer;
  peer_start(&peer, f->sock, FAKE_SILENT);
  Watch w;
  watch_init(&w);
  QmpClient *c = client_new(ctx, f->sock, 5000, &w);
  assert_true(run_until(ctx, &w, &w.ready_calls, 1, 5000));
  Outcome o = {0};
  assert_int_equal(qmp_client_execute(c, QMP_CMD_QUERY_STATUS, NULL, 0, on_outcome, &o, NULL), 0);
  run_until(ctx, NULL, &o.done, 1, 100);
  assert_int_equal(o.done, 0);
  QmpClient *extra = qmp_client_ref(c);
  qmp_client_close(c); /* this thread can own the context: closes now */
  assert_int_equal(o.done, 1);
  assert_int_equal(o.error, -ECANCELED);
  outcome_clear(&o);
  qmp_client_close(c); /* idempotent */
  assert_false(qmp_client_is_ready(c));
  assert_int_equal(qmp_client_execute(c, QMP_CMD_QUERY_STATUS, NULL, 0, on_outcome, &o, NULL),
                   -ENOTCONN);
  run_pending(ctx);
  assert_int_equal(w.disconnect_calls, 0);
  qmp_client_free(c);
  qmp_client_unref(extra);
  peer_stop(&peer);
  watch_clear(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_connect_status_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sync_from_worker, setup, teardown),
    cmocka_unit_test_setup_teardown(test_disconnect_sigkill, setup, teardown),
    cmocka_unit_test_setup_teardown(test_timeout_and_late_reply, setup, teardown),
    cmocka_unit_test_setup_teardown(test_connect_deadlines, setup, teardown),
    cmocka_unit_test_setup_teardown(test_oversized_line, setup, teardown),
    cmocka_unit_test_setup_teardown(test_garbage_line, setup, teardown),
    cmocka_unit_test_setup_teardown(test_close_by_owner, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
