/* qemu_driver.c — the driver object, per-domain records and runtimes, and
 * what happens on the main loop: QMP events and QEMU's exit. Starting and
 * the verbs are in qemu_lifecycle.c, live data in qemu_live.c, the console
 * socket in qemu_console.c. */
#include "drivers/qemu/qemu_driver_priv.h"
#include "drivers/qemu/qemu_save.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "objects/log.h"

ENUM_TABLE_IMPL(domain_state, DomainState, "shutoff", "running", "paused", "crashed",
                "saved", "incoming")

static void record_free(QemuRecord *r) {
  g_free(r->reason);
  g_free(r->last_migration);
  console_ring_free(r->console);
  g_free(r);
}

int qemu_driver_new(Registry *registry, const QemuDriverConfig *cfg, QemuDriver **ret_driver,
                    char **ret_error) {
  QemuDriver *d = g_new0(QemuDriver, 1);
  d->registry = registry;
  d->state_dir = g_strdup(cfg->state_dir);
  d->run_dir = g_strdup(cfg->run_dir);
  d->qemu_binary = g_strdup(cfg->qemu_binary);
  d->kvm_available = cfg->kvm_available;
  d->kvm_unavailable_reason = g_strdup(cfg->kvm_unavailable_reason);
  d->qmp_timeout_ms = cfg->qmp_timeout_ms > 0 ? cfg->qmp_timeout_ms : QEMU_QMP_TIMEOUT_MS;
  d->main_context = g_main_context_ref(cfg->main_context);
  d->hooks = cfg->hooks;
  d->migration_host = g_strdup(cfg->migration_host ? cfg->migration_host : "0.0.0.0");
  g_mutex_init(&d->lock);
  g_mutex_init(&d->hotplug_lock);
  d->records = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)record_free);
  d->next_id = 1;
  g_autofree char *domains = g_build_filename(cfg->run_dir, "domains", NULL);
  g_autofree char *logs = g_build_filename(cfg->state_dir, "logs", NULL);
  if (g_mkdir_with_parents(domains, 0700) < 0 || g_mkdir_with_parents(logs, 0700) < 0) {
    int e = errno;
    *ret_error = g_strdup_printf("cannot create %s or %s: %s", domains, logs, g_strerror(e));
    qemu_driver_free(d);
    return -e;
  }
  *ret_driver = d;
  return 0;
}

void qemu_driver_free(QemuDriver *d) {
  if (!d)
    return;
  /* Detach from every running QEMU without stopping it. */
  g_autoptr(GPtrArray) list = registry_list(d->registry, OBJ_DOMAIN, NULL);
  for (guint i = 0; i < list->len; i++) {
    Obj *obj = list->pdata[i];
    g_mutex_lock(&obj->lock);
    QemuDomain *dom = obj->runtime;
    obj->runtime = NULL;
    g_mutex_unlock(&obj->lock);
    if (!dom)
      continue;
    qemu_console_disconnect(dom);
    if (dom->qmp)
      qmp_client_free(g_steal_pointer(&dom->qmp));
    g_clear_pointer(&dom->watch, qemu_process_watch_free);
    qemu_domain_unref(dom);
  }
  g_hash_table_unref(d->records);
  g_mutex_clear(&d->lock);
  g_mutex_clear(&d->hotplug_lock);
  g_main_context_unref(d->main_context);
  g_free(d->state_dir);
  g_free(d->run_dir);
  g_free(d->qemu_binary);
  g_free(d->kvm_unavailable_reason);
  g_free(d->migration_host);
  g_free(d);
}

QemuRecord *qemu_record_hold(QemuDriver *d, const char *uuid) {
  g_mutex_lock(&d->lock);
  QemuRecord *r = g_hash_table_lookup(d->records, uuid);
  if (!r) {
    r = g_new0(QemuRecord, 1);
    r->state = DOMAIN_STATE_SHUTOFF;
    r->console = console_ring_new(QEMU_CONSOLE_LOG_SIZE);
    g_hash_table_insert(d->records, g_strdup(uuid), r);
  }
  r->users++;
  g_mutex_unlock(&d->lock);
  return r;
}

void qemu_record_release(QemuDriver *d, QemuRecord *r) {
  g_mutex_lock(&d->lock);
  bool last = --r->users == 0 && r->forgotten;
  g_mutex_unlock(&d->lock);
  if (last)
    record_free(r);
}

void qemu_driver_forget_domain(QemuDriver *d, const char *uuid) {
  gpointer key, value;
  g_mutex_lock(&d->lock);
  bool found = g_hash_table_steal_extended(d->records, uuid, &key, &value);
  QemuRecord *r = value;
  bool unused = found && r->users == 0;
  if (found && !unused)
    r->forgotten = true;
  g_mutex_unlock(&d->lock);
  if (found)
    g_free(key);
  if (unused)
    record_free(r);
}

QemuDomain *qemu_domain_new(QemuDriver *driver, Obj *obj, const DomainDef *def) {
  QemuDomain *dom = g_new0(QemuDomain, 1);
  dom->refcount = 1;
  dom->driver = driver;
  dom->obj = obj_ref(obj);
  dom->uuid = g_strdup(def->uuid);
  dom->record = qemu_record_hold(driver, def->uuid);
  dom->dir = g_build_filename(driver->run_dir, "domains", def->uuid, NULL);
  dom->live_def = domain_def_copy(def);
  dom->id = -1;
  dom->state = DOMAIN_STATE_PAUSED;
  dom->reason = g_strdup("starting");
  dom->starting = true;
  dom->console_fd = -1;
  dom->agent_fd = -1;
  dom->agent_buf = g_string_new(NULL);
  g_mutex_init(&dom->agent_lock);
  g_cond_init(&dom->agent_cond);
  g_cond_init(&dom->changed);
  g_mutex_init(&dom->console_write_lock);
  dom->taps = g_ptr_array_new_with_free_func(g_free);
  return dom;
}

QemuDomain *qemu_domain_ref(QemuDomain *dom) {
  g_atomic_int_inc(&dom->refcount);
  return dom;
}

void qemu_domain_unref(QemuDomain *dom) {
  if (!dom || !g_atomic_int_dec_and_test(&dom->refcount))
    return;
  g_assert(dom->console_source == NULL && dom->watch == NULL);
  if (dom->qmp)
    qmp_client_unref(dom->qmp);
  if (dom->console_fd >= 0)
    close(dom->console_fd);
  if (dom->agent_fd >= 0)
    close(dom->agent_fd);
  g_string_free(dom->agent_buf, TRUE);
  g_mutex_clear(&dom->agent_lock);
  g_cond_clear(&dom->agent_cond);
  domain_def_free(dom->live_def);
  g_ptr_array_unref(dom->taps);
  if (dom->screen)
    g_bytes_unref(dom->screen);
  g_cond_clear(&dom->changed);
  g_mutex_clear(&dom->console_write_lock);
  obj_unref(dom->obj);
  qemu_record_release(dom->driver, dom->record);
  g_free(dom->uuid);
  g_free(dom->dir);
  g_free(dom->reason);
  g_free(dom->incoming_uri);
  g_free(dom->incoming_address);
  g_free(dom->migrate_uri);
  g_free(dom->log_path);
  g_free(dom);
}

void qemu_set_state_locked(QemuDomain *dom, DomainState state, const char *reason) {
  dom->state = state;
  g_free(dom->reason);
  dom->reason = g_strdup(reason ? reason : "");
  dom->obj->mtime_us = obj_now_us();
  g_cond_broadcast(&dom->changed);
}

void qemu_emit(QemuDomain *dom, const char *event, const char *detail) {
  registry_emit(dom->driver->registry, dom->obj, event, detail);
}

int qemu_get_active(Obj *obj, QemuDomain **ret_dom, char **ret_error) {
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = obj->runtime;
  if (!dom || dom->gone) {
    g_mutex_unlock(&obj->lock);
    if (ret_error)
      *ret_error = g_strdup("the domain is not running");
    return -EBUSY;
  }
  qemu_domain_ref(dom);
  g_mutex_unlock(&obj->lock);
  *ret_dom = dom;
  return 0;
}

int qemu_qmp_sync(QemuDomain *dom, const char *command, JsonNode *args, JsonNode **ret_value,
                  char **ret_error) {
  return qemu_qmp_sync_timeout(dom, command, args, dom->driver->qmp_timeout_ms, ret_value,
                               ret_error);
}

int qemu_qmp_sync_timeout(QemuDomain *dom, const char *command, JsonNode *args, int timeout_ms,
                          JsonNode **ret_value, char **ret_error) {
  return qemu_qmp_sync_fd(dom, command, args, -1, timeout_ms, ret_value, ret_error);
}

int qemu_qmp_sync_fd(QemuDomain *dom, const char *command, JsonNode *args, int fd,
                     int timeout_ms, JsonNode **ret_value, char **ret_error) {
  g_autoptr(JsonNode) owned_args = args;
  g_mutex_lock(&dom->obj->lock);
  QmpClient *qmp = dom->qmp && !dom->gone ? qmp_client_ref(dom->qmp) : NULL;
  g_mutex_unlock(&dom->obj->lock);
  if (!qmp) {
    *ret_error = g_strdup("QEMU is gone");
    return -EBUSY;
  }
  JsonNode *value = NULL;
  int r = qmp_client_execute_sync_fd(qmp, command, g_steal_pointer(&owned_args), fd,
                                     timeout_ms, &value, ret_error);
  qmp_client_unref(qmp);
  if (r >= 0) {
    if (ret_value)
      *ret_value = value;
    else if (value)
      json_node_unref(value);
  }
  return r;
}

int qemu_wait_locked(QemuDomain *dom, bool (*pred)(QemuDomain *dom), int64_t timeout_ms) {
  /* g_cond_wait_until may return early (a signal on this thread): only
   * the deadline ends the wait. */
  int64_t deadline = g_get_monotonic_time() + timeout_ms * 1000;
  while (!pred(dom)) {
    if (g_get_monotonic_time() >= deadline)
      return -ETIMEDOUT;
    g_cond_wait_until(&dom->changed, &dom->obj->lock, deadline);
  }
  return 0;
}

/* ---- main loop: QMP events ---- */

static void on_command_done(QmpClient *client, int error, JsonNode *value,
                            const char *error_sentence, gpointer user_data) {
  if (value)
    json_node_unref(value);
  if (error < 0)
    log_warning("QMP %s failed: %s", (const char *)user_data,
                error_sentence ? error_sentence : g_strerror(-error));
}

static void send_async(QemuDomain *dom, const char *command) {
  if (dom->qmp)
    qmp_client_execute(dom->qmp, command, NULL, dom->driver->qmp_timeout_ms, on_command_done,
                       (gpointer)command, NULL);
}

/* The guest powered off, or (with -no-reboot) reset. QEMU is paused now
 * (-no-shutdown); apply the definition's action. Main loop, no locks. */
static void apply_shutdown_action(QemuDomain *dom, DomainLifecycleAction action) {
  switch (action) {
  case DOMAIN_LIFECYCLE_RESTART:
    send_async(dom, "system_reset");
    send_async(dom, "cont");
    break;
  case DOMAIN_LIFECYCLE_PRESERVE:
    g_mutex_lock(&dom->obj->lock);
    qemu_set_state_locked(dom, DOMAIN_STATE_PAUSED, "shutdown");
    g_mutex_unlock(&dom->obj->lock);
    break;
  default:
    g_mutex_lock(&dom->obj->lock);
    dom->quitting = true;
    g_mutex_unlock(&dom->obj->lock);
    send_async(dom, "quit");
    break;
  }
}

void qemu_on_qmp_event(QmpClient *client, const QmpMessage *event, gpointer user_data) {
  QemuDomain *dom = user_data;
  Obj *obj = dom->obj;
  const char *emit = NULL, *detail = NULL;
  g_autofree char *owned_detail = NULL;
  g_mutex_lock(&obj->lock);
  if (dom->gone) {
    g_mutex_unlock(&obj->lock);
    return;
  }
  switch (event->event) {
  case QMP_EVENT_STOP:
    if (dom->migrating && dom->state == DOMAIN_STATE_RUNNING) {
      /* The last pass of a migration out: not a pause anyone asked for. */
      qemu_set_state_locked(dom, DOMAIN_STATE_PAUSED, "migrating");
    } else if (!dom->starting && !dom->shutdown_seen && dom->state == DOMAIN_STATE_RUNNING) {
      qemu_set_state_locked(dom, DOMAIN_STATE_PAUSED, "paused");
      emit = "suspended";
      detail = "paused";
    }
    break;
  case QMP_EVENT_RESUME:
    dom->shutdown_seen = false;
    dom->ran = true;
    if (dom->state == DOMAIN_STATE_INCOMING) {
      /* The guest arrived and runs here now. */
      g_clear_pointer(&dom->incoming_address, g_free);
      qemu_set_state_locked(dom, DOMAIN_STATE_RUNNING, "migrated");
      emit = "started";
      detail = "migrated";
    } else if (g_strcmp0(dom->reason, "migrating") == 0) {
      /* A migration out failed after its last pass: QEMU resumed the
       * guest, which was never paused for anyone (no event either way). */
      qemu_set_state_locked(dom, DOMAIN_STATE_RUNNING, "unpaused");
    } else if (!dom->starting && dom->state != DOMAIN_STATE_RUNNING) {
      bool was_reboot = g_strcmp0(dom->reason, "rebooting") == 0;
      qemu_set_state_locked(dom, DOMAIN_STATE_RUNNING, was_reboot ? "rebooted" : "unpaused");
      if (!was_reboot) {
        emit = "resumed";
        detail = "unpaused";
      }
    }
    break;
  case QMP_EVENT_RESET: {
    bool guest = false;
    qmp_event_parse_shutdown(event->value, &guest, &owned_detail);
    emit = "rebooted";
    detail = guest ? "guest" : "host";
    break;
  }
  case QMP_EVENT_SHUTDOWN: {
    bool guest = false;
    g_autofree char *reason = NULL;
    qmp_event_parse_shutdown(event->value, &guest, &reason);
    dom->shutdown_events++;
    g_cond_broadcast(&dom->changed);
    if (dom->quitting || dom->destroying)
      break;
    dom->shutdown_seen = true;
    DomainLifecycleAction action = dom->live_def->on_poweroff;
    if (dom->fake_reboot) {
      dom->fake_reboot = false;
      action = DOMAIN_LIFECYCLE_RESTART;
      qemu_set_state_locked(dom, DOMAIN_STATE_PAUSED, "rebooting");
    } else if (g_strcmp0(reason, "guest-reset") == 0) {
      action = dom->live_def->on_reboot;
    }
    g_mutex_unlock(&obj->lock);
    apply_shutdown_action(dom, action);
    return;
  }
  case QMP_EVENT_GUEST_PANICKED:
    qemu_set_state_locked(dom, DOMAIN_STATE_CRASHED, "panicked");
    emit = "crashed";
    detail = "panicked";
    if (dom->live_def->on_crash == DOMAIN_LIFECYCLE_DESTROY)
      dom->quitting = true;
    break;
  default:
    break;
  }
  bool quit = event->event == QMP_EVENT_GUEST_PANICKED && dom->quitting;
  bool migration = event->event == QMP_EVENT_UNKNOWN &&
                   g_strcmp0(event->event_name, "MIGRATION") == 0;
  g_mutex_unlock(&obj->lock);
  if (emit)
    qemu_emit(dom, emit, detail);
  if (quit)
    send_async(dom, "quit");
  if (migration)
    qemu_migrate_on_event(dom, event->value);
}

/* ---- main loop: QEMU is gone ---- */

static void remove_run_files(const char *dir) {
  static const char *const files[] = {"qmp.sock", "console.sock", "qemu.pid", "live.xml", "id",
                                      "devices", "hotplug", "migrate-out", "incoming"};
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *p = g_build_filename(dir, files[i], NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
}

void qemu_on_process_exit(pid_t pid, int status, void *user_data) {
  QemuDomain *dom = user_data;
  Obj *obj = dom->obj;
  QemuDriver *d = dom->driver;
  const char *event = "stopped";
  g_autofree char *reason = NULL;
  DomainState final = DOMAIN_STATE_SHUTOFF;

  /* Tear down first, announce after: a waiter released by `gone` may start
   * the domain again at once, and must find the run dir free. */
  g_mutex_lock(&obj->lock);
  QmpClient *qmp = g_steal_pointer(&dom->qmp);
  g_mutex_unlock(&obj->lock);
  g_clear_pointer(&dom->watch, qemu_process_watch_free);
  if (qmp)
    qmp_client_free(qmp);
  qemu_console_disconnect(dom);
  for (guint i = 0; i < dom->taps->len; i++)
    if (d->hooks.close_tap)
      d->hooks.close_tap(d->hooks.user_data, dom->taps->pdata[i]);
  remove_run_files(dom->dir);
  console_ring_close(dom->record->console);

  g_autofree char *incoming_error = NULL;
  g_mutex_lock(&obj->lock);
  if (dom->migrated)
    reason = g_strdup("migrated");
  else if (dom->destroying)
    reason = g_strdup("destroyed");
  else if (dom->state == DOMAIN_STATE_INCOMING && !dom->quitting) {
    /* QEMU ends itself when an incoming stream breaks or does not load. */
    reason = g_strdup("migration-failed");
    g_autofree char *tail = dom->log_path ? qemu_log_tail(dom->log_path, dom->log_offset) : NULL;
    g_autofree char *how = status >= 0 && WIFSIGNALED(status)
                               ? g_strdup_printf("killed by signal %d", WTERMSIG(status))
                               : g_strdup_printf("exited with status %d",
                                                 status >= 0 ? WEXITSTATUS(status) : -1);
    incoming_error = g_strdup_printf("the incoming migration failed: QEMU %s%s%s", how,
                                     tail ? ": " : "", tail ? tail : "");
  } else if (dom->starting)
    reason = g_strdup("failed");
  else if (dom->state == DOMAIN_STATE_CRASHED) {
    final = DOMAIN_STATE_CRASHED;
    event = "crashed";
    reason = g_strdup(dom->reason);
  } else if (dom->shutdown_seen || dom->quitting)
    reason = g_strdup("shutdown");
  else {
    final = DOMAIN_STATE_CRASHED;
    event = "crashed";
    if (status >= 0 && WIFSIGNALED(status))
      reason = g_strdup_printf("killed by signal %d", WTERMSIG(status));
    else if (status >= 0 && WIFEXITED(status))
      reason = g_strdup_printf("exited with status %d", WEXITSTATUS(status));
    else
      reason = g_strdup("vanished");
  }
  dom->gone = true;
  qemu_set_state_locked(dom, final, reason);
  g_free(dom->record->reason);
  dom->record->state = final;
  dom->record->reason = g_strdup(reason);
  if (obj->runtime == dom)
    obj->runtime = NULL;
  g_mutex_unlock(&obj->lock);

  log_info("domain '%s': QEMU (pid %d) is gone: %s", obj->name, (int)pid, reason);
  if (incoming_error)
    obj_set_error(obj, "%s", incoming_error);
  qemu_emit(dom, event, reason);
  qemu_domain_unref(dom); /* the reference Obj.runtime held */
}

/* ---- run dir ---- */

void qemu_save_live(QemuDomain *dom) {
  g_mutex_lock(&dom->obj->lock);
  g_autofree char *xml = domain_def_format(dom->live_def, true, dom->id);
  int id = dom->id;
  g_mutex_unlock(&dom->obj->lock);
  g_autofree char *path = g_build_filename(dom->dir, "live.xml", NULL);
  g_autofree char *id_path = g_build_filename(dom->dir, "id", NULL);
  g_autofree char *id_text = g_strdup_printf("%d\n", id);
  g_file_set_contents(path, xml, -1, NULL);
  g_file_set_contents(id_path, id_text, -1, NULL);
}

/* ---- reading ---- */

DomainState qemu_domain_get_state(QemuDriver *d, Obj *obj, char **ret_reason) {
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = obj->runtime;
  DomainState s;
  g_autofree char *reason = NULL;
  if (dom) {
    s = dom->state;
    reason = g_strdup(dom->reason);
  } else {
    const char *uuid = ((const DomainDef *)obj->def)->uuid;
    g_mutex_lock(&d->lock);
    QemuRecord *r = g_hash_table_lookup(d->records, uuid);
    s = r ? r->state : DOMAIN_STATE_SHUTOFF;
    reason = g_strdup(r && r->reason ? r->reason : "");
    g_mutex_unlock(&d->lock);
    if (s == DOMAIN_STATE_SHUTOFF && qemu_save_exists(d, uuid)) {
      s = DOMAIN_STATE_SAVED;
      g_free(reason);
      reason = g_strdup("saved");
    }
  }
  g_mutex_unlock(&obj->lock);
  if (ret_reason)
    *ret_reason = g_steal_pointer(&reason);
  return s;
}

bool qemu_domain_is_active(Obj *obj) {
  g_mutex_lock(&obj->lock);
  bool active = obj->runtime != NULL;
  g_mutex_unlock(&obj->lock);
  return active;
}

int qemu_domain_get_id(Obj *obj) {
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = obj->runtime;
  int id = dom && !dom->starting ? dom->id : -1;
  g_mutex_unlock(&obj->lock);
  return id;
}

char *qemu_domain_live_xml(Obj *obj) {
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = obj->runtime;
  char *xml = dom ? domain_def_format(dom->live_def, true, dom->id) : NULL;
  g_mutex_unlock(&obj->lock);
  return xml;
}

void qemu_domain_info(QemuDriver *d, Obj *obj, GString *out) {
  g_autofree char *reason = NULL;
  DomainState s = qemu_domain_get_state(d, obj, &reason);
  g_string_append_printf(out, "state: %s\n", domain_state_to_string(s));
  g_string_append_printf(out, "reason: %s\n", reason ? reason : "");
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = obj->runtime;
  int id = dom ? dom->id : -1;
  pid_t pid = dom ? dom->pid : 0;
  g_mutex_unlock(&obj->lock);
  g_string_append_printf(out, "id: %d\n", id);
  g_string_append_printf(out, "pid: %d\n", pid > 0 ? (int)pid : -1);
  int64_t cpu = pid > 0 ? qemu_process_cpu_time_ns(pid) : 0;
  g_string_append_printf(out, "cpu_time_ns: %" G_GINT64_FORMAT "\n", cpu > 0 ? cpu : 0);
  /* What the guest has now, next to the definition's values above: the
   * vCPU count after hotplug, the memory the balloon reports and the
   * balloon's target (they differ while the guest's driver works towards
   * the target, or for good when the guest has no balloon driver). */
  int64_t live_vcpus = -1, live_kib = -1, target_kib = -1;
  g_autoptr(QemuDomain) live = NULL;
  if (qemu_get_active(obj, &live, NULL) == 0) {
    g_mutex_lock(&obj->lock);
    live_vcpus = live->live_def->vcpus_current;
    target_kib = live_kib = (int64_t)live->live_def->current_memory_kib;
    g_mutex_unlock(&obj->lock);
    uint64_t actual = 0;
    g_autofree char *error = NULL;
    if (qemu_domain_get_live_memory(d, obj, &actual, &error) == 0)
      live_kib = (int64_t)actual;
  }
  g_string_append_printf(out, "live_vcpus: %" G_GINT64_FORMAT "\n", live_vcpus);
  g_string_append_printf(out, "live_memory: %" G_GINT64_FORMAT "\n", live_kib);
  g_string_append_printf(out, "live_memory_target: %" G_GINT64_FORMAT "\n", target_kib);
  qemu_job_info(d, obj, out);
}

bool qemu_driver_disk_in_use(QemuDriver *d, const char *pool, const char *volume,
                             const char *path) {
  g_autoptr(GPtrArray) list = registry_list(d->registry, OBJ_DOMAIN, NULL);
  for (guint i = 0; i < list->len; i++) {
    Obj *obj = list->pdata[i];
    bool used = false;
    g_mutex_lock(&obj->lock);
    QemuDomain *dom = obj->runtime;
    for (guint j = 0; dom && j < dom->live_def->disks->len && !used; j++) {
      const DomainDisk *disk = dom->live_def->disks->pdata[j];
      if (disk->type == DISK_TYPE_VOLUME)
        used = pool && volume && g_strcmp0(disk->source_pool, pool) == 0 &&
               g_strcmp0(disk->source_volume, volume) == 0;
      else
        used = path && g_strcmp0(disk->source, path) == 0;
    }
    g_mutex_unlock(&obj->lock);
    if (used)
      return true;
  }
  return false;
}
