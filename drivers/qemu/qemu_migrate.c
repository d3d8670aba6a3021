/* qemu_migrate.c — live migration out of and into this host's QEMU: the
 * address checks and query-migrate parsing (pure), the verbs (FUSE worker
 * threads), and the MIGRATION events that finish a migration (main loop,
 * asynchronous QMP only). See qemu_migrate.h for the protocol. */
#include "drivers/qemu/qemu_migrate.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "drivers/qemu/qemu_driver_priv.h"
#include "objects/log.h"
#include "objects/values.h"

#define UNIX_PATH_MAX_LEN 107
#define HOST_NAME_MAX_LEN 253
#define BANDWIDTH_MAX_MIB (1024 * 1024)
#define DOWNTIME_MAX_MS (600 * 1000)

/* ---- pure: addresses and requests ---- */

static bool host_name_ok(const char *h, size_t len) {
  if (len == 0 || len > HOST_NAME_MAX_LEN || h[0] == '-' || h[0] == '.')
    return false;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isalnum(h[i]) && h[i] != '.' && h[i] != '-')
      return false;
  return true;
}

static bool ipv6_ok(const char *h, size_t len) {
  if (len < 2 || len > 45)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isxdigit(h[i]) && h[i] != ':' && h[i] != '.')
      return false;
  return true;
}

static int bad_address(const char *text, const char *why, char **ret_error) {
  *ret_error = g_strdup_printf("'%s' is not a migration address: %s", text, why);
  return -EINVAL;
}

int qemu_migrate_parse_address(const char *text, bool listen, char **ret_address,
                               char **ret_error) {
  if (g_str_has_prefix(text, "unix:")) {
    const char *path = text + 5;
    if (path[0] != '/')
      return bad_address(text, "the socket path must be absolute", ret_error);
    if (strlen(path) > UNIX_PATH_MAX_LEN)
      return bad_address(text, "the socket path is longer than 107 bytes", ret_error);
    for (const char *c = path; *c; c++)
      if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ',')
        return bad_address(text, "the socket path holds a comma or a control character",
                           ret_error);
    *ret_address = g_strdup(text);
    return 0;
  }
  if (!g_str_has_prefix(text, "tcp:"))
    return bad_address(text, "write tcp:HOST:PORT or unix:PATH", ret_error);
  const char *host = text + 4, *colon;
  size_t host_len;
  if (host[0] == '[') {
    const char *end = strchr(host, ']');
    if (!end || end[1] != ':' || !ipv6_ok(host + 1, (size_t)(end - host - 1)))
      return bad_address(text, "an IPv6 host is written [ADDRESS]:PORT", ret_error);
    colon = end + 1;
    host_len = (size_t)(end - host + 1);
  } else {
    colon = strrchr(host, ':');
    if (!colon)
      return bad_address(text, "no port (tcp:HOST:PORT)", ret_error);
    host_len = (size_t)(colon - host);
    if (!host_name_ok(host, host_len))
      return bad_address(text, "the host is not an IPv4 address or a host name (letters, "
                         "digits, dots and dashes)", ret_error);
  }
  const char *port = colon + 1;
  size_t digits = strspn(port, "0123456789");
  if (digits == 0 || digits > 5 || port[digits] != '\0')
    return bad_address(text, "the port is not a number", ret_error);
  long n = strtol(port, NULL, 10);
  if (n > 65535 || (n == 0 && !listen))
    return bad_address(text, listen ? "the port is above 65535"
                                    : "the port must be from 1 to 65535", ret_error);
  *ret_address = g_strdup_printf("tcp:%.*s:%ld", (int)host_len, host, n);
  return 0;
}

void qemu_migrate_request_clear(QemuMigrateRequest *req) {
  g_clear_pointer(&req->address, g_free);
  req->bandwidth_mib = req->downtime_ms = 0;
}

int qemu_migrate_parse_request(const char *text, QemuMigrateRequest *ret_req, char **ret_error) {
  g_auto(GStrv) words = g_strsplit_set(text ? text : "", " \t", -1);
  g_auto(QemuMigrateRequest) req = {0};
  for (guint i = 0; words[i]; i++) {
    const char *w = words[i];
    if (!*w)
      continue;
    if (!req.address) {
      int r = qemu_migrate_parse_address(w, false, &req.address, ret_error);
      if (r < 0)
        return r;
      continue;
    }
    const char *eq = strchr(w, '=');
    uint64_t *target = NULL, max = 0;
    if (eq && strncmp(w, "bandwidth", (size_t)(eq - w)) == 0 && eq - w == 9)
      target = &req.bandwidth_mib, max = BANDWIDTH_MAX_MIB;
    else if (eq && strncmp(w, "downtime", (size_t)(eq - w)) == 0 && eq - w == 8)
      target = &req.downtime_ms, max = DOWNTIME_MAX_MS;
    if (!target) {
      *ret_error = g_strdup_printf("'%s' is not an option of migrate (bandwidth=MIB_PER_S, "
                                   "downtime=MS)", w);
      return -EINVAL;
    }
    if (value_parse_uint(eq + 1, 1, max, target) < 0) {
      *ret_error = g_strdup_printf("'%s': the value must be a number from 1 to %" G_GUINT64_FORMAT,
                                   w, max);
      return -EINVAL;
    }
  }
  if (!req.address) {
    *ret_error = g_strdup("migrate needs the target's address: migrate tcp:HOST:PORT (as the "
                          "target's `incoming` file shows it)");
    return -EINVAL;
  }
  *ret_req = req;
  req = (QemuMigrateRequest){0};
  return 0;
}

/* ---- pure: query-migrate ---- */

void qemu_migrate_info_clear(QemuMigrateInfo *info) {
  g_clear_pointer(&info->status, g_free);
  g_clear_pointer(&info->error, g_free);
  g_clear_pointer(&info->socket_address, g_free);
  memset(info, 0, sizeof(*info));
}

static int64_t int_member(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return 0;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_INT64)
    return json_node_get_int(n);
  if (t == G_TYPE_DOUBLE)
    return (int64_t)json_node_get_double(n);
  return 0;
}

static const char *string_member(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(n);
}

/* The first entry of socket-address as an address migrate takes. */
static char *socket_address_text(JsonObject *o) {
  JsonNode *n = json_object_get_member(o, "socket-address");
  if (!n || !JSON_NODE_HOLDS_ARRAY(n) || json_array_get_length(json_node_get_array(n)) == 0)
    return NULL;
  JsonNode *first = json_array_get_element(json_node_get_array(n), 0);
  if (!JSON_NODE_HOLDS_OBJECT(first))
    return NULL;
  JsonObject *a = json_node_get_object(first);
  const char *type = string_member(a, "type");
  if (g_strcmp0(type, "unix") == 0 && string_member(a, "path"))
    return g_strdup_printf("unix:%s", string_member(a, "path"));
  const char *host = string_member(a, "host"), *port = string_member(a, "port");
  if (g_strcmp0(type, "inet") != 0 || !host || !port)
    return NULL;
  return strchr(host, ':') ? g_strdup_printf("tcp:[%s]:%s", host, port)
                           : g_strdup_printf("tcp:%s:%s", host, port);
}

int qemu_migrate_info_parse(JsonNode *value, QemuMigrateInfo *ret_info) {
  if (!value || !JSON_NODE_HOLDS_OBJECT(value))
    return -EPROTO;
  JsonObject *o = json_node_get_object(value);
  QemuMigrateInfo info = {0};
  const char *status = string_member(o, "status");
  info.status = g_strdup(status ? status : "none");
  info.error = g_strdup(string_member(o, "error-desc"));
  info.socket_address = socket_address_text(o);
  info.total_time_ms = int_member(o, "total-time");
  info.setup_time_ms = int_member(o, "setup-time");
  info.downtime_ms = int_member(o, "downtime");
  info.expected_downtime_ms = int_member(o, "expected-downtime");
  JsonNode *ram_node = json_object_get_member(o, "ram");
  JsonObject *ram = ram_node && JSON_NODE_HOLDS_OBJECT(ram_node) ? json_node_get_object(ram_node)
                                                                 : NULL;
  info.transferred = (uint64_t)MAX(int_member(ram, "transferred"), 0);
  info.remaining = (uint64_t)MAX(int_member(ram, "remaining"), 0);
  info.total = (uint64_t)MAX(int_member(ram, "total"), 0);
  info.dirty_pages_rate = (uint64_t)MAX(int_member(ram, "dirty-pages-rate"), 0);
  info.page_size = (uint64_t)MAX(int_member(ram, "page-size"), 0);
  info.dirty_sync_count = (uint64_t)MAX(int_member(ram, "dirty-sync-count"), 0);
  JsonNode *mbps = ram ? json_object_get_member(ram, "mbps") : NULL;
  if (mbps && JSON_NODE_HOLDS_VALUE(mbps))
    info.mbps = json_node_get_double(mbps);
  *ret_info = info;
  return 0;
}

void qemu_migrate_info_format(const QemuMigrateInfo *info, const char *job, const char *address,
                              GString *out) {
  g_string_append_printf(out, "job: %s\n", job);
  g_string_append_printf(out, "status: %s\n", info->status ? info->status : "none");
  g_string_append_printf(out, "address: %s\n", address ? address : "");
  g_string_append_printf(out, "total_time_ms: %" G_GINT64_FORMAT "\n", info->total_time_ms);
  g_string_append_printf(out, "setup_time_ms: %" G_GINT64_FORMAT "\n", info->setup_time_ms);
  g_string_append_printf(out, "transferred_bytes: %" G_GUINT64_FORMAT "\n", info->transferred);
  g_string_append_printf(out, "remaining_bytes: %" G_GUINT64_FORMAT "\n", info->remaining);
  g_string_append_printf(out, "total_bytes: %" G_GUINT64_FORMAT "\n", info->total);
  g_string_append_printf(out, "dirty_rate_bytes_per_second: %" G_GUINT64_FORMAT "\n",
                         info->dirty_pages_rate * (info->page_size ? info->page_size : 4096));
  g_string_append_printf(out, "dirty_sync_count: %" G_GUINT64_FORMAT "\n", info->dirty_sync_count);
  g_string_append_printf(out, "throughput_mbps: %.1f\n", info->mbps);
  g_string_append_printf(out, "expected_downtime_ms: %" G_GINT64_FORMAT "\n",
                         info->expected_downtime_ms);
  g_string_append_printf(out, "downtime_ms: %" G_GINT64_FORMAT "\n", info->downtime_ms);
  g_string_append_printf(out, "error: %s\n", info->error ? info->error : "");
}

/* ---- QMP arguments ---- */

static JsonNode *capabilities_args(bool return_path) {
  JsonArray *caps = json_array_new();
  const char *names[] = {"events", "return-path"};
  for (size_t i = 0; i < (return_path ? 2u : 1u); i++) {
    JsonObject *c = json_object_new();
    json_object_set_string_member(c, "capability", names[i]);
    json_object_set_boolean_member(c, "state", true);
    json_array_add_object_element(caps, c);
  }
  JsonObject *o = json_object_new();
  json_object_set_array_member(o, "capabilities", caps);
  JsonNode *n = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(n, o);
  return n;
}

static JsonNode *parameters_args(const QemuMigrateRequest *req) {
  JsonObject *o = json_object_new();
  /* Unlimited by default, as libvirt does: QEMU's own cap (128 MiB/s) is
   * the wrong guess for a fast network. */
  json_object_set_int_member(o, "max-bandwidth", req->bandwidth_mib
                                                     ? (int64_t)req->bandwidth_mib * 1024 * 1024
                                                     : INT64_MAX / 2);
  json_object_set_int_member(o, "downtime-limit", req->downtime_ms ? (int64_t)req->downtime_ms
                                                                   : 300);
  JsonNode *n = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(n, o);
  return n;
}

static JsonNode *uri_args(const char *uri) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "uri", uri);
  JsonNode *n = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(n, o);
  return n;
}

/* ---- run dir markers ---- */

static void marker_write(QemuDomain *dom, const char *name, const char *content) {
  g_autofree char *path = g_build_filename(dom->dir, name, NULL);
  g_autofree char *text = g_strdup_printf("%s\n", content);
  g_file_set_contents(path, text, -1, NULL);
}

static char *marker_read(QemuDomain *dom, const char *name) {
  g_autofree char *path = g_build_filename(dom->dir, name, NULL);
  char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return NULL;
  return g_strstrip(text);
}

static void marker_remove(QemuDomain *dom, const char *name) {
  g_autofree char *path = g_build_filename(dom->dir, name, NULL);
  g_unlink(path);
}

/* ---- target ---- */

int qemu_domain_incoming(QemuDriver *d, Obj *obj, const char *address, char **ret_error) {
  g_autofree char *wanted = NULL;
  if (!address) {
    bool v6 = strchr(d->migration_host, ':') != NULL;
    wanted = g_strdup_printf(v6 ? "tcp:[%s]:0" : "tcp:%s:0", d->migration_host);
  }
  g_autofree char *uri = NULL;
  int r = qemu_migrate_parse_address(address ? address : wanted, true, &uri, ret_error);
  if (r < 0)
    return r;
  DomainState now = qemu_domain_get_state(d, obj, NULL);
  if (now == DOMAIN_STATE_INCOMING && !address)
    return 0; /* already waiting: writing the state again changes nothing */
  if (now == DOMAIN_STATE_SAVED) {
    *ret_error = g_strdup("the domain has a saved state: start it, or discard it first "
                          "(echo discard-saved > ctl), to take a migration in");
    return -EBUSY;
  }
  if (qemu_domain_is_active(obj)) {
    *ret_error = g_strdup(now == DOMAIN_STATE_INCOMING
                              ? "the domain is already waiting for a migration (cat incoming)"
                              : "the domain runs on this host: only a shut-off domain can take "
                                "a migration in");
    return -EBUSY;
  }
  return qemu_domain_start_full(d, obj, false, uri, ret_error);
}

int qemu_migrate_start_incoming(QemuDomain *dom, char **ret_error) {
  int r = qemu_qmp_sync(dom, "migrate-set-capabilities", capabilities_args(false), NULL,
                        ret_error);
  if (r < 0)
    return r;
  if ((r = qemu_qmp_sync(dom, "migrate-incoming", uri_args(dom->incoming_uri), NULL,
                         ret_error)) < 0) {
    g_autofree char *e = g_steal_pointer(ret_error);
    *ret_error = g_strdup_printf("QEMU cannot listen on %s: %s", dom->incoming_uri, e);
    return r;
  }
  JsonNode *value = NULL;
  g_auto(QemuMigrateInfo) info = {0};
  g_autofree char *e = NULL;
  if (qemu_qmp_sync(dom, "query-migrate", NULL, &value, &e) == 0) {
    qemu_migrate_info_parse(value, &info);
    json_node_unref(value);
  }
  const char *bound = info.socket_address ? info.socket_address : dom->incoming_uri;
  g_mutex_lock(&dom->obj->lock);
  g_free(dom->incoming_address);
  dom->incoming_address = g_strdup(bound);
  g_mutex_unlock(&dom->obj->lock);
  marker_write(dom, "incoming", bound);
  log_info("domain '%s': waiting for a migration on %s", dom->obj->name, bound);
  return 0;
}

char *qemu_domain_incoming_address(Obj *obj) {
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = obj->runtime;
  char *address = dom && dom->state == DOMAIN_STATE_INCOMING ? g_strdup(dom->incoming_address)
                                                              : NULL;
  g_mutex_unlock(&obj->lock);
  return address;
}

/* ---- source ---- */

int qemu_domain_migrate(QemuDriver *d, Obj *obj, const char *args, char **ret_error) {
  g_auto(QemuMigrateRequest) req = {0};
  int r = qemu_migrate_parse_request(args, &req, ret_error);
  if (r < 0)
    return r;
  g_autoptr(QemuDomain) dom = NULL;
  if ((r = qemu_get_active(obj, &dom, ret_error)) < 0)
    return r;
  g_mutex_lock(&obj->lock);
  bool usable = !dom->starting && !dom->migrating &&
                (dom->state == DOMAIN_STATE_RUNNING || dom->state == DOMAIN_STATE_PAUSED);
  g_mutex_unlock(&obj->lock);
  if (!usable) {
    *ret_error = g_strdup("only a running or paused domain can migrate");
    return -EBUSY;
  }
  if ((r = qemu_job_begin(d, dom->uuid, "migrate", ret_error)) < 0)
    return r;
  if ((r = qemu_qmp_sync(dom, "migrate-set-capabilities", capabilities_args(true), NULL,
                         ret_error)) < 0 ||
      (r = qemu_qmp_sync(dom, "migrate-set-parameters", parameters_args(&req), NULL,
                         ret_error)) < 0) {
    qemu_job_end(d, dom->uuid);
    return r;
  }
  g_mutex_lock(&obj->lock);
  dom->migrating = true;
  g_free(dom->migrate_uri);
  dom->migrate_uri = g_strdup(req.address);
  g_mutex_unlock(&obj->lock);
  marker_write(dom, "migrate-out", req.address);
  if ((r = qemu_qmp_sync(dom, "migrate", uri_args(req.address), NULL, ret_error)) < 0) {
    g_mutex_lock(&obj->lock);
    dom->migrating = false;
    g_cond_broadcast(&dom->changed);
    g_mutex_unlock(&obj->lock);
    marker_remove(dom, "migrate-out");
    qemu_job_end(d, dom->uuid);
    return r;
  }
  log_info("domain '%s': migrating to %s", obj->name, req.address);
  qemu_emit(dom, "migrating", req.address);
  return 0;
}

static bool migration_settled(QemuDomain *dom) {
  return dom->gone || !dom->migrating || dom->migrated;
}

int qemu_domain_migrate_cancel(QemuDriver *d, Obj *obj, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0) {
    g_clear_pointer(ret_error, g_free);
    *ret_error = g_strdup("no migration is in progress");
    return r;
  }
  g_mutex_lock(&obj->lock);
  bool incoming = dom->state == DOMAIN_STATE_INCOMING;
  bool migrating = dom->migrating && !dom->migrated;
  g_mutex_unlock(&obj->lock);
  if (incoming)
    return qemu_domain_destroy(d, obj, ret_error);
  if (!migrating) {
    *ret_error = g_strdup("no migration is in progress");
    return -EBUSY;
  }
  if ((r = qemu_qmp_sync(dom, "migrate_cancel", NULL, NULL, ret_error)) < 0)
    return r;
  /* The MIGRATION event ends it on the main loop: wait for that, so the
   * state, `job` and `error` read right after tell how it ended. */
  g_mutex_lock(&obj->lock);
  r = qemu_wait_locked(dom, migration_settled, d->qmp_timeout_ms);
  bool moved = dom->migrated;
  g_mutex_unlock(&obj->lock);
  if (r < 0) {
    *ret_error = g_strdup("QEMU did not end the migration in time");
    return r;
  }
  if (moved) {
    *ret_error = g_strdup("too late: the migration had completed, the guest runs on the target");
    return -EBUSY;
  }
  return 0;
}

/* ---- main loop: the end of a migration ---- */

typedef struct {
  QemuDomain *dom;   /* reference */
  bool source;
  bool completed;
} FinalQuery;

static void store_last(QemuDomain *dom, const char *text) {
  QemuDriver *d = dom->driver;
  g_mutex_lock(&d->lock);
  g_free(dom->record->last_migration);
  dom->record->last_migration = g_strdup(text);
  g_mutex_unlock(&d->lock);
}

static void on_quit_done(QmpClient *client, int error, JsonNode *value,
                         const char *error_sentence, gpointer user_data) {
  if (value)
    json_node_unref(value);
}

/* Main loop: the last figures of a migration that ended, then what its end
 * means for this side. */
static void on_final_info(QmpClient *client, int error, JsonNode *value,
                          const char *error_sentence, gpointer user_data) {
  FinalQuery *q = user_data;
  QemuDomain *dom = q->dom;
  Obj *obj = dom->obj;
  g_auto(QemuMigrateInfo) info = {0};
  if (error < 0 || qemu_migrate_info_parse(value, &info) < 0) {
    info.status = g_strdup(q->completed ? "completed" : "failed");
    info.error = g_strdup(error_sentence);
  }
  if (value)
    json_node_unref(value);
  g_mutex_lock(&obj->lock);
  g_autofree char *address = g_strdup(q->source ? dom->migrate_uri : dom->incoming_uri);
  g_mutex_unlock(&obj->lock);
  g_autoptr(GString) text = g_string_new(NULL);
  qemu_migrate_info_format(&info, q->source ? "migrate" : "incoming", address, text);
  store_last(dom, text->str);
  if (q->source) {
    qemu_job_end(dom->driver, dom->uuid);
    if (q->completed) {
      g_autofree char *detail = g_strdup_printf("%" G_GINT64_FORMAT "ms downtime %" G_GINT64_FORMAT
                                                "ms", info.total_time_ms, info.downtime_ms);
      log_info("domain '%s': migrated to %s in %s", obj->name, address, detail);
      qemu_emit(dom, "migrated", detail);
      /* The target has the guest (it confirmed on the return path): this
       * QEMU goes; its exit is reason `migrated`. */
      g_mutex_lock(&obj->lock);
      QmpClient *qmp = dom->qmp && !dom->gone ? qmp_client_ref(dom->qmp) : NULL;
      g_mutex_unlock(&obj->lock);
      if (qmp) {
        qmp_client_execute(qmp, "quit", NULL, dom->driver->qmp_timeout_ms, on_quit_done, NULL,
                           NULL);
        qmp_client_unref(qmp);
      }
    } else {
      bool cancelled = g_strcmp0(info.status, "cancelled") == 0;
      if (!cancelled)
        obj_set_error(obj, "migration to %s failed: %s; the guest runs on this host", address,
                      info.error ? info.error : "QEMU gave no reason");
      log_warning("domain '%s': migration to %s %s: %s", obj->name, address,
                  cancelled ? "cancelled" : "failed", info.error ? info.error : "no reason");
      qemu_emit(dom, cancelled ? "migration-cancelled" : "migration-failed",
                info.error ? info.error : "");
      marker_remove(dom, "migrate-out");
      g_mutex_lock(&obj->lock);
      dom->migrating = false;
      g_cond_broadcast(&dom->changed);
      g_mutex_unlock(&obj->lock);
    }
  }
  qemu_domain_unref(dom);
  g_free(q);
}

void qemu_migrate_on_event(QemuDomain *dom, JsonNode *data) {
  Obj *obj = dom->obj;
  const char *status = NULL;
  if (data && JSON_NODE_HOLDS_OBJECT(data))
    status = string_member(json_node_get_object(data), "status");
  bool completed = g_strcmp0(status, "completed") == 0;
  bool ended = completed || g_strcmp0(status, "failed") == 0 ||
               g_strcmp0(status, "cancelled") == 0;
  if (!ended)
    return;
  bool emit_started = false;
  g_mutex_lock(&obj->lock);
  bool source = dom->migrating;
  bool target = dom->incoming_uri != NULL;
  if (source && completed) {
    dom->migrated = true;
    dom->quitting = true;
    g_cond_broadcast(&dom->changed);
  }
  if (target && completed && dom->state == DOMAIN_STATE_INCOMING) {
    /* Complete, and no RESUME: the guest was paused on the source and
     * stays paused here. */
    g_clear_pointer(&dom->incoming_address, g_free);
    qemu_set_state_locked(dom, DOMAIN_STATE_PAUSED, "migrated");
    emit_started = true;
  }
  QmpClient *qmp = dom->qmp && !dom->gone ? qmp_client_ref(dom->qmp) : NULL;
  g_mutex_unlock(&obj->lock);
  if (target && completed)
    marker_remove(dom, "incoming");
  if (emit_started)
    qemu_emit(dom, "started", "migrated");
  if (!source && !(target && completed)) {
    if (qmp)
      qmp_client_unref(qmp);
    return;
  }
  FinalQuery *q = g_new0(FinalQuery, 1);
  q->dom = qemu_domain_ref(dom);
  q->source = source;
  q->completed = completed;
  if (!qmp || qmp_client_execute(qmp, "query-migrate", NULL, dom->driver->qmp_timeout_ms,
                                 on_final_info, q, NULL) < 0)
    on_final_info(NULL, -ENOTCONN, NULL, "QEMU is gone", q);
  if (qmp)
    qmp_client_unref(qmp);
}

/* ---- after a daemon restart ---- */

bool qemu_migrate_recover(QemuDomain *dom, const char *status) {
  Obj *obj = dom->obj;
  g_autofree char *out = marker_read(dom, "migrate-out");
  g_autofree char *in = marker_read(dom, "incoming");
  g_autofree char *e = NULL;
  if (out && g_strcmp0(status, "postmigrate") == 0) {
    /* It migrated away while no daemon watched: the guest runs on the
     * target. Resuming it here would run it twice. */
    log_warning("domain '%s': QEMU migrated to %s while the daemon was away: ending it",
                obj->name, out);
    g_mutex_lock(&obj->lock);
    dom->migrated = dom->quitting = true;
    g_mutex_unlock(&obj->lock);
    qemu_qmp_sync(dom, "quit", NULL, NULL, &e);
    return true;
  }
  if (out) {
    JsonNode *value = NULL;
    g_auto(QemuMigrateInfo) info = {0};
    if (qemu_qmp_sync(dom, "query-migrate", NULL, &value, &e) == 0) {
      qemu_migrate_info_parse(value, &info);
      json_node_unref(value);
    }
    bool running = g_strcmp0(info.status, "active") == 0 || g_strcmp0(info.status, "setup") == 0 ||
                   g_strcmp0(info.status, "device") == 0;
    if (running && qemu_job_begin(dom->driver, dom->uuid, "migrate", &e) == 0) {
      g_mutex_lock(&obj->lock);
      dom->migrating = true;
      dom->migrate_uri = g_strdup(out);
      g_mutex_unlock(&obj->lock);
      return false;
    }
    marker_remove(dom, "migrate-out");
    return false;
  }
  if (in && g_strcmp0(status, "inmigrate") == 0) {
    g_mutex_lock(&obj->lock);
    dom->incoming_uri = g_strdup(in);
    dom->incoming_address = g_strdup(in);
    qemu_set_state_locked(dom, DOMAIN_STATE_INCOMING, "incoming");
    g_mutex_unlock(&obj->lock);
    return true;
  }
  if (in)
    marker_remove(dom, "incoming");
  return false;
}

/* ---- the job file ---- */

int qemu_domain_job_read(QemuDriver *d, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  g_autofree char *uuid = g_strdup(((const DomainDef *)obj->def)->uuid);
  QemuDomain *dom = obj->runtime;
  bool migrating = dom && dom->migrating && !dom->migrated;
  bool incoming = dom && dom->state == DOMAIN_STATE_INCOMING;
  g_autofree char *address = dom ? g_strdup(migrating ? dom->migrate_uri : dom->incoming_address)
                                 : NULL;
  g_mutex_unlock(&obj->lock);
  if (migrating || incoming) {
    g_autoptr(QemuDomain) live = NULL;
    JsonNode *value = NULL;
    g_autofree char *error = NULL;
    g_auto(QemuMigrateInfo) info = {0};
    if (qemu_get_active(obj, &live, NULL) == 0 &&
        qemu_qmp_sync(live, "query-migrate", NULL, &value, &error) == 0) {
      qemu_migrate_info_parse(value, &info);
      json_node_unref(value);
      qemu_migrate_info_format(&info, migrating ? "migrate" : "incoming", address, out);
      return 0;
    }
  }
  QemuRecord *rec = qemu_record_hold(d, uuid);
  g_mutex_lock(&d->lock);
  if (rec->job)
    g_string_append_printf(out, "job: %s\nstatus: active\ndone_bytes: %" G_GUINT64_FORMAT
                           "\ntotal_bytes: %" G_GUINT64_FORMAT "\n",
                           rec->job, rec->job_done, rec->job_total);
  else if (rec->last_migration)
    g_string_append(out, rec->last_migration);
  else
    g_string_append(out, "job: none\n");
  g_mutex_unlock(&d->lock);
  qemu_record_release(d, rec);
  return 0;
}
