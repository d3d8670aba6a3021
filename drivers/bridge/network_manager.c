/* network_manager.c — network objects brought to life through the bridge
 * driver: runtimes on Obj.runtime, live.xml in the run dir for reattaching,
 * the default network, autostart, dnsmasq watches and domain taps. See
 * network_manager.h for the contract and the lock order. */
#include "drivers/bridge/network_manager.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "drivers/bridge/bandwidth.h"
#include "drivers/bridge/bridge_network.h"
#include "drivers/bridge/nl_link.h"
#include "objects/log.h"

#define DEFAULT_NETWORK_NAME "default"
#define DEFAULT_MARKER ".default-created"
#define LIVE_FILE "live.xml"

struct NetworkManager {
  Registry *registry;
  char *run_dir;
  char *dnsmasq_binary;
  GMainContext *main_context;
  BridgeDriverConfig bcfg;     /* points into the strings above */
  GMutex op_lock;              /* serializes start, stop, reattach */
  GMutex taps_lock;            /* protects taps */
  GHashTable *taps;            /* tap name -> guest MAC, taps made by open_tap */
  GHashTable *tap_networks;    /* tap name -> network name, for type='network' */
};

/* What Obj.runtime holds for an active (or starting) network. */
typedef struct {
  NetworkDef *live;            /* the definition it was started with; immutable */
  DnsmasqWatch *watch;         /* NULL when no dnsmasq is needed */
  bool up;                     /* fully started (false while starting) */
} NetworkRuntime;

static void runtime_free(NetworkRuntime *rt) {
  if (!rt)
    return;
  dnsmasq_watch_free(rt->watch);
  network_def_free(rt->live);
  g_free(rt);
}

static int fail(char **ret_error, int err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int fail(char **ret_error, int err, const char *fmt, ...) {
  if (ret_error) {
    va_list ap;
    va_start(ap, fmt);
    g_free(*ret_error);
    *ret_error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
  }
  return err;
}

NetworkManager *network_manager_new(Registry *registry, const NetworkManagerConfig *cfg) {
  NetworkManager *m = g_new0(NetworkManager, 1);
  m->registry = registry;
  m->run_dir = g_strdup(cfg->run_dir);
  m->dnsmasq_binary = g_strdup(cfg->dnsmasq_binary);
  m->main_context = cfg->main_context ? g_main_context_ref(cfg->main_context) : NULL;
  m->bcfg.run_dir = m->run_dir;
  m->bcfg.dnsmasq_binary = m->dnsmasq_binary;
  g_mutex_init(&m->op_lock);
  g_mutex_init(&m->taps_lock);
  m->taps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  m->tap_networks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return m;
}

void network_manager_free(NetworkManager *m) {
  if (!m)
    return;
  g_autoptr(GPtrArray) list = registry_list(m->registry, OBJ_NETWORK, NULL);
  for (guint i = 0; i < list->len; i++) {
    Obj *obj = list->pdata[i];
    g_mutex_lock(&obj->lock);
    NetworkRuntime *rt = g_steal_pointer(&obj->runtime);
    g_mutex_unlock(&obj->lock);
    runtime_free(rt);
  }
  g_hash_table_unref(m->taps);
  g_hash_table_unref(m->tap_networks);
  g_mutex_clear(&m->taps_lock);
  g_mutex_clear(&m->op_lock);
  if (m->main_context)
    g_main_context_unref(m->main_context);
  g_free(m->run_dir);
  g_free(m->dnsmasq_binary);
  g_free(m);
}

/* ---- live.xml ---- */

static char *live_path(NetworkManager *m, const char *name) {
  return g_build_filename(m->run_dir, "networks", name, LIVE_FILE, NULL);
}

static int write_live(NetworkManager *m, const NetworkDef *live, char **ret_error) {
  g_autofree char *dir = bridge_network_dir(live, &m->bcfg);
  if (g_mkdir_with_parents(dir, 0755) < 0) {
    int e = errno;
    return fail(ret_error, -e, "network '%s': cannot create %s: %s", live->name, dir,
                g_strerror(e));
  }
  g_autofree char *path = live_path(m, live->name);
  g_autofree char *xml = network_def_format(live);
  /* Replaced by rename, so never torn; not fsynced: the run dir does not
   * outlive the host (tmpfs), and neither does a running network. */
  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  g_autoptr(GError) gerr = NULL;
  if (!g_file_set_contents_full(tmp, xml, -1, G_FILE_SET_CONTENTS_NONE, 0644, &gerr))
    return fail(ret_error, -EIO, "network '%s': cannot write %s: %s", live->name, tmp,
                gerr->message);
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return fail(ret_error, -e, "network '%s': cannot write %s: %s", live->name, path,
                g_strerror(e));
  }
  return 0;
}

static void remove_live(NetworkManager *m, const char *name) {
  g_autofree char *path = live_path(m, name);
  if (unlink(path) < 0 && errno != ENOENT)
    log_warning("network '%s': cannot remove %s: %s", name, path, g_strerror(errno));
}

/* The live definition stored for `name`: 0, -ENOENT when there is none,
 * -EINVAL when it does not parse. */
static int read_live(NetworkManager *m, const char *name, NetworkDef **ret_live) {
  g_autofree char *path = live_path(m, name);
  g_autofree char *xml = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &xml, &len, NULL))
    return -ENOENT;
  g_autofree char *error = NULL;
  if (network_def_parse(xml, len, ret_live, &error) < 0) {
    log_warning("network '%s': %s does not parse (%s); ignoring it", name, path, error);
    return -EINVAL;
  }
  return 0;
}

/* ---- dnsmasq watch ---- */

/* Runs in the main loop thread; userdata is a reference to the Obj. */
static void on_dnsmasq_event(DnsmasqWatchEvent event, pid_t new_pid, const char *error,
                             void *userdata) {
  Obj *obj = userdata;
  if (event == DNSMASQ_WATCH_RESTARTED) {
    g_autofree char *name = obj_dup_name(obj);
    log_warning("network '%s': dnsmasq exited; restarted it (pid %d)", name, (int)new_pid);
    return;
  }
  obj_set_error(obj, "dnsmasq: %s", error ? error : "it could not be restarted");
}

static int watch_dnsmasq(NetworkManager *m, Obj *obj, const NetworkDef *live,
                         DnsmasqWatch **ret_watch, char **ret_error) {
  DnsmasqWatch *watch = NULL;
  Obj *ref = obj_ref(obj);
  int r = bridge_network_watch(live, &m->bcfg, m->main_context, on_dnsmasq_event, ref,
                               (GDestroyNotify)obj_unref, &watch);
  if (r < 0 || !watch)
    obj_unref(ref); /* the watch did not take it */
  if (r < 0)
    return fail(ret_error, r, "network '%s': cannot follow its dnsmasq: %s", live->name,
                g_strerror(-r));
  *ret_watch = watch;
  return 0;
}

/* ---- start and stop ---- */

/* Under the registry's write lock: checks that obj may start beside the
 * active networks and reserves it by installing a runtime that is not up
 * yet. Returns 1 when it is active (or starting) already. */
static int reserve(NetworkManager *m, Obj *obj, NetworkRuntime **ret_rt, char **ret_error) {
  int r = 0;
  registry_write_lock(m->registry);
  g_mutex_lock(&obj->lock);
  g_autofree char *name = g_strdup(obj->name);
  if (obj->removed)
    r = fail(ret_error, -ENOENT, "network '%s' was removed", name);
  else if (obj->runtime)
    r = 1;
  g_autoptr(NetworkDef) def = r == 0 ? network_def_copy(obj->def) : NULL;
  g_mutex_unlock(&obj->lock);
  if (r != 0) {
    registry_write_unlock(m->registry);
    return r;
  }
  g_autoptr(GPtrArray) list = registry_list(m->registry, OBJ_NETWORK, NULL);
  for (guint i = 0; i < list->len && r == 0; i++) {
    Obj *other = list->pdata[i];
    if (other == obj)
      continue;
    g_autofree char *why = NULL;
    g_mutex_lock(&other->lock);
    NetworkRuntime *ort = other->runtime;
    if (ort && network_def_conflicts(def, ort->live, &why) < 0)
      r = fail(ret_error, -EADDRINUSE, "network '%s' cannot start while network '%s' is "
               "active: %s", name, other->name, why);
    g_mutex_unlock(&other->lock);
  }
  if (r == 0) {
    NetworkRuntime *rt = g_new0(NetworkRuntime, 1);
    rt->live = g_steal_pointer(&def);
    g_mutex_lock(&obj->lock);
    obj->runtime = rt;
    g_mutex_unlock(&obj->lock);
    *ret_rt = rt;
  }
  registry_write_unlock(m->registry);
  return r;
}

/* Drops a runtime that never came up (or is being removed). */
static void release(Obj *obj, NetworkRuntime *rt) {
  g_mutex_lock(&obj->lock);
  if (obj->runtime == rt)
    obj->runtime = NULL;
  obj->mtime_us = obj_now_us();
  g_mutex_unlock(&obj->lock);
  runtime_free(rt);
}

static void mark_up(Obj *obj, NetworkRuntime *rt, DnsmasqWatch *watch) {
  g_mutex_lock(&obj->lock);
  rt->watch = watch;
  rt->up = true;
  obj->mtime_us = obj_now_us();
  g_mutex_unlock(&obj->lock);
}

/* The taps of running guests on this network lost their bridge when it
 * stopped (deleting a bridge frees its ports): put them on the new one, so
 * a restart of the network does not cut the guests off. */
static void reconnect_taps(NetworkManager *m, const NetworkDef *live) {
  g_autoptr(GPtrArray) taps = g_ptr_array_new_with_free_func(g_free);
  g_mutex_lock(&m->taps_lock);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, m->tap_networks);
  while (g_hash_table_iter_next(&it, &key, &value))
    if (strcmp(value, live->name) == 0)
      g_ptr_array_add(taps, g_strdup(key));
  g_mutex_unlock(&m->taps_lock);
  for (guint i = 0; i < taps->len; i++) {
    const char *tap = taps->pdata[i];
    int r = nl_link_set_master(tap, live->bridge);
    if (r == 0)
      r = nl_link_set_up(tap, true);
    if (r < 0 && r != -ENODEV)
      log_warning("network '%s': cannot put the tap %s back on bridge %s: %s", live->name, tap,
                  live->bridge, g_strerror(-r));
  }
}

static int start_locked(NetworkManager *m, Obj *obj, char **ret_error) {
  NetworkRuntime *rt = NULL;
  int r = reserve(m, obj, &rt, ret_error);
  if (r != 0)
    return r;
  const NetworkDef *live = rt->live;
  /* live.xml first: a crash in the middle leaves something to repair or
   * clean up at the next start of the daemon. */
  if ((r = write_live(m, live, ret_error)) < 0) {
    release(obj, rt);
    return r;
  }
  if ((r = bridge_network_start(live, &m->bcfg, ret_error)) < 0) {
    remove_live(m, live->name);
    release(obj, rt);
    return r;
  }
  DnsmasqWatch *watch = NULL;
  if ((r = watch_dnsmasq(m, obj, live, &watch, ret_error)) < 0) {
    bridge_network_stop(live, &m->bcfg, NULL);
    remove_live(m, live->name);
    release(obj, rt);
    return r;
  }
  mark_up(obj, rt, watch);
  reconnect_taps(m, live);
  log_info("network '%s' started on bridge %s", live->name, live->bridge);
  registry_emit(m->registry, obj, "started", NULL);
  return 0;
}

int network_manager_start(NetworkManager *m, Obj *obj, char **ret_error) {
  g_mutex_lock(&m->op_lock);
  int r = start_locked(m, obj, ret_error);
  g_mutex_unlock(&m->op_lock);
  return r;
}

static int stop_locked(NetworkManager *m, Obj *obj, char **ret_error) {
  g_mutex_lock(&obj->lock);
  NetworkRuntime *rt = obj->runtime;
  DnsmasqWatch *watch = rt ? g_steal_pointer(&rt->watch) : NULL;
  g_mutex_unlock(&obj->lock);
  if (!rt)
    return 1;
  /* The watch first: it would restart the dnsmasq we are about to stop. */
  dnsmasq_watch_free(watch);
  int r = bridge_network_stop(rt->live, &m->bcfg, ret_error);
  if (r < 0) {
    /* Still (partly) up: keep following its dnsmasq. */
    DnsmasqWatch *again = NULL;
    if (watch_dnsmasq(m, obj, rt->live, &again, NULL) == 0) {
      g_mutex_lock(&obj->lock);
      rt->watch = again;
      g_mutex_unlock(&obj->lock);
    }
    return r;
  }
  remove_live(m, rt->live->name);
  log_info("network '%s' stopped", rt->live->name);
  release(obj, rt);
  registry_emit(m->registry, obj, "stopped", NULL);
  return 0;
}

int network_manager_stop(NetworkManager *m, Obj *obj, char **ret_error) {
  g_mutex_lock(&m->op_lock);
  int r = stop_locked(m, obj, ret_error);
  g_mutex_unlock(&m->op_lock);
  return r;
}

/* ---- reattach, default, autostart ---- */

/* Whether everything of a running network is in place. */
static bool status_complete(const NetworkDef *live, const BridgeNetworkStatus *st) {
  if (live->forward == NETWORK_FORWARD_BRIDGE)
    return st->bridge;
  return st->bridge && st->up && st->addresses && st->rules && st->dnsmasq;
}

/* Takes down what `live` left and forgets it. */
static void clean_leftovers(NetworkManager *m, const NetworkDef *live) {
  g_autofree char *error = NULL;
  if (bridge_network_stop(live, &m->bcfg, &error) < 0)
    log_warning("network '%s': cannot clean up what a previous daemon left: %s", live->name,
                error);
  remove_live(m, live->name);
}

/* Reattaches one network object; true when it is active. */
static bool reattach_one(NetworkManager *m, Obj *obj) {
  g_autofree char *name = obj_dup_name(obj);
  g_autoptr(NetworkDef) live = NULL;
  int r = read_live(m, name, &live);
  if (r == -EINVAL)
    remove_live(m, name);
  if (r < 0)
    return false;
  /* live.xml is this object's even if config.xml changed meanwhile (even
   * its UUID): undefine and rename are refused while it exists. */
  BridgeNetworkStatus st;
  if (bridge_network_status(live, &m->bcfg, &st) < 0 || !st.bridge) {
    log_info("network '%s': its bridge %s is gone; it is inactive", name, live->bridge);
    clean_leftovers(m, live);
    return false;
  }
  g_autofree char *error = NULL;
  if (!status_complete(live, &st)) {
    /* Reusing our own bridge: rules are replaced and dnsmasq restarted, so
     * nothing is duplicated. */
    log_info("network '%s': restoring what is missing (up %d, addresses %d, rules %d, "
             "dnsmasq %d)", name, st.up, st.addresses, st.rules, st.dnsmasq);
    if ((r = bridge_network_start(live, &m->bcfg, &error)) < 0) {
      obj_set_error(obj, "reattach: %s", error);
      clean_leftovers(m, live);
      return false;
    }
  }
  DnsmasqWatch *watch = NULL;
  if (watch_dnsmasq(m, obj, live, &watch, &error) < 0) {
    obj_set_error(obj, "reattach: %s", error);
    clean_leftovers(m, live);
    return false;
  }
  NetworkRuntime *rt = g_new0(NetworkRuntime, 1);
  rt->live = g_steal_pointer(&live);
  rt->watch = watch;
  rt->up = true;
  g_mutex_lock(&obj->lock);
  g_assert(obj->runtime == NULL);
  obj->runtime = rt;
  g_mutex_unlock(&obj->lock);
  log_info("network '%s' is active on bridge %s (reattached)", name, rt->live->bridge);
  return true;
}

/* Live files of networks that are not defined any more. */
static void clean_orphans(NetworkManager *m) {
  g_autofree char *dir_path = g_build_filename(m->run_dir, "networks", NULL);
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  if (!dir)
    return;
  const char *entry;
  while ((entry = g_dir_read_name(dir))) {
    g_autoptr(Obj) obj = registry_lookup(m->registry, OBJ_NETWORK, NULL, entry);
    if (obj)
      continue;
    g_autoptr(NetworkDef) live = NULL;
    if (read_live(m, entry, &live) == 0) {
      log_warning("network '%s' is running but no longer defined; taking it down", entry);
      clean_leftovers(m, live);
    }
  }
}

int network_manager_reattach_all(NetworkManager *m) {
  g_mutex_lock(&m->op_lock);
  int active = 0;
  g_autoptr(GPtrArray) list = registry_list(m->registry, OBJ_NETWORK, NULL);
  for (guint i = 0; i < list->len; i++)
    if (reattach_one(m, list->pdata[i]))
      active++;
  clean_orphans(m);
  g_mutex_unlock(&m->op_lock);
  return active;
}

int network_manager_define_default(NetworkManager *m, char **ret_error) {
  const char *state_dir = store_state_dir(registry_store(m->registry));
  g_autofree char *marker = g_build_filename(state_dir, "networks", DEFAULT_MARKER, NULL);
  if (g_file_test(marker, G_FILE_TEST_EXISTS))
    return 0;
  g_autoptr(Obj) existing = registry_lookup(m->registry, OBJ_NETWORK, NULL,
                                            DEFAULT_NETWORK_NAME);
  int r = 0;
  if (!existing && !registry_name_is_corrupt(m->registry, OBJ_NETWORK, DEFAULT_NETWORK_NAME)) {
    NetworkDef *def = network_def_new_default();
    r = registry_define(m->registry, OBJ_NETWORK, NULL, (void **)&def, NULL, ret_error);
    network_def_free(def);
    if (r < 0)
      return r;
    log_info("defined the default network (192.168.122.0/24, NAT, not started)");
    r = 1;
  }
  g_autoptr(GError) gerr = NULL;
  if (!g_file_set_contents(marker, "", 0, &gerr))
    return fail(ret_error, -EIO, "cannot write %s: %s", marker, gerr->message);
  return r;
}

void network_manager_autostart(NetworkManager *m) {
  g_autoptr(GPtrArray) list = registry_list(m->registry, OBJ_NETWORK, NULL);
  for (guint i = 0; i < list->len; i++) {
    Obj *obj = list->pdata[i];
    g_mutex_lock(&obj->lock);
    bool wanted = obj->autostart && !obj->runtime;
    g_mutex_unlock(&obj->lock);
    if (!wanted)
      continue;
    g_autofree char *error = NULL;
    if (network_manager_start(m, obj, &error) < 0)
      obj_set_error(obj, "autostart: %s", error);
  }
}

/* ---- reading ---- */

bool network_manager_is_active(Obj *obj) {
  g_mutex_lock(&obj->lock);
  const NetworkRuntime *rt = obj->runtime;
  bool up = rt && rt->up;
  g_mutex_unlock(&obj->lock);
  return up;
}

NetworkDef *network_manager_live_def(Obj *obj) {
  g_mutex_lock(&obj->lock);
  const NetworkRuntime *rt = obj->runtime;
  NetworkDef *live = rt && rt->up ? network_def_copy(rt->live) : NULL;
  g_mutex_unlock(&obj->lock);
  return live;
}

static int read_leases(NetworkManager *m, const NetworkDef *live, GPtrArray **ret_leases,
                       char **ret_error) {
  g_autoptr(GPtrArray) all = NULL;
  int r = bridge_network_read_leases(live, &m->bcfg, &all, ret_error);
  if (r < 0)
    return r;
  /* dnsmasq rewrites its file lazily: an expired lease may still be there. */
  int64_t now = g_get_real_time() / G_USEC_PER_SEC;
  GPtrArray *current = g_ptr_array_new_with_free_func((GDestroyNotify)dnsmasq_lease_free);
  for (guint i = 0; i < all->len; i++) {
    DnsmasqLease *l = all->pdata[i];
    if (l->expiry == 0 || l->expiry > now)
      g_ptr_array_add(current, g_steal_pointer(&all->pdata[i]));
  }
  *ret_leases = current;
  return 0;
}

int network_manager_leases(NetworkManager *m, Obj *obj, GPtrArray **ret_leases,
                           char **ret_error) {
  g_autoptr(NetworkDef) live = network_manager_live_def(obj);
  if (!live) {
    *ret_leases = g_ptr_array_new_with_free_func((GDestroyNotify)dnsmasq_lease_free);
    return 0;
  }
  return read_leases(m, live, ret_leases, ret_error);
}

/* The live definition of the active network an interface is on, or NULL. */
static NetworkDef *interface_network(NetworkManager *m, const DomainInterface *iface) {
  if (!iface->source)
    return NULL;
  if (iface->type == INTERFACE_NETWORK) {
    g_autoptr(Obj) obj = registry_lookup(m->registry, OBJ_NETWORK, NULL, iface->source);
    return obj ? network_manager_live_def(obj) : NULL;
  }
  if (iface->type != INTERFACE_BRIDGE)
    return NULL;
  g_autoptr(GPtrArray) list = registry_list(m->registry, OBJ_NETWORK, NULL);
  for (guint i = 0; i < list->len; i++) {
    NetworkDef *live = network_manager_live_def(list->pdata[i]);
    if (live && live->forward != NETWORK_FORWARD_BRIDGE &&
        g_strcmp0(live->bridge, iface->source) == 0)
      return live;
    network_def_free(live);
  }
  return NULL;
}

/* The name of a tap of this daemon carrying guest MAC `mac`, or NULL. */
static char *tap_of_mac(NetworkManager *m, const char *mac) {
  char *found = NULL;
  g_mutex_lock(&m->taps_lock);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, m->taps);
  while (!found && g_hash_table_iter_next(&it, &key, &value))
    if (g_ascii_strcasecmp(value, mac) == 0)
      found = g_strdup(key);
  g_mutex_unlock(&m->taps_lock);
  return found;
}

int network_manager_domain_addresses(NetworkManager *m, const DomainDef *def, GString *out,
                                     char **ret_error) {
  for (guint i = 0; i < def->interfaces->len; i++) {
    const DomainInterface *iface = def->interfaces->pdata[i];
    g_autoptr(NetworkDef) live = interface_network(m, iface);
    if (!live)
      continue;
    g_autoptr(GPtrArray) leases = NULL;
    int r = read_leases(m, live, &leases, ret_error);
    if (r < 0)
      return r;
    g_autofree char *tap = iface->target_dev ? g_strdup(iface->target_dev)
                                             : tap_of_mac(m, iface->mac);
    for (guint j = 0; j < leases->len; j++) {
      const DnsmasqLease *l = leases->pdata[j];
      if (!l->mac[0] || g_ascii_strcasecmp(l->mac, iface->mac) != 0)
        continue;
      const NetworkIp *ip = network_def_ip_for(live, &l->ip);
      char addr[NETWORK_ADDR_STRLEN];
      g_string_append_printf(out, "%s %s %s/%u\n", tap ? tap : "-", iface->mac,
                             network_addr_format(&l->ip, addr), ip ? ip->prefix : 0);
    }
  }
  return 0;
}

/* ---- taps ---- */

int network_manager_open_tap(NetworkManager *m, const DomainDef *def, size_t index,
                             DomainInterface *iface, int *ret_fd, char **ret_error) {
  g_autofree char *bridge = NULL;
  NetworkBandwidth bw = {0};
  if (iface->type == INTERFACE_NETWORK) {
    g_autoptr(Obj) obj = registry_lookup(m->registry, OBJ_NETWORK, NULL, iface->source);
    if (!obj)
      return fail(ret_error, -ENOENT, "interface %zu: the network '%s' is not defined", index,
                  iface->source);
    g_autoptr(NetworkDef) live = network_manager_live_def(obj);
    if (!live)
      return fail(ret_error, -EBUSY, "interface %zu: the network '%s' is not active; start it "
                  "first (echo active > networks/%s/state)", index, iface->source,
                  iface->source);
    bridge = g_strdup(live->bridge);
    /* The portgroup the interface names, or the default one (libvirt). */
    const NetworkPortgroup *pg = network_def_portgroup(live, iface->portgroup);
    if (!pg && iface->portgroup)
      return fail(ret_error, -ENOENT, "interface %zu: the network '%s' has no portgroup '%s'",
                  index, iface->source, iface->portgroup);
    if (pg)
      bw = pg->bandwidth;
  } else if (iface->type == INTERFACE_BRIDGE) {
    NlLinkInfo info;
    int r = nl_link_get(iface->source, &info);
    if (r == -ENODEV)
      return fail(ret_error, -ENOENT, "interface %zu: the host bridge '%s' does not exist",
                  index, iface->source);
    if (r < 0)
      return fail(ret_error, r, "interface %zu: cannot look up '%s': %s", index, iface->source,
                  g_strerror(-r));
    bool is_bridge = strcmp(info.kind, "bridge") == 0;
    nl_link_info_clear(&info);
    if (!is_bridge)
      return fail(ret_error, -EINVAL, "interface %zu: '%s' is not a bridge", index,
                  iface->source);
    bridge = g_strdup(iface->source);
  } else {
    return fail(ret_error, -EINVAL, "interface %zu: a %s interface has no tap", index,
                interface_type_to_string(iface->type));
  }
  g_autofree char *tap = NULL;
  g_autofree char *why = NULL;
  int fd = -1;
  bool vnet_hdr = g_strcmp0(iface->model, "virtio") == 0;
  int r = bridge_tap_create(bridge, iface->mac, vnet_hdr, &tap, &fd, &why);
  if (r < 0)
    return fail(ret_error, r, "interface %zu of domain '%s': %s", index, def->name, why);
  if (network_bandwidth_is_set(&bw) && (r = bandwidth_apply(tap, &bw, &why)) < 0) {
    close(fd);
    bridge_tap_delete(tap);
    return fail(ret_error, r, "interface %zu of domain '%s': cannot limit the bandwidth of %s "
                "(portgroup of network '%s'): %s", index, def->name, tap, iface->source, why);
  }
  g_mutex_lock(&m->taps_lock);
  g_hash_table_replace(m->taps, g_strdup(tap), g_strdup(iface->mac));
  if (iface->type == INTERFACE_NETWORK)
    g_hash_table_replace(m->tap_networks, g_strdup(tap), g_strdup(iface->source));
  g_mutex_unlock(&m->taps_lock);
  g_free(iface->target_dev);
  iface->target_dev = g_steal_pointer(&tap);
  *ret_fd = fd;
  return 0;
}

void network_manager_close_tap(NetworkManager *m, const char *tap_name) {
  bandwidth_clear(tap_name);
  int r = bridge_tap_delete(tap_name);
  if (r < 0)
    log_warning("cannot delete the tap %s: %s", tap_name, g_strerror(-r));
  g_mutex_lock(&m->taps_lock);
  g_hash_table_remove(m->taps, tap_name);
  g_hash_table_remove(m->tap_networks, tap_name);
  g_mutex_unlock(&m->taps_lock);
}

static int hook_open_tap(void *user_data, const DomainDef *def, size_t index,
                         DomainInterface *iface, int *ret_fd, char **ret_error) {
  return network_manager_open_tap(user_data, def, index, iface, ret_fd, ret_error);
}

static void hook_close_tap(void *user_data, const char *tap_name) {
  network_manager_close_tap(user_data, tap_name);
}

void network_manager_fill_qemu_hooks(NetworkManager *m, QemuDriverHooks *hooks) {
  hooks->user_data = m;
  hooks->open_tap = hook_open_tap;
  hooks->close_tap = hook_close_tap;
}
