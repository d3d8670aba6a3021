/* qemu_save.c — saving a domain's memory to a file and restoring it at the
 * next start, through QEMU migration into and out of a unix socket the
 * daemon serves. See qemu_save.h for the contract and the file layout. */
#include "drivers/qemu/qemu_save.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "drivers/qemu/qemu_driver_priv.h"
#include "objects/log.h"
#include "objects/store.h"

#define SAVE_CHUNK (1024 * 1024)
#define SAVE_ACCEPT_TIMEOUT_MS 10000
#define SAVE_POLL_US (100 * 1000)
#define SAVE_WRITEBACK (32 * 1024 * 1024)

static char *saved_dir(QemuDriver *d) {
  return g_build_filename(d->state_dir, "saved", NULL);
}

static char *saved_path(QemuDriver *d, const char *uuid, const char *suffix) {
  g_autofree char *dir = saved_dir(d);
  g_autofree char *file = g_strdup_printf("%s%s", uuid, suffix);
  return g_build_filename(dir, file, NULL);
}

bool qemu_save_exists(QemuDriver *d, const char *uuid) {
  g_autofree char *img = saved_path(d, uuid, ".img");
  return g_file_test(img, G_FILE_TEST_EXISTS);
}

static void remove_saved(QemuDriver *d, const char *uuid) {
  static const char *const suffixes[] = {".img", ".xml", ".img.partial"};
  for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
    g_autofree char *p = saved_path(d, uuid, suffixes[i]);
    g_unlink(p);
  }
  g_autofree char *dir = saved_dir(d);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

/* ---- compatibility ---- */

static int differs(char **ret_error, const char *what, const char *was, const char *now) {
  *ret_error = g_strdup_printf("the definition changed since the domain was saved: %s was %s, "
                               "is %s now; put it back, or discard the saved state (echo "
                               "discard-saved > ctl) to boot afresh", what, was, now);
  return -EINVAL;
}

int qemu_save_check_compatible(const DomainDef *saved, const DomainDef *now, char **ret_error) {
  if (saved->virt_type != now->virt_type)
    return differs(ret_error, "the domain type", domain_virt_type_to_string(saved->virt_type),
                   domain_virt_type_to_string(now->virt_type));
  if (g_strcmp0(saved->os.machine, now->os.machine) != 0)
    return differs(ret_error, "the machine", saved->os.machine, now->os.machine);
  if (saved->memory_kib != now->memory_kib) {
    g_autofree char *a = g_strdup_printf("%" G_GUINT64_FORMAT " KiB", saved->memory_kib);
    g_autofree char *b = g_strdup_printf("%" G_GUINT64_FORMAT " KiB", now->memory_kib);
    return differs(ret_error, "<memory>", a, b);
  }
  if (saved->vcpus != now->vcpus) {
    g_autofree char *a = g_strdup_printf("%u", saved->vcpus);
    g_autofree char *b = g_strdup_printf("%u", now->vcpus);
    return differs(ret_error, "<vcpu>", a, b);
  }
  const struct {
    const char *what;
    guint was, is;
  } counts[] = {
    {"the number of disks", saved->disks->len, now->disks->len},
    {"the number of interfaces", saved->interfaces->len, now->interfaces->len},
    {"the number of controllers", saved->controllers->len, now->controllers->len},
    {"the number of serial ports", saved->serials->len, now->serials->len},
    {"the number of video adapters", saved->videos->len, now->videos->len},
    {"the number of input devices", saved->inputs->len, now->inputs->len},
    {"the number of RNG devices", saved->rngs->len, now->rngs->len},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(counts); i++)
    if (counts[i].was != counts[i].is) {
      g_autofree char *a = g_strdup_printf("%u", counts[i].was);
      g_autofree char *b = g_strdup_printf("%u", counts[i].is);
      return differs(ret_error, counts[i].what, a, b);
    }
  for (guint i = 0; i < saved->disks->len; i++) {
    const DomainDisk *a = saved->disks->pdata[i], *b = now->disks->pdata[i];
    if (g_strcmp0(a->target_dev, b->target_dev) != 0 || a->target_bus != b->target_bus ||
        a->device != b->device) {
      g_autofree char *was = g_strdup_printf("%s (%s)", a->target_dev,
                                             disk_bus_to_string(a->target_bus));
      g_autofree char *is = g_strdup_printf("%s (%s)", b->target_dev,
                                            disk_bus_to_string(b->target_bus));
      return differs(ret_error, "a disk", was, is);
    }
  }
  for (guint i = 0; i < saved->interfaces->len; i++) {
    const DomainInterface *a = saved->interfaces->pdata[i], *b = now->interfaces->pdata[i];
    if (strcmp(a->mac, b->mac) != 0)
      return differs(ret_error, "an interface's MAC", a->mac, b->mac);
    if (g_strcmp0(a->model, b->model) != 0)
      return differs(ret_error, "an interface's model", a->model ? a->model : "default",
                     b->model ? b->model : "default");
  }
  return 0;
}

/* ---- the stream ---- */

static int unix_address(const char *path, struct sockaddr_un *sa, char **ret_error) {
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(sa->sun_path)) {
    *ret_error = g_strdup_printf("the socket path %s is too long", path);
    return -ENAMETOOLONG;
  }
  strcpy(sa->sun_path, path);
  return 0;
}

static int listen_at(const char *path, int *ret_fd, char **ret_error) {
  struct sockaddr_un sa;
  int r = unix_address(path, &sa, ret_error);
  if (r < 0)
    return r;
  g_unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
    r = -errno;
    *ret_error = g_strdup_printf("cannot listen on %s: %s", path, g_strerror(errno));
    if (fd >= 0)
      close(fd);
    return r;
  }
  *ret_fd = fd;
  return 0;
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int query_migrate(QemuDomain *dom, QmpProgress *ret, char **ret_error) {
  JsonNode *value = NULL;
  int r = qemu_qmp_sync(dom, "query-migrate", NULL, &value, ret_error);
  if (r < 0)
    return r;
  r = qmp_reply_parse_migrate(value, ret);
  json_node_unref(value);
  if (r < 0)
    *ret_error = g_strdup("QEMU's query-migrate reply is not understood");
  return r;
}

/* Waits until the migration has ended: 0 when completed, -EIO with QEMU's
 * reason when it failed. Progress goes to the record. */
static int wait_migration(QemuDomain *dom, uint64_t floor_done, char **ret_error) {
  for (;;) {
    g_auto(QmpProgress) p = {0};
    int r = query_migrate(dom, &p, ret_error);
    if (r < 0)
      return r;
    if (strcmp(p.status, "completed") == 0)
      return 0;
    if (strcmp(p.status, "failed") == 0 || strcmp(p.status, "cancelled") == 0) {
      *ret_error = g_strdup_printf("the migration %s: %s", p.status,
                                   p.error ? p.error : "QEMU gave no reason");
      return -EIO;
    }
    qemu_job_progress(dom->driver, dom->uuid, MAX(p.done, floor_done), p.total);
    g_usleep(SAVE_POLL_US);
  }
}

/* Copies `in` into `out` until the end of `in`, with the domain's job
 * progress against `expected`. `from` names `in` in a read error, `to_fail`
 * begins a write error. With `writeback` (out is the image file), the
 * writeback of each chunk starts as it lands, so the fsync at the end does
 * not wait for the whole image at once. No QMP in here: while QEMU sends
 * the last pages of a save it holds its big lock, so a query-migrate would
 * wait for QEMU, which waits for us to read. */
static int copy_stream(QemuDomain *dom, int in, int out, uint64_t expected, bool writeback,
                       const char *from, const char *to_fail, uint64_t *ret_bytes,
                       char **ret_error) {
  g_autofree char *buf = g_malloc(SAVE_CHUNK);
  uint64_t total = 0;
  int64_t last = 0;
  for (;;) {
    ssize_t n = read(in, buf, SAVE_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *ret_error = g_strdup_printf("reading %s: %s", from, g_strerror(errno));
      return -EIO;
    }
    if (n == 0)
      break;
    int r = write_all(out, buf, (size_t)n);
    if (r < 0) {
      *ret_error = g_strdup_printf("%s: %s", to_fail, g_strerror(-r));
      return r;
    }
    if (writeback && total / SAVE_WRITEBACK != (total + (uint64_t)n) / SAVE_WRITEBACK)
      sync_file_range(out, 0, 0, SYNC_FILE_RANGE_WRITE);
    total += (uint64_t)n;
    int64_t now = g_get_monotonic_time();
    if (now - last > SAVE_POLL_US) {
      last = now;
      qemu_job_progress(dom->driver, dom->uuid, total, MAX(expected, total));
    }
  }
  *ret_bytes = total;
  return 0;
}

static int set_max_bandwidth(QemuDomain *dom, char **ret_error) {
  /* QEMU throttles migrations to 128 MiB/s by default; a save to a local
   * file should go as fast as the disk takes it. */
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "max-bandwidth", INT64_MAX / 2);
  JsonNode *args = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(args, o);
  return qemu_qmp_sync(dom, "migrate-set-parameters", args, NULL, ret_error);
}

static int save_stream(QemuDomain *dom, const char *partial, uint64_t ram, char **ret_error) {
  g_autofree char *sock = g_build_filename(dom->dir, "save.sock", NULL);
  int lfd = -1;
  int r = listen_at(sock, &lfd, ret_error);
  if (r < 0)
    return r;
  int out = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    r = -errno;
    *ret_error = g_strdup_printf("cannot create %s: %s", partial, g_strerror(errno));
    close(lfd);
    g_unlink(sock);
    return r;
  }
  g_autofree char *uri = g_strdup_printf("unix:%s", sock);
  JsonNode *args = NULL;
  qmp_args_migrate(uri, &args);
  g_autofree char *e = NULL;
  set_max_bandwidth(dom, &e);
  if ((r = qemu_qmp_sync(dom, "migrate", args, NULL, ret_error)) >= 0) {
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    int conn = -1;
    if (poll(&pfd, 1, SAVE_ACCEPT_TIMEOUT_MS) == 1)
      conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      *ret_error = g_strdup("QEMU did not connect to the save socket");
      r = -EIO;
      g_autofree char *ce = NULL;
      qemu_qmp_sync(dom, "migrate_cancel", NULL, NULL, &ce);
    } else {
      uint64_t bytes = 0;
      r = copy_stream(dom, conn, out, ram, true, "the migration stream",
                      "writing the saved state", &bytes, ret_error);
      close(conn);
      if (r == 0)
        r = wait_migration(dom, bytes, ret_error);
      if (r == 0 && fsync(out) < 0) {
        r = -errno;
        *ret_error = g_strdup_printf("cannot sync %s: %s", partial, g_strerror(errno));
      }
    }
  }
  close(out);
  close(lfd);
  g_unlink(sock);
  return r;
}

/* Brings the guest back as it was when a save did not happen. */
static void resume_after_failed_save(QemuDomain *dom, bool was_running) {
  g_autofree char *e = NULL;
  if (was_running)
    qemu_qmp_sync(dom, "cont", NULL, NULL, &e);
}

static bool is_gone(QemuDomain *dom) {
  return dom->gone;
}

static int save(QemuDriver *d, Obj *obj, QemuDomain *dom, char **ret_error) {
  g_mutex_lock(&obj->lock);
  bool was_running = dom->state == DOMAIN_STATE_RUNNING;
  bool usable = dom->state == DOMAIN_STATE_RUNNING || dom->state == DOMAIN_STATE_PAUSED;
  g_autofree char *def_xml = domain_def_format(dom->live_def, false, -1);
  uint64_t ram = dom->live_def->memory_kib * 1024;
  g_mutex_unlock(&obj->lock);
  if (!usable) {
    *ret_error = g_strdup("only a running or paused domain can be saved");
    return -EBUSY;
  }
  g_autofree char *dir = saved_dir(d);
  if (g_mkdir_with_parents(dir, 0700) < 0) {
    *ret_error = g_strdup_printf("cannot create %s: %s", dir, g_strerror(errno));
    return -errno;
  }
  g_autofree char *partial = saved_path(d, dom->uuid, ".img.partial");
  g_autofree char *img = saved_path(d, dom->uuid, ".img");
  int r = save_stream(dom, partial, ram, ret_error);
  g_autofree char *meta = g_strdup_printf("<saved state='%s'>\n%s</saved>\n",
                                          was_running ? "running" : "paused", def_xml);
  g_autofree char *meta_file = g_strdup_printf("%s.xml", dom->uuid);
  if (r == 0 && (r = store_write_file_atomic(dir, meta_file, meta, ret_error)) == 0 &&
      rename(partial, img) < 0) {
    r = -errno;
    *ret_error = g_strdup_printf("cannot rename %s: %s", partial, g_strerror(errno));
  }
  if (r < 0) {
    g_unlink(partial);
    resume_after_failed_save(dom, was_running);
    return r;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  /* The image is whole: QEMU may go. */
  g_mutex_lock(&obj->lock);
  dom->quitting = true;
  g_mutex_unlock(&obj->lock);
  g_autofree char *e = NULL;
  qemu_qmp_sync(dom, "quit", NULL, NULL, &e);
  g_mutex_lock(&obj->lock);
  qemu_wait_locked(dom, is_gone, d->qmp_timeout_ms);
  bool gone = dom->gone;
  g_mutex_unlock(&obj->lock);
  if (!gone) {
    g_autofree char *de = NULL;
    qemu_domain_destroy(d, obj, &de);
  }
  return 0;
}

int qemu_domain_save(QemuDriver *d, Obj *obj, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0) {
    g_clear_pointer(ret_error, g_free);
    *ret_error = g_strdup("only a running or paused domain can be saved");
    return r;
  }
  if ((r = qemu_job_begin(d, dom->uuid, "save", ret_error)) < 0)
    return r;
  int64_t t0 = g_get_monotonic_time();
  r = save(d, obj, dom, ret_error);
  uint64_t bytes = 0;
  g_autofree char *img = saved_path(d, dom->uuid, ".img");
  GStatBuf st;
  if (r == 0 && g_stat(img, &st) == 0)
    bytes = (uint64_t)st.st_size;
  qemu_job_end(d, dom->uuid);
  if (r == 0) {
    g_autofree char *detail = g_strdup_printf("%" G_GUINT64_FORMAT " bytes %" G_GINT64_FORMAT
                                              "ms", bytes, (g_get_monotonic_time() - t0) / 1000);
    qemu_emit(dom, "saved", detail);
  }
  return r;
}

int qemu_domain_discard_saved(QemuDriver *d, Obj *obj, char **ret_error) {
  g_mutex_lock(&obj->lock);
  g_autofree char *uuid = g_strdup(((const DomainDef *)obj->def)->uuid);
  g_mutex_unlock(&obj->lock);
  if (!qemu_save_exists(d, uuid)) {
    *ret_error = g_strdup("the domain has no saved state");
    return -ENOENT;
  }
  int r = qemu_job_begin(d, uuid, "discard", ret_error);
  if (r < 0)
    return r;
  remove_saved(d, uuid);
  qemu_job_end(d, uuid);
  registry_emit(d->registry, obj, "saved-state", "discarded");
  return 0;
}

/* ---- restoring ---- */

/* The definition and state a saved image was taken with. */
static int read_meta(QemuDriver *d, const char *uuid, DomainDef **ret_def, bool *ret_running,
                     char **ret_error) {
  g_autofree char *path = saved_path(d, uuid, ".xml");
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL)) {
    *ret_error = g_strdup_printf("the saved state has no record (%s)", path);
    return -EIO;
  }
  const char *start = strstr(text, "<domain");
  char *end = g_strrstr(text, "</saved>");
  if (!start || !end) {
    *ret_error = g_strdup_printf("the record %s is damaged", path);
    return -EIO;
  }
  *end = '\0';
  *ret_running = g_str_has_prefix(text, "<saved state='running'>");
  return domain_def_parse(start, strlen(start), ret_def, ret_error);
}

int qemu_save_prepare_restore(QemuDriver *d, const DomainDef *def, bool *ret_restore,
                              char **ret_error) {
  *ret_restore = false;
  if (!qemu_save_exists(d, def->uuid))
    return 0;
  g_autoptr(DomainDef) saved = NULL;
  bool running = false;
  int r = read_meta(d, def->uuid, &saved, &running, ret_error);
  if (r < 0)
    return r;
  if ((r = qemu_save_check_compatible(saved, def, ret_error)) < 0)
    return r;
  *ret_restore = true;
  return 0;
}

int qemu_save_restore_incoming(QemuDomain *dom, char **ret_error) {
  QemuDriver *d = dom->driver;
  g_autofree char *img = saved_path(d, dom->uuid, ".img");
  int in = open(img, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    *ret_error = g_strdup_printf("cannot open the saved state %s: %s", img, g_strerror(errno));
    return -errno;
  }
  g_autofree char *sock = g_build_filename(dom->dir, "restore.sock", NULL);
  g_autofree char *uri = g_strdup_printf("unix:%s", sock);
  JsonNode *args = NULL;
  qmp_args_migrate(uri, &args);
  int r = qemu_qmp_sync(dom, "migrate-incoming", args, NULL, ret_error);
  int conn = -1;
  struct sockaddr_un sa;
  if (r >= 0 && (r = unix_address(sock, &sa, ret_error)) == 0) {
    conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (conn < 0 || connect(conn, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
      r = -EIO;
      *ret_error = g_strdup_printf("cannot connect to QEMU's restore socket: %s",
                                   g_strerror(errno));
    }
  }
  if (r == 0) {
    GStatBuf st;
    uint64_t size = g_stat(img, &st) == 0 ? (uint64_t)st.st_size : 0;
    uint64_t done = 0;
    r = copy_stream(dom, in, conn, size, false, img, "QEMU stopped reading the saved state",
                    &done, ret_error);
    shutdown(conn, SHUT_WR);
    if (r == 0)
      r = wait_migration(dom, done, ret_error);
  }
  if (conn >= 0)
    close(conn);
  close(in);
  g_unlink(sock);
  if (r == 0)
    remove_saved(d, dom->uuid);
  return r;
}

void qemu_save_recover(QemuDomain *dom, const char *status) {
  QemuDriver *d = dom->driver;
  g_autofree char *partial = saved_path(d, dom->uuid, ".img.partial");
  bool whole = qemu_save_exists(d, dom->uuid);
  g_autofree char *e = NULL;
  if (g_strcmp0(status, "inmigrate") == 0) {
    /* A restore the daemon did not see to its end: the image is still
     * whole; end this QEMU, the next start restores again. */
    log_warning("domain '%s': ending a QEMU left in the middle of a restore", dom->obj->name);
    qemu_domain_destroy(d, dom->obj, &e);
    return;
  }
  if (g_file_test(partial, G_FILE_TEST_EXISTS)) {
    /* A save the daemon did not finish: it never counts. */
    g_unlink(partial);
    log_warning("domain '%s': removed an unfinished saved state", dom->obj->name);
  }
  if (g_strcmp0(status, "postmigrate") != 0) {
    /* A QEMU that runs (or is paused) beside a whole image took it in: the
     * daemon died after the restore but before deleting the image, which
     * must not be restored a second time at the next start. */
    if (whole) {
      log_warning("domain '%s': removing a saved state that was already restored",
                  dom->obj->name);
      remove_saved(d, dom->uuid);
    }
    return;
  }
  if (whole) {
    /* Saved to the end, QEMU not yet gone: finish the save. */
    g_mutex_lock(&dom->obj->lock);
    dom->quitting = true;
    g_mutex_unlock(&dom->obj->lock);
    qemu_qmp_sync(dom, "quit", NULL, NULL, &e);
    return;
  }
  /* Migrated out but the image was not kept: the guest goes on. */
  qemu_qmp_sync(dom, "cont", NULL, NULL, &e);
}
