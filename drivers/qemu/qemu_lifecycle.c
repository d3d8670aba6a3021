/* qemu_lifecycle.c — starting QEMU (and reattaching to one that outlived a
 * daemon), and the lifecycle verbs. See qemu_driver.h for the contract. */
#include "drivers/qemu/qemu_driver_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "drivers/qemu/qemu_argv.h"
#include "drivers/qemu/qemu_cpuset.h"
#include "drivers/qemu/qemu_firmware.h"
#include "drivers/qemu/qemu_migrate.h"
#include "drivers/qemu/qemu_save.h"
#include "drivers/qemu/qemu_tpm.h"
#include "drivers/qemu/qga_codec.h"
#include "objects/log.h"

#define QEMU_LOG_TAIL_LINES 4

/* At most this much of the end of a log is read: the last lines are what
 * counts, and the log of a domain grows with each of its starts (the main
 * loop reads it when an incoming migration fails). */
#define QEMU_LOG_TAIL_MAX (16 * 1024)

/* The last lines QEMU wrote to its log since `offset`: its own reason for
 * failing, for the domain's error file. NULL when it wrote nothing. */
char *qemu_log_tail(const char *log_path, goffset offset) {
  FILE *f = fopen(log_path, "re");
  if (!f)
    return NULL;
  g_autofree char *data = g_malloc0(QEMU_LOG_TAIL_MAX + 1);
  size_t len = 0;
  if (fseeko(f, 0, SEEK_END) == 0) {
    off_t end = ftello(f);
    off_t from = MAX((off_t)offset, end - QEMU_LOG_TAIL_MAX);
    if (from < end && fseeko(f, from, SEEK_SET) == 0)
      len = fread(data, 1, QEMU_LOG_TAIL_MAX, f);
  }
  fclose(f);
  if (len == 0)
    return NULL;
  g_auto(GStrv) lines = g_strsplit(data, "\n", 0);
  g_autoptr(GPtrArray) kept = g_ptr_array_new();
  for (guint i = 0; lines[i]; i++) {
    g_strstrip(lines[i]);
    if (*lines[i] && !g_str_has_prefix(lines[i], "==="))
      g_ptr_array_add(kept, lines[i]);
  }
  if (kept->len == 0)
    return NULL;
  guint from = kept->len > QEMU_LOG_TAIL_LINES ? kept->len - QEMU_LOG_TAIL_LINES : 0;
  GString *out = g_string_new(NULL);
  for (guint i = from; i < kept->len; i++)
    g_string_append_printf(out, "%s%s", out->len ? "; " : "", (char *)kept->pdata[i]);
  return g_string_free(out, FALSE);
}

static bool is_gone(QemuDomain *dom) {
  return dom->gone;
}

/* Kills a QEMU that failed to come up and waits for the exit handler. */
static void abort_start(QemuDomain *dom) {
  g_mutex_lock(&dom->obj->lock);
  if (!dom->gone && dom->pid > 0) {
    kill(dom->pid, SIGKILL);
    qemu_wait_locked(dom, is_gone, dom->driver->qmp_timeout_ms);
  }
  g_mutex_unlock(&dom->obj->lock);
}

/* Removes a runtime whose QEMU never ran. */
static void drop_runtime(QemuDomain *dom) {
  QemuDriver *d = dom->driver;
  g_mutex_lock(&dom->obj->lock);
  if (dom->obj->runtime == dom)
    dom->obj->runtime = NULL;
  dom->gone = true;
  g_cond_broadcast(&dom->changed);
  g_mutex_unlock(&dom->obj->lock);
  for (guint i = 0; i < dom->taps->len; i++)
    if (d->hooks.close_tap)
      d->hooks.close_tap(d->hooks.user_data, dom->taps->pdata[i]);
  g_ptr_array_set_size(dom->taps, 0);
  qemu_domain_unref(dom);
}

static void on_qmp_disconnect(QmpClient *client, int error, const char *sentence,
                              gpointer user_data) {
  /* QEMU's exit is noticed through its pidfd; nothing to do here. */
}

typedef struct {
  QemuDomain *dom;
  QemuProcessWatch *watch;
  int result;
  GMutex lock;
  GCond done;
  bool finished;
} WatchRequest;

/* Main loop: the pidfd source must be created on the loop's context; the
 * watch is only ever touched there. */
static gboolean install_watch(gpointer data) {
  WatchRequest *req = data;
  QemuDomain *dom = req->dom;
  int r = qemu_process_watch(dom->driver->main_context, dom->pid, qemu_on_process_exit, dom,
                             &dom->watch);
  g_mutex_lock(&req->lock);
  req->result = r;
  req->finished = true;
  g_cond_signal(&req->done);
  g_mutex_unlock(&req->lock);
  return G_SOURCE_REMOVE;
}

int qemu_attach(QemuDomain *dom, char **ret_error) {
  QemuDriver *d = dom->driver;
  WatchRequest req = {.dom = dom};
  g_mutex_init(&req.lock);
  g_cond_init(&req.done);
  g_main_context_invoke(d->main_context, install_watch, &req);
  g_mutex_lock(&req.lock);
  while (!req.finished)
    g_cond_wait(&req.done, &req.lock);
  g_mutex_unlock(&req.lock);
  g_mutex_clear(&req.lock);
  g_cond_clear(&req.done);
  if (req.result < 0) {
    *ret_error = g_strdup("QEMU exited at once");
    return req.result;
  }
  g_autofree char *qmp_path = g_build_filename(dom->dir, "qmp.sock", NULL);
  QmpClientCallbacks cb = {
    .on_event = qemu_on_qmp_event,
    .on_disconnect = on_qmp_disconnect,
    .user_data = dom,
  };
  QmpClient *qmp = NULL;
  int r = qmp_client_new(d->main_context, qmp_path, d->qmp_timeout_ms, &cb, &qmp);
  if (r < 0) {
    *ret_error = g_strdup_printf("cannot talk to QEMU: %s", g_strerror(-r));
    return r;
  }
  /* The exit handler may free dom->qmp at any time: wait on our own
   * reference. */
  g_autoptr(QmpClient) waiting = qmp_client_ref(qmp);
  g_mutex_lock(&dom->obj->lock);
  dom->qmp = qmp;
  g_mutex_unlock(&dom->obj->lock);
  if ((r = qmp_client_wait_ready(waiting, d->qmp_timeout_ms, ret_error)) < 0)
    return r;
  g_autofree char *console_path = g_build_filename(dom->dir, "console.sock", NULL);
  if (g_file_test(console_path, G_FILE_TEST_EXISTS) &&
      (r = qemu_console_connect(dom, console_path, ret_error)) < 0)
    return r;
  return 0;
}

/* Fills the live definition with what QEMU chose: pty paths. */
static void learn_ptys(QemuDomain *dom) {
  g_autofree char *error = NULL;
  JsonNode *value = NULL;
  if (qemu_qmp_sync(dom, "query-chardev", NULL, &value, &error) < 0)
    return;
  g_autoptr(GHashTable) ptys = NULL;
  if (qmp_reply_parse_chardev_ptys(value, &ptys) == 0) {
    g_mutex_lock(&dom->obj->lock);
    for (guint i = 0; i < dom->live_def->serials->len; i++) {
      DomainChardev *c = dom->live_def->serials->pdata[i];
      g_autofree char *label = g_strdup_printf("charserial%u", i);
      const char *path = g_hash_table_lookup(ptys, label);
      if (c->type == CHARDEV_PTY && path) {
        g_free(c->source_path);
        c->source_path = g_strdup(path);
      }
    }
    g_mutex_unlock(&dom->obj->lock);
  }
  json_node_unref(value);
}

static void open_log(QemuDriver *d, const DomainDef *def, char **ret_path, goffset *ret_offset,
                     GStrv argv) {
  g_autofree char *dir = g_build_filename(d->state_dir, "logs", NULL);
  g_mkdir_with_parents(dir, 0700);
  char *path = g_strdup_printf("%s/%s.log", dir, def->name);
  GStatBuf st;
  *ret_offset = g_stat(path, &st) == 0 ? st.st_size : 0;
  FILE *f = fopen(path, "a");
  if (f) {
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format_iso8601(now);
    fprintf(f, "=== %s starting:", stamp);
    for (guint i = 0; argv[i]; i++)
      fprintf(f, " %s", argv[i]);
    fprintf(f, "\n");
    fclose(f);
    *ret_offset = g_stat(path, &st) == 0 ? st.st_size : *ret_offset;
  }
  *ret_path = path;
}

static void clear_run_dir(const char *dir) {
  g_mkdir_with_parents(dir, 0700);
  static const char *const files[] = {"qmp.sock", "console.sock", "qemu.pid", "live.xml", "id",
                                      "cidata.img", "devices", "hotplug"};
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *p = g_build_filename(dir, files[i], NULL);
    g_unlink(p);
  }
}

typedef struct {
  GPtrArray *volumes;   /* QemuArgvVolume, strings owned by `strings` */
  GPtrArray *strings;
  GArray *tap_fds;      /* QEMU's fd numbers by interface index */
  GArray *spawn_fds;    /* QemuProcessFd */
} StartResources;

static void resources_clear(StartResources *res) {
  if (res->spawn_fds)
    for (guint i = 0; i < res->spawn_fds->len; i++)
      close(g_array_index(res->spawn_fds, QemuProcessFd, i).fd);
  g_clear_pointer(&res->spawn_fds, g_array_unref);
  g_clear_pointer(&res->tap_fds, g_array_unref);
  g_clear_pointer(&res->volumes, g_ptr_array_unref);
  g_clear_pointer(&res->strings, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(StartResources, resources_clear)

/* Resolves volumes and opens taps before QEMU starts. */
static int prepare_resources(QemuDomain *dom, StartResources *res, char **ret_error) {
  QemuDriver *d = dom->driver;
  DomainDef *def = dom->live_def;
  res->volumes = g_ptr_array_new_with_free_func(g_free);
  res->strings = g_ptr_array_new_with_free_func(g_free);
  res->tap_fds = g_array_new(FALSE, FALSE, sizeof(int));
  res->spawn_fds = g_array_new(FALSE, FALSE, sizeof(QemuProcessFd));
  for (guint i = 0; i < def->disks->len; i++) {
    DomainDisk *disk = def->disks->pdata[i];
    if (disk->type != DISK_TYPE_VOLUME)
      continue;
    if (!d->hooks.resolve_volume) {
      *ret_error = g_strdup("storage volumes are not available in this daemon");
      return -EOPNOTSUPP;
    }
    char *path = NULL;
    bool is_block = false;
    int r = d->hooks.resolve_volume(d->hooks.user_data, disk->source_pool, disk->source_volume,
                                    &path, &is_block, ret_error);
    if (r < 0)
      return r;
    g_ptr_array_add(res->strings, path);
    QemuArgvVolume *v = g_new0(QemuArgvVolume, 1);
    v->pool = disk->source_pool;
    v->volume = disk->source_volume;
    v->path = path;
    v->is_block = is_block;
    g_ptr_array_add(res->volumes, v);
  }
  int next_fd = 3;
  for (guint i = 0; i < def->interfaces->len; i++) {
    DomainInterface *iface = def->interfaces->pdata[i];
    int target = -1;
    if (iface->type != INTERFACE_USER) {
      if (!d->hooks.open_tap) {
        *ret_error = g_strdup("network interfaces are not available in this daemon");
        return -EOPNOTSUPP;
      }
      int fd = -1;
      int r = d->hooks.open_tap(d->hooks.user_data, def, i, iface, &fd, ret_error);
      if (r < 0)
        return r;
      if (iface->target_dev)
        g_ptr_array_add(dom->taps, g_strdup(iface->target_dev));
      target = next_fd++;
      QemuProcessFd pfd = {fd, target};
      g_array_append_val(res->spawn_fds, pfd);
    }
    g_array_append_val(res->tap_fds, target);
  }
  return 0;
}

static int start_locked_out(QemuDomain *dom, bool paused, char **ret_error) {
  QemuDriver *d = dom->driver;
  g_auto(StartResources) res = {0};
  bool restore = false;
  int r = qemu_save_prepare_restore(d, dom->live_def, &restore, ret_error);
  if (r < 0)
    return r;
  if (restore && dom->incoming_uri) {
    *ret_error = g_strdup("the domain has a saved state: start it, or discard it first "
                          "(echo discard-saved > ctl), to take a migration in");
    return -EBUSY;
  }
  r = prepare_resources(dom, &res, ret_error);
  if (r < 0)
    return r;
  clear_run_dir(dom->dir);
  g_auto(QemuArgvFirmware) fw = {0};
  if (qemu_firmware_wanted(dom->live_def) &&
      (r = qemu_firmware_prepare(dom->live_def, QEMU_FIRMWARE_DIR, d->state_dir, &fw,
                                 ret_error)) < 0)
    return r;
  if ((r = qemu_seed_prepare(dom, ret_error)) < 0)
    return r;
  g_autofree char *qmp_path = g_build_filename(dom->dir, "qmp.sock", NULL);
  g_autofree char *console_path = g_build_filename(dom->dir, "console.sock", NULL);
  g_autofree char *pid_path = g_build_filename(dom->dir, "qemu.pid", NULL);
  g_autofree char *tpm_path = g_build_filename(dom->dir, "swtpm.sock", NULL);
  g_autoptr(GArray) vols = g_array_new(FALSE, FALSE, sizeof(QemuArgvVolume));
  for (guint i = 0; i < res.volumes->len; i++)
    g_array_append_val(vols, *(QemuArgvVolume *)res.volumes->pdata[i]);
  QemuArgvConfig cfg = {
    .firmware = &fw,
    .qemu_binary = d->qemu_binary,
    .qmp_socket_path = qmp_path,
    .pid_file = pid_path,
    .console_socket_path = console_path,
    .kvm_available = d->kvm_available,
    .volumes = (const QemuArgvVolume *)(void *)vols->data,
    .n_volumes = vols->len,
    .tap_fds = (const int *)(void *)res.tap_fds->data,
    .n_tap_fds = res.tap_fds->len,
    .incoming = restore || dom->incoming_uri ? "defer" : NULL,
    .incoming_autostart = dom->incoming_uri != NULL,
    .tpm_socket_path = tpm_path,
  };
  g_auto(GStrv) argv = NULL;
  if ((r = qemu_argv_build(dom->live_def, &cfg, &argv, ret_error)) < 0)
    return r;
  g_auto(QemuTpm) tpm = QEMU_TPM_INIT; /* killed on every failure below */
  if (qemu_tpm_device(dom->live_def) &&
      (r = qemu_tpm_start(dom->live_def, d->state_dir, tpm_path, &tpm, ret_error)) < 0)
    return r;
  g_autofree char *log_path = NULL;
  goffset log_offset = 0;
  open_log(d, dom->live_def, &log_path, &log_offset, argv);
  g_mutex_lock(&dom->obj->lock);
  dom->log_path = g_strdup(log_path);
  dom->log_offset = log_offset;
  g_mutex_unlock(&dom->obj->lock);
  pid_t pid = 0;
  r = qemu_process_spawn((const char *const *)argv, log_path,
                         (const QemuProcessFd *)(void *)res.spawn_fds->data,
                         res.spawn_fds->len, &pid, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&dom->obj->lock);
  dom->pid = pid;
  g_mutex_unlock(&dom->obj->lock);
  g_autofree char *attach_error = NULL;
  if ((r = qemu_attach(dom, &attach_error)) < 0) {
    abort_start(dom);
    g_autofree char *tail = qemu_log_tail(log_path, log_offset);
    /* A QEMU that exits ends the wait at once (its exit closes the QMP
     * client), so a timeout means a process that lived but never spoke
     * QMP: a hung or wrong emulator, which abort_start killed. */
    if (r == -ETIMEDOUT) {
      *ret_error = g_strdup_printf("QEMU (pid %d) did not answer on its QMP socket within %d ms "
                                   "and was killed: %s%s%s", (int)pid, d->qmp_timeout_ms,
                                   attach_error, tail ? "; its output: " : "", tail ? tail : "");
      return -ETIMEDOUT;
    }
    *ret_error = g_strdup_printf("QEMU failed to start: %s",
                                 tail ? tail : "QEMU exited without a message");
    return -EIO;
  }
  if (dom->live_def->vcpu_cpuset &&
      (r = qemu_cpuset_apply(pid, dom->live_def->vcpu_cpuset, ret_error)) < 0) {
    abort_start(dom);
    return r;
  }
  learn_ptys(dom);
  if (dom->incoming_uri && (r = qemu_migrate_start_incoming(dom, ret_error)) < 0) {
    abort_start(dom);
    return r;
  }
  if (restore) {
    if ((r = qemu_save_restore_incoming(dom, ret_error)) < 0) {
      abort_start(dom);
      return r;
    }
    dom->restored = true;
  }
  if (!restore && !dom->incoming_uri &&
      dom->live_def->current_memory_kib < dom->live_def->memory_kib &&
      dom->live_def->memballoon.present && dom->live_def->memballoon.model == MEMBALLOON_VIRTIO) {
    JsonNode *args = NULL;
    if (qmp_args_balloon(dom->live_def->current_memory_kib * 1024, &args) == 0) {
      g_autofree char *e = NULL;
      qemu_qmp_sync(dom, "balloon", args, NULL, &e);
    }
  }
  g_mutex_lock(&d->lock);
  int id = d->next_id++;
  g_mutex_unlock(&d->lock);
  g_mutex_lock(&dom->obj->lock);
  dom->id = id;
  g_mutex_unlock(&dom->obj->lock);
  qemu_save_live(dom);
  /* A migration target runs the guest by itself once it arrived (no -S). */
  if (!paused && !dom->incoming_uri &&
      (r = qemu_qmp_sync(dom, "cont", NULL, NULL, ret_error)) < 0) {
    abort_start(dom);
    return r;
  }
  qemu_tpm_release(&tpm, d->main_context);
  return 0;
}

int qemu_domain_start(QemuDriver *d, Obj *obj, bool paused, char **ret_error) {
  return qemu_domain_start_full(d, obj, paused, NULL, ret_error);
}

int qemu_domain_start_full(QemuDriver *d, Obj *obj, bool paused, const char *incoming_uri,
                           char **ret_error) {
  /* The runtime is reserved under the registry's write lock: undefine and
   * rename check "no runtime" and then act on the store under that lock,
   * so a start slipping in between would leave a running QEMU whose
   * domain is gone (an orphan) or was renamed under it. */
  registry_write_lock(d->registry);
  g_mutex_lock(&obj->lock);
  bool removed = obj->removed;
  if (obj->runtime || removed) {
    g_mutex_unlock(&obj->lock);
    registry_write_unlock(d->registry);
    *ret_error = g_strdup(removed ? "the domain was removed" : "the domain is already active");
    return removed ? -ENOENT : -EBUSY;
  }
  const DomainDef *def = obj->def;
  if (def->virt_type == DOMAIN_VIRT_KVM && !d->kvm_available) {
    g_mutex_unlock(&obj->lock);
    registry_write_unlock(d->registry);
    *ret_error = g_strdup_printf("this host cannot run KVM guests (%s): use <domain type='qemu'>",
                                 d->kvm_unavailable_reason ? d->kvm_unavailable_reason
                                                           : "no usable /dev/kvm");
    return -EOPNOTSUPP;
  }
  QemuDomain *dom = qemu_domain_new(d, obj, def);
  dom->incoming_uri = g_strdup(incoming_uri);
  obj->runtime = dom;
  g_mutex_unlock(&obj->lock);
  registry_write_unlock(d->registry);

  G_GNUC_UNUSED g_autoptr(QemuDomain) hold = qemu_domain_ref(dom);
  int r = start_locked_out(dom, paused, ret_error);
  if (r < 0) {
    g_mutex_lock(&obj->lock);
    bool spawned = dom->pid > 0;
    if (!spawned) {
      /* Refused before QEMU ran (a missing volume, a network down): the
       * same outcome as a QEMU that failed, so the same reason and event. */
      g_mutex_lock(&d->lock);
      dom->record->state = DOMAIN_STATE_SHUTOFF;
      g_free(dom->record->reason);
      dom->record->reason = g_strdup("failed");
      g_mutex_unlock(&d->lock);
    }
    g_mutex_unlock(&obj->lock);
    if (!spawned) {
      drop_runtime(dom);
      registry_emit(d->registry, obj, "stopped", "failed");
    }
    return r;
  }
  g_mutex_lock(&obj->lock);
  dom->starting = false;
  if (dom->incoming_uri) {
    /* Nothing ran yet: the guest arrives later (qemu_migrate.c). A
     * stream that came in whole meanwhile has set the state already. */
    bool waiting = dom->state == DOMAIN_STATE_PAUSED && g_strcmp0(dom->reason, "starting") == 0;
    g_autofree char *address = g_strdup(dom->incoming_address);
    if (waiting)
      qemu_set_state_locked(dom, DOMAIN_STATE_INCOMING, "incoming");
    dom->record->state = DOMAIN_STATE_SHUTOFF;
    g_clear_pointer(&dom->record->reason, g_free);
    g_mutex_unlock(&obj->lock);
    if (waiting)
      qemu_emit(dom, "incoming", address);
    return 0;
  }
  dom->ran = dom->ran || !paused;
  const char *how = dom->restored ? "restored" : paused ? "paused" : "booted";
  qemu_set_state_locked(dom, paused ? DOMAIN_STATE_PAUSED : DOMAIN_STATE_RUNNING, how);
  dom->record->state = DOMAIN_STATE_SHUTOFF;
  g_clear_pointer(&dom->record->reason, g_free);
  g_mutex_unlock(&obj->lock);
  qemu_emit(dom, "started", how);
  return 0;
}

/* ---- reattach and autostart ---- */

static int read_int_file(const char *path, int *ret) {
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return -ENOENT;
  char *end = NULL;
  long v = strtol(text, &end, 10);
  if (end == text)
    return -EINVAL;
  *ret = (int)v;
  return 0;
}

static int reattach_one(QemuDriver *d, Obj *obj) {
  g_mutex_lock(&obj->lock);
  g_autoptr(DomainDef) def = domain_def_copy(obj->def);
  g_mutex_unlock(&obj->lock);
  g_autofree char *dir = g_build_filename(d->run_dir, "domains", def->uuid, NULL);
  g_autofree char *pid_path = g_build_filename(dir, "qemu.pid", NULL);
  int pid = 0;
  if (read_int_file(pid_path, &pid) < 0 || pid <= 0 || !qemu_process_matches(pid, def->uuid)) {
    if (g_file_test(dir, G_FILE_TEST_IS_DIR))
      clear_run_dir(dir), g_rmdir(dir);
    return 0;
  }
  g_autofree char *live_path = g_build_filename(dir, "live.xml", NULL);
  g_autofree char *live_xml = NULL;
  gsize len = 0;
  DomainDef *live = NULL;
  g_autofree char *error = NULL;
  if (g_file_get_contents(live_path, &live_xml, &len, NULL))
    domain_def_parse(live_xml, len, &live, &error);
  g_clear_pointer(&error, g_free);
  QemuDomain *dom = qemu_domain_new(d, obj, live ? live : def);
  domain_def_free(live);
  g_autofree char *id_path = g_build_filename(dir, "id", NULL);
  read_int_file(id_path, &dom->id);
  dom->pid = pid;
  for (guint i = 0; i < dom->live_def->interfaces->len; i++) {
    DomainInterface *iface = dom->live_def->interfaces->pdata[i];
    if (iface->target_dev)
      g_ptr_array_add(dom->taps, g_strdup(iface->target_dev));
  }
  g_mutex_lock(&obj->lock);
  obj->runtime = dom;
  g_mutex_unlock(&obj->lock);
  g_mutex_lock(&d->lock);
  if (dom->id >= d->next_id)
    d->next_id = dom->id + 1;
  g_mutex_unlock(&d->lock);
  G_GNUC_UNUSED g_autoptr(QemuDomain) hold = qemu_domain_ref(dom);
  if (qemu_attach(dom, &error) < 0) {
    log_warning("domain '%s': QEMU pid %d is running but does not answer: %s", def->name, pid,
                error);
    return 0;
  }
  JsonNode *value = NULL;
  bool running = false;
  g_autofree char *status = NULL;
  g_clear_pointer(&error, g_free);
  if (qemu_qmp_sync(dom, "query-status", NULL, &value, &error) == 0) {
    qmp_reply_parse_status(value, &running, &status);
    json_node_unref(value);
  }
  g_mutex_lock(&obj->lock);
  dom->starting = false;
  dom->ran = true; /* unknown: assume the guest has something to lose */
  if (!dom->gone)
    qemu_set_state_locked(dom, running ? DOMAIN_STATE_RUNNING : DOMAIN_STATE_PAUSED,
                          running ? "reattached" : (status ? status : "paused"));
  g_mutex_unlock(&obj->lock);
  log_info("domain '%s': reattached to QEMU pid %d (%s)", def->name, pid,
           status ? status : "unknown");
  if (!qemu_migrate_recover(dom, status))
    qemu_save_recover(dom, status);
  qemu_hotplug_recover(d, dom);
  /* A guest that powered off while no daemon watched is still paused in
   * QEMU (-no-shutdown): finish what the daemon would have done. */
  if (g_strcmp0(status, "shutdown") == 0) {
    g_mutex_lock(&obj->lock);
    dom->shutdown_seen = true;
    dom->quitting = dom->live_def->on_poweroff == DOMAIN_LIFECYCLE_DESTROY;
    g_mutex_unlock(&obj->lock);
    if (dom->quitting)
      qemu_qmp_sync(dom, "quit", NULL, NULL, &error);
  }
  return 1;
}

int qemu_driver_reattach_all(QemuDriver *d) {
  g_autoptr(GPtrArray) list = registry_list(d->registry, OBJ_DOMAIN, NULL);
  int n = 0;
  for (guint i = 0; i < list->len; i++)
    n += reattach_one(d, list->pdata[i]);
  return n;
}

typedef struct {
  QemuDriver *driver;
  Obj *obj;
} AutostartJob;

static gpointer autostart_thread(gpointer data) {
  AutostartJob *job = data;
  g_autofree char *error = NULL;
  if (qemu_domain_start(job->driver, job->obj, false, &error) < 0)
    obj_set_error(job->obj, "autostart: %s", error);
  obj_unref(job->obj);
  g_free(job);
  return NULL;
}

void qemu_driver_autostart(QemuDriver *d) {
  g_autoptr(GPtrArray) list = registry_list(d->registry, OBJ_DOMAIN, NULL);
  for (guint i = 0; i < list->len; i++) {
    Obj *obj = list->pdata[i];
    g_mutex_lock(&obj->lock);
    bool wanted = obj->autostart && !obj->runtime;
    g_mutex_unlock(&obj->lock);
    if (!wanted)
      continue;
    AutostartJob *job = g_new0(AutostartJob, 1);
    job->driver = d;
    job->obj = obj_ref(obj);
    g_thread_unref(g_thread_new("virtfs-autostart", autostart_thread, job));
  }
}

/* ---- verbs ---- */

int qemu_domain_shutdown(QemuDriver *d, Obj *obj, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&obj->lock);
  bool paused = dom->state == DOMAIN_STATE_PAUSED;
  bool acpi = dom->live_def->features.acpi;
  /* Started paused and never resumed: no guest code ran, so there is no
   * one to press a button for and nothing to lose: end QEMU. (Resuming
   * would only start the firmware, which ignores the button.) */
  bool never_ran = !dom->ran && !dom->starting;
  if (never_ran)
    dom->quitting = true;
  g_mutex_unlock(&obj->lock);
  if (never_ran) {
    /* QEMU may exit before its answer to quit is read: its exit is the
     * answer that counts. */
    g_autofree char *error = NULL;
    qemu_qmp_sync(dom, "quit", NULL, NULL, &error);
    g_mutex_lock(&obj->lock);
    r = qemu_wait_locked(dom, is_gone, d->qmp_timeout_ms);
    g_mutex_unlock(&obj->lock);
    if (r < 0)
      *ret_error = g_strdup_printf("QEMU did not quit: %s", error ? error : "no reason given");
    return r;
  }
  if (!acpi) {
    *ret_error = g_strdup("the guest has no ACPI (<features><acpi/>), so it cannot see the "
                          "power button: write destroy to ctl to stop it");
    return -EOPNOTSUPP;
  }
  /* A paused guest cannot see the power button. */
  if (paused && (r = qemu_qmp_sync(dom, "cont", NULL, NULL, ret_error)) < 0)
    return r;
  return qemu_qmp_sync(dom, "system_powerdown", NULL, NULL, ret_error);
}

/* Asks the guest agent to power the guest off (guest-shutdown), for
 * guests that ignore the ACPI power button. 0 once sent; -ENOTCONN at once
 * when the domain has no agent or nothing in the guest opened its port. */
static int agent_shutdown(QemuDomain *dom, char **ret_error) {
  g_autoptr(JsonNode) args = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(args, json_object_new());
  json_object_set_string_member(json_node_get_object(args), "mode", "powerdown");
  int r = qemu_agent_command(dom->driver, dom->obj, QGA_CMD_SHUTDOWN, args, true, NULL, ret_error);
  if (r == 0) {
    g_autofree char *name = obj_dup_name(dom->obj);
    log_info("domain '%s': the guest did not react to the power button; asked its guest agent "
             "to power off", name);
  }
  return r;
}

/* Waits until QEMU is gone, pressing the power button again every
 * QEMU_POWER_BUTTON_RETRY_MS while the guest shows no reaction (no
 * SHUTDOWN event: one still in its firmware or early boot lost the first
 * press), for at most timeout_ms; -EINTR as soon as `cancel` says so.
 * From the second press on, the guest agent is also asked (once it
 * answers), for guests that ignore the button. */
static int wait_powered_off(QemuDomain *dom, int timeout_ms, const QemuCancel *cancel) {
  Obj *obj = dom->obj;
  int64_t now = g_get_monotonic_time();
  int64_t deadline = now + (int64_t)timeout_ms * 1000;
  int64_t next_press = now + QEMU_POWER_BUTTON_RETRY_MS * 1000;
  int r = 0;
  bool agent_asked = false;
  g_mutex_lock(&obj->lock);
  guint seen = dom->shutdown_events;
  while (!dom->gone) {
    now = g_get_monotonic_time();
    if (now >= deadline) {
      r = -ETIMEDOUT;
      break;
    }
    if (cancel && cancel->func(cancel->data)) {
      r = -EINTR;
      break;
    }
    if (now >= next_press) {
      bool reacted = dom->shutdown_events != seen || dom->quitting;
      g_mutex_unlock(&obj->lock);
      g_autofree char *error = NULL;
      if (!reacted) {
        qemu_qmp_sync(dom, "system_powerdown", NULL, NULL, &error);
        g_autofree char *agent_error = NULL;
        if (!agent_asked)
          agent_asked = agent_shutdown(dom, &agent_error) == 0;
      }
      g_mutex_lock(&obj->lock);
      next_press = g_get_monotonic_time() + QEMU_POWER_BUTTON_RETRY_MS * 1000;
      continue;
    }
    int64_t until = MIN(MIN(deadline, next_press), now + QEMU_CANCEL_POLL_MS * 1000);
    g_cond_wait_until(&dom->changed, &obj->lock, until);
  }
  g_mutex_unlock(&obj->lock);
  return r;
}

int qemu_domain_destroy(QemuDriver *d, Obj *obj, char **ret_error) {
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = obj->runtime;
  if (!dom) {
    /* Destroying a crashed domain acknowledges the crash; a shut-off
     * domain has nothing to destroy (EBUSY, as every impossible verb). */
    g_mutex_lock(&d->lock);
    QemuRecord *rec = g_hash_table_lookup(d->records, ((DomainDef *)obj->def)->uuid);
    bool crashed = rec && rec->state == DOMAIN_STATE_CRASHED;
    if (crashed) {
      rec->state = DOMAIN_STATE_SHUTOFF;
      g_free(rec->reason);
      rec->reason = g_strdup("destroyed");
    }
    g_mutex_unlock(&d->lock);
    g_mutex_unlock(&obj->lock);
    if (!crashed) {
      *ret_error = g_strdup("the domain is not running");
      return -EBUSY;
    }
    return 0;
  }
  qemu_domain_ref(dom);
  dom->destroying = true;
  int r = 0;
  if (!dom->gone && dom->pid > 0) {
    kill(dom->pid, SIGTERM);
    if (qemu_wait_locked(dom, is_gone, QEMU_DESTROY_GRACE_MS) < 0) {
      kill(dom->pid, SIGKILL);
      r = qemu_wait_locked(dom, is_gone, d->qmp_timeout_ms);
    }
  }
  g_mutex_unlock(&obj->lock);
  qemu_domain_unref(dom);
  if (r < 0)
    *ret_error = g_strdup("QEMU did not exit after SIGKILL");
  return r;
}

int qemu_domain_reboot(QemuDriver *d, Obj *obj, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&obj->lock);
  dom->fake_reboot = true;
  g_mutex_unlock(&obj->lock);
  r = qemu_qmp_sync(dom, "system_powerdown", NULL, NULL, ret_error);
  if (r < 0) {
    g_mutex_lock(&obj->lock);
    dom->fake_reboot = false;
    g_mutex_unlock(&obj->lock);
  }
  return r;
}

int qemu_domain_reset(QemuDriver *d, Obj *obj, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  return qemu_qmp_sync(dom, "system_reset", NULL, NULL, ret_error);
}

static bool is_paused(QemuDomain *dom) {
  return dom->gone || dom->state == DOMAIN_STATE_PAUSED;
}

static bool is_running(QemuDomain *dom) {
  return dom->gone || dom->state == DOMAIN_STATE_RUNNING;
}

int qemu_domain_suspend(QemuDriver *d, Obj *obj, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  if ((r = qemu_qmp_sync(dom, "stop", NULL, NULL, ret_error)) < 0)
    return r;
  /* QMP answers before the STOP event: wait for it so a read of `state`
   * right after the write shows the new state. */
  g_mutex_lock(&obj->lock);
  qemu_wait_locked(dom, is_paused, d->qmp_timeout_ms);
  g_mutex_unlock(&obj->lock);
  return 0;
}

int qemu_domain_resume(QemuDriver *d, Obj *obj, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  if ((r = qemu_qmp_sync(dom, "cont", NULL, NULL, ret_error)) < 0)
    return r;
  g_mutex_lock(&obj->lock);
  qemu_wait_locked(dom, is_running, d->qmp_timeout_ms);
  g_mutex_unlock(&obj->lock);
  return 0;
}

int qemu_domain_set_state(QemuDriver *d, Obj *obj, DomainState target, int timeout_ms,
                          const QemuCancel *cancel, char **ret_error) {
  DomainState now = qemu_domain_get_state(d, obj, NULL);
  if (now == target)
    return 0;
  switch (target) {
  case DOMAIN_STATE_RUNNING:
    if (now == DOMAIN_STATE_PAUSED)
      return qemu_domain_resume(d, obj, ret_error);
    if (now == DOMAIN_STATE_CRASHED && qemu_domain_is_active(obj)) {
      int r = qemu_domain_destroy(d, obj, ret_error);
      if (r < 0)
        return r;
    }
    return qemu_domain_start(d, obj, false, ret_error);
  case DOMAIN_STATE_PAUSED:
    if (now == DOMAIN_STATE_RUNNING)
      return qemu_domain_suspend(d, obj, ret_error);
    return qemu_domain_start(d, obj, true, ret_error);
  case DOMAIN_STATE_SAVED:
    return qemu_domain_save(d, obj, ret_error);
  case DOMAIN_STATE_INCOMING:
    return qemu_domain_incoming(d, obj, NULL, ret_error);
  case DOMAIN_STATE_SHUTOFF: {
    if (now == DOMAIN_STATE_SAVED) {
      *ret_error = g_strdup("the domain is saved; start it to resume, or discard its saved "
                            "state first (echo discard-saved > ctl)");
      return -EBUSY;
    }
    if (!qemu_domain_is_active(obj))
      return qemu_domain_destroy(d, obj, ret_error); /* crashed -> shutoff */
    g_autoptr(QemuDomain) dom = NULL;
    int r = qemu_get_active(obj, &dom, ret_error);
    if (r < 0)
      return 0; /* went away meanwhile: that is shutoff */
    if ((r = qemu_domain_shutdown(d, obj, ret_error)) == -EOPNOTSUPP) {
      /* No ACPI: the guest agent may still power it off. */
      g_autofree char *agent_error = NULL;
      if (agent_shutdown(dom, &agent_error) < 0) {
        g_autofree char *acpi_error = g_steal_pointer(ret_error);
        *ret_error = g_strdup_printf("%s; the guest agent cannot either: %s", acpi_error,
                                     agent_error);
        return r;
      }
    } else if (r < 0) {
      return r;
    }
    r = wait_powered_off(dom, timeout_ms, cancel);
    if (r == -EINTR)
      *ret_error = g_strdup("interrupted while waiting for the guest to power off (the power "
                            "button was pressed: it may still do so; write destroy to ctl to "
                            "force it off)");
    else if (r < 0)
      *ret_error = g_strdup_printf("the guest did not power off within %d s (it may ignore the "
                                   "ACPI power button: write destroy to ctl to force it off)",
                                   timeout_ms / 1000);
    return r;
  }
  default:
    *ret_error = g_strdup_printf("'%s' cannot be asked for: write running, paused, shutoff, "
                                 "saved or incoming",
                                 domain_state_to_string(target));
    return -EINVAL;
  }
}
