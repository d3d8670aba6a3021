/* test_qemu_argv_accepted.c — QEMU really accepts the command lines of the
 * golden definitions. For each case that builds, the files it names are
 * created under a temporary directory (images with qemu-img, a fake bzImage,
 * log files, a listening socket for client-mode chardevs), the definition's
 * paths are moved there, QEMU is started (paused, TCG) and asked over QMP
 * for its status, name and block nodes, then told to quit.
 *
 * The block node check is the end-to-end proof of the escaping: QEMU must
 * report exactly the file the definition names, commas included. Cases
 * that need taps, /dev/kvm or block devices are left out by design. A
 * missing QEMU skips (77) only outside CI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "drivers/qemu/qemu_argv.h"
#include "tests/unit/qemu_argv_cases.h"

#define START_TIMEOUT_MS 20000
#define REPLY_TIMEOUT_MS 10000

static char *tmp_root;
static char *qemu_binary;
static char *qemu_img;

/* ---- files the definitions name ---- */

static void mkdir_parent(const char *path) {
  g_autofree char *dir = g_path_get_dirname(path);
  assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
}

static void write_file(const char *path, const void *data, gsize len) {
  mkdir_parent(path);
  g_autoptr(GError) err = NULL;
  if (!g_file_set_contents(path, data, (gssize)len, &err))
    fail_msg("%s: %s", path, err->message);
}

static void create_image(const char *path, DiskFormat format) {
  mkdir_parent(path);
  if (format == DISK_FORMAT_QCOW2) {
    const char *argv[] = {qemu_img, "create", "-q", "-f", "qcow2", path, "1M", NULL};
    int status = 0;
    g_autoptr(GError) err = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                      &err) || !g_spawn_check_wait_status(status, &err))
      fail_msg("qemu-img create %s: %s", path, err->message);
  } else {
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 20), 0);
    close(fd);
  }
}

/* Just enough of a bzImage (boot protocol 2.15 header) for QEMU's x86
 * loader to take it; the guest never runs under -S. */
static void create_fake_kernel(const char *path) {
  g_autofree guint8 *k = g_malloc0(65536);
  k[0x1f1] = 4;                         /* setup sectors */
  memcpy(k + 0x202, "HdrS", 4);
  k[0x206] = 0x0f;                      /* protocol 2.15 */
  k[0x207] = 0x02;
  k[0x211] = 0x01;                      /* LOADED_HIGH */
  k[0x22c] = 0xff;                      /* initrd_addr_max 0x37ffffff */
  k[0x22d] = 0xff;
  k[0x22e] = 0xff;
  k[0x22f] = 0x37;
  write_file(path, k, 65536);
}

static int listen_unix(const char *path) {
  mkdir_parent(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  assert_true(strlen(path) < sizeof sa.sun_path);
  strcpy(sa.sun_path, path);
  unlink(path);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(fd, 4), 0);
  return fd;
}

static char *under(const char *dir, const char *path) {
  return g_build_filename(dir, path, NULL);
}

static void rm_rf(const char *path) {
  if (!g_file_test(path, G_FILE_TEST_IS_DIR) || g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
    g_unlink(path);
    return;
  }
  GDir *d = g_dir_open(path, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    rm_rf(child);
  }
  if (d)
    g_dir_close(d);
  g_rmdir(path);
}

/* ---- QMP, just enough ---- */

typedef struct {
  int fd;
  GString *buf;
} Qmp;

static JsonNode *qmp_read_line(Qmp *q, int timeout_ms) {
  for (;;) {
    char *nl = memchr(q->buf->str, '\n', q->buf->len);
    if (nl) {
      size_t len = (size_t)(nl - q->buf->str);
      g_autofree char *line = g_strndup(q->buf->str, len);
      g_string_erase(q->buf, 0, (gssize)len + 1);
      return json_from_string(line, NULL);
    }
    struct pollfd p = {.fd = q->fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
      return NULL;
    char chunk[4096];
    ssize_t n = read(q->fd, chunk, sizeof chunk);
    if (n <= 0)
      return NULL;
    g_string_append_len(q->buf, chunk, n);
  }
}

/* Sends a command and returns its "return" member (NULL on error reply). */
static JsonNode *qmp_command(Qmp *q, const char *json) {
  g_autofree char *line = g_strconcat(json, "\n", NULL);
  /* No cmocka assertion here: a longjmp would leave QEMU running. */
  if (write(q->fd, line, strlen(line)) != (ssize_t)strlen(line))
    return NULL;
  for (;;) {
    g_autoptr(JsonNode) n = qmp_read_line(q, REPLY_TIMEOUT_MS);
    if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
      print_error("no QMP reply to %s\n", json);
      return NULL;
    }
    JsonObject *o = json_node_get_object(n);
    if (json_object_has_member(o, "error")) {
      g_autofree char *s = json_to_string(n, FALSE);
      print_error("QMP %s: %s\n", json, s);
      return NULL;
    }
    if (json_object_has_member(o, "return"))
      return json_node_copy(json_object_get_member(o, "return"));
    /* an event: keep reading */
  }
}

/* ---- one case ---- */

typedef struct {
  DomainDef *def;
  QemuArgvVolume volumes[8];
  size_t n_volumes;
  GPtrArray *strings; /* keeps volume paths alive */
  int listen_fds[8];
  size_t n_listen;
} Prepared;

static void prepare(const char *dir, Prepared *p) {
  DomainDef *def = p->def;
  test_set_str(&def->emulator, NULL);

  for (size_t i = 0; i < qemu_argv_n_test_volumes; i++) {
    const QemuArgvVolume *v = &qemu_argv_test_volumes[i];
    if (v->is_block)
      continue;
    char *path = under(dir, v->path);
    g_ptr_array_add(p->strings, path);
    p->volumes[p->n_volumes++] = (QemuArgvVolume){v->pool, v->volume, path, false};
  }
  for (guint i = 0; i < def->disks->len; i++) {
    DomainDisk *d = def->disks->pdata[i];
    if (d->type == DISK_TYPE_FILE && d->source) {
      g_autofree char *path = under(dir, d->source);
      create_image(path, d->format);
      test_set_str(&d->source, path);
    } else if (d->type == DISK_TYPE_VOLUME) {
      for (size_t k = 0; k < p->n_volumes; k++)
        if (g_strcmp0(p->volumes[k].pool, d->source_pool) == 0 &&
            g_strcmp0(p->volumes[k].volume, d->source_volume) == 0)
          create_image(p->volumes[k].path, d->format);
    }
  }
  if (def->os.kernel) {
    g_autofree char *path = under(dir, def->os.kernel);
    create_fake_kernel(path);
    test_set_str(&def->os.kernel, path);
  }
  if (def->os.initrd) {
    g_autofree char *path = under(dir, def->os.initrd);
    write_file(path, "initrd", 6);
    test_set_str(&def->os.initrd, path);
  }
  GPtrArray *chardevs[] = {def->serials, def->consoles};
  for (size_t a = 0; a < G_N_ELEMENTS(chardevs); a++) {
    for (guint i = 0; i < chardevs[a]->len; i++) {
      DomainChardev *c = chardevs[a]->pdata[i];
      if (c->type == CHARDEV_PTY || !c->source_path)
        continue;
      g_autofree char *path = under(dir, c->source_path);
      mkdir_parent(path);
      if (c->type == CHARDEV_UNIX && !c->unix_listen) {
        assert_true(p->n_listen < G_N_ELEMENTS(p->listen_fds));
        p->listen_fds[p->n_listen++] = listen_unix(path);
      }
      test_set_str(&c->source_path, path);
    }
  }
  /* VNC only on loopback, and never a fixed port another run may hold. */
  for (guint i = 0; i < def->graphics->len; i++) {
    DomainGraphicsVnc *v = def->graphics->pdata[i];
    test_set_str(&v->listen, "127.0.0.1");
    v->port = -1;
  }
  for (guint i = 0; i < def->rngs->len; i++) {
    DomainRng *r = def->rngs->pdata[i];
    if (r->backend && !g_file_test(r->backend, G_FILE_TEST_EXISTS)) {
      g_autofree char *path = under(dir, r->backend);
      write_file(path, "entropy", 7);
      test_set_str(&r->backend, path);
    }
  }
}

static const char *node_filename(JsonNode *nodes, const char *node_name) {
  JsonArray *arr = json_node_get_array(nodes);
  for (guint i = 0; i < json_array_get_length(arr); i++) {
    JsonObject *o = json_array_get_object_element(arr, i);
    if (g_strcmp0(json_object_get_string_member_with_default(o, "node-name", ""), node_name) == 0)
      return json_object_get_string_member_with_default(o, "file", NULL);
  }
  return NULL;
}

static void run_case(const QemuArgvCase *c) {
  g_autofree char *dir = g_build_filename(tmp_root, c->name, NULL);
  g_autofree char *qmp_path = g_build_filename(dir, "qmp.sock", NULL);
  g_autofree char *pid_path = g_build_filename(dir, "qemu.pid", NULL);
  g_autofree char *console_path = g_build_filename(dir, "console.sock", NULL);
  g_autofree char *log_path = g_build_filename(dir, "qemu.log", NULL);
  Prepared p = {.def = qemu_argv_case_def(c), .strings = g_ptr_array_new_with_free_func(g_free)};
  assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
  prepare(dir, &p);

  QemuArgvConfig cfg;
  qemu_argv_case_config(c, &cfg);
  cfg.qemu_binary = qemu_binary;
  cfg.qmp_socket_path = qmp_path;
  cfg.pid_file = pid_path;
  if (cfg.console_socket_path)
    cfg.console_socket_path = console_path;
  cfg.volumes = p.volumes;
  cfg.n_volumes = p.n_volumes;
  g_auto(GStrv) argv = NULL;
  g_autofree char *error = NULL;
  if (qemu_argv_build(p.def, &cfg, &argv, &error) < 0)
    fail_msg("%s: %s", c->name, error);

  int log_fd = open(log_path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(log_fd >= 0 && null_fd >= 0);
  GPid pid = 0;
  g_autoptr(GError) err = NULL;
  if (!g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                              null_fd, log_fd, log_fd, &err))
    fail_msg("%s: cannot run %s: %s", c->name, argv[0], err->message);
  close(log_fd);
  close(null_fd);

  /* QEMU listens on the QMP socket once its command line is accepted. */
  int fd = -1, status = 0;
  bool exited = false;
  for (int waited = 0; waited < START_TIMEOUT_MS; waited += 50) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, qmp_path, sizeof sa.sun_path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
      break;
    close(fd);
    fd = -1;
    g_usleep(50000);
  }
  bool ok = false;
  g_autofree char *why = NULL;
  if (fd >= 0) {
    Qmp q = {.fd = fd, .buf = g_string_new(NULL)};
    g_autoptr(JsonNode) greeting = qmp_read_line(&q, REPLY_TIMEOUT_MS);
    g_autoptr(JsonNode) caps = greeting ? qmp_command(&q, "{\"execute\":\"qmp_capabilities\"}") : NULL;
    g_autoptr(JsonNode) st = caps ? qmp_command(&q, "{\"execute\":\"query-status\"}") : NULL;
    g_autoptr(JsonNode) name = st ? qmp_command(&q, "{\"execute\":\"query-name\"}") : NULL;
    g_autoptr(JsonNode) nodes = name ? qmp_command(&q, "{\"execute\":\"query-named-block-nodes\"}") : NULL;
    if (!nodes) {
      why = g_strdup("QMP did not answer");
    } else if (g_strcmp0(json_object_get_string_member(json_node_get_object(st), "status"),
                         "prelaunch") != 0) {
      why = g_strdup("QEMU is not paused in prelaunch");
    } else if (g_strcmp0(json_object_get_string_member(json_node_get_object(name), "name"),
                         p.def->name) != 0) {
      why = g_strdup("query-name differs from the domain name");
    } else {
      ok = true;
      for (guint i = 0; i < p.def->disks->len && ok; i++) {
        DomainDisk *d = p.def->disks->pdata[i];
        g_autofree char *node = g_strdup_printf("disk%u-file", i);
        const char *want = d->source;
        for (size_t k = 0; d->type == DISK_TYPE_VOLUME && k < p.n_volumes; k++)
          if (g_strcmp0(p.volumes[k].volume, d->source_volume) == 0)
            want = p.volumes[k].path;
        if (g_strcmp0(node_filename(nodes, node), want) != 0) {
          why = g_strdup_printf("block node %s opened '%s', not '%s'", node,
                                node_filename(nodes, node), want);
          ok = false;
        }
      }
    }
    JsonNode *bye = qmp_command(&q, "{\"execute\":\"quit\"}");
    if (bye)
      json_node_unref(bye);
    g_string_free(q.buf, TRUE);
    close(fd);
  }
  if (!exited) {
    int waited = 0;
    while (waitpid(pid, &status, WNOHANG) != pid) {
      if (waited >= REPLY_TIMEOUT_MS) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      g_usleep(20000);
      waited += 20;
    }
  }
  g_spawn_close_pid(pid);
  for (size_t i = 0; i < p.n_listen; i++)
    close(p.listen_fds[i]);

  if (!ok) {
    g_autofree char *log = NULL;
    g_file_get_contents(log_path, &log, NULL, NULL);
    g_autofree char *cmd = g_strjoinv(" ", argv);
    /* cmocka truncates long failure messages: the details go first */
    print_error("command: %s\nQEMU said: %s\n", cmd, log ? log : "");
    fail_msg("%s: %s", c->name,
             why ? why : exited ? "QEMU exited at once" : "QMP socket never appeared");
  }
  domain_def_free(p.def);
  g_ptr_array_unref(p.strings);
}

static void test_case(void **state) {
  run_case(*state);
}

static bool case_builds(const QemuArgvCase *c) {
  g_autoptr(DomainDef) def = qemu_argv_case_def(c);
  QemuArgvConfig cfg;
  qemu_argv_case_config(c, &cfg);
  g_auto(GStrv) argv = NULL;
  return qemu_argv_build(def, &cfg, &argv, NULL) == 0;
}

int main(void) {
  bool ci = g_strcmp0(g_getenv("CI"), "true") == 0;
  qemu_binary = g_find_program_in_path(VIRTFS_QEMU_BINARY);
  qemu_img = g_find_program_in_path(VIRTFS_QEMU_IMG_BINARY);
  if (!qemu_binary || !qemu_img) {
    fprintf(stderr, "%s or %s is not installed\n", VIRTFS_QEMU_BINARY, VIRTFS_QEMU_IMG_BINARY);
    return ci ? 1 : 77;
  }
  g_autoptr(GError) err = NULL;
  tmp_root = g_dir_make_tmp("virtfs-argv-XXXXXX", &err);
  if (!tmp_root) {
    fprintf(stderr, "%s\n", err->message);
    return 1;
  }

  GArray *tests = g_array_new(FALSE, TRUE, sizeof(struct CMUnitTest));
  for (size_t i = 0; i < qemu_argv_n_cases; i++) {
    const QemuArgvCase *c = &qemu_argv_cases[i];
    if (c->accept_skip) {
      printf("# %s is not run: it %s\n", c->name, c->accept_skip);
      continue;
    }
    if (!case_builds(c))
      continue; /* a refused definition: nothing for QEMU to accept */
    struct CMUnitTest t = {.name = c->name, .test_func = test_case, .initial_state = (void *)c};
    g_array_append_val(tests, t);
  }
  int r = _cmocka_run_group_tests("qemu_argv_accepted",
                                  (const struct CMUnitTest *)(void *)tests->data, tests->len,
                                  NULL, NULL);
  g_array_free(tests, TRUE);
  if (r == 0)
    rm_rf(tmp_root);
  else
    fprintf(stderr, "files kept in %s\n", tmp_root);
  g_free(tmp_root);
  g_free(qemu_binary);
  g_free(qemu_img);
  return r;
}
