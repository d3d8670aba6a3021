/* fs_network_files.c — the files of /virt/networks/NAME/ and their handlers,
 * plus the domain's `addresses`, which comes from the networks' leases. The
 * table at the end is the list users see; docs/networks.md documents each
 * entry and tests/integration/test_docs.sh checks that it does. What a
 * network does when it starts or stops is in drivers/bridge/network_manager.c. */
#include "fs/fs_network_files.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "drivers/bridge/dnsmasq.h"
#include "drivers/bridge/network_manager.h"
#include "fs/fs_common_files.h"

static int no_manager(char **ret_error) {
  *ret_error = g_strdup("networks are not available in this daemon");
  return -EOPNOTSUPP;
}

/* ---- state ---- */

static int state_read(FsContext *ctx, Obj *obj, GString *out) {
  g_string_append(out, network_manager_is_active(obj) ? "active\n" : "inactive\n");
  return 0;
}

/* Declarative: the state already there is success. */
static int state_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                       char **ret_error) {
  bool active;
  if (strcmp(data, "active") == 0) {
    active = true;
  } else if (strcmp(data, "inactive") == 0) {
    active = false;
  } else {
    *ret_error = g_strdup_printf("state: '%s' is not a state (active or inactive)", data);
    return -EINVAL;
  }
  if (!ctx->networks)
    return no_manager(ret_error);
  g_autofree char *error = NULL;
  int r = active ? network_manager_start(ctx->networks, obj, &error)
                 : network_manager_stop(ctx->networks, obj, &error);
  if (r < 0) {
    *ret_error = g_strdup_printf("state: %s", error ? error : g_strerror(-r));
    return r;
  }
  return 0;
}

/* ---- ctl ---- */

typedef struct {
  const char *verb;
  unsigned nargs;
  int (*handler)(FsContext *ctx, Obj *obj, char **args, char **ret_error);
} FsNetworkVerb;

static int verb_start(FsContext *ctx, Obj *obj, char **args, char **ret_error) {
  int r = network_manager_start(ctx->networks, obj, ret_error);
  if (r == 1) {
    g_autofree char *name = obj_dup_name(obj);
    *ret_error = g_strdup_printf("network '%s' is active already", name);
    return -EBUSY;
  }
  return r;
}

static int verb_stop(FsContext *ctx, Obj *obj, char **args, char **ret_error) {
  int r = network_manager_stop(ctx->networks, obj, ret_error);
  if (r == 1) {
    g_autofree char *name = obj_dup_name(obj);
    *ret_error = g_strdup_printf("network '%s' is not active", name);
    return -EBUSY;
  }
  return r;
}

static const FsNetworkVerb network_verbs[] = {
  {"start", 0, verb_start},
  {"stop", 0, verb_stop},
};

static int ctl_read(FsContext *ctx, Obj *obj, GString *out) {
  for (size_t i = 0; i < G_N_ELEMENTS(network_verbs); i++)
    g_string_append_printf(out, "%s\n", network_verbs[i].verb);
  return 0;
}

static int ctl_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) {
  g_auto(GStrv) words = g_strsplit_set(data, " \t", -1);
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  for (char **w = words; *w; w++)
    if (**w)
      g_ptr_array_add(args, *w);
  g_ptr_array_add(args, NULL);
  char **argv = (char **)args->pdata;
  const FsNetworkVerb *verb = NULL;
  for (size_t i = 0; argv[0] && i < G_N_ELEMENTS(network_verbs); i++)
    if (strcmp(network_verbs[i].verb, argv[0]) == 0)
      verb = &network_verbs[i];
  if (!verb) {
    *ret_error = g_strdup_printf("ctl: unknown verb '%s' (verbs: start, stop)", data);
    return -EINVAL;
  }
  if (args->len - 2 != verb->nargs) {
    *ret_error = g_strdup_printf("ctl: '%s' takes %u argument%s", verb->verb, verb->nargs,
                                 verb->nargs == 1 ? "" : "s");
    return -EINVAL;
  }
  if (!ctx->networks)
    return no_manager(ret_error);
  g_autofree char *error = NULL;
  int r = verb->handler(ctx, obj, argv + 1, &error);
  if (r < 0)
    *ret_error = g_strdup_printf("%s: %s", verb->verb, error ? error : g_strerror(-r));
  return r;
}

/* ---- bridge, leases ---- */

static int bridge_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(NetworkDef) live = network_manager_live_def(obj);
  if (live) {
    g_string_append_printf(out, "%s\n", live->bridge);
    return 0;
  }
  g_mutex_lock(&obj->lock);
  g_string_append_printf(out, "%s\n", ((const NetworkDef *)obj->def)->bridge);
  g_mutex_unlock(&obj->lock);
  return 0;
}

/* One lease a line: "EXPIRY MAC IP HOSTNAME" (see docs/networks.md). */
static int leases_read(FsContext *ctx, Obj *obj, GString *out) {
  if (!ctx->networks)
    return 0;
  g_autoptr(GPtrArray) leases = NULL;
  g_autofree char *error = NULL;
  int r = network_manager_leases(ctx->networks, obj, &leases, &error);
  if (r < 0) {
    obj_set_error(obj, "leases: %s", error);
    return r;
  }
  for (guint i = 0; i < leases->len; i++) {
    const DnsmasqLease *l = leases->pdata[i];
    g_autofree char *expiry = NULL;
    if (l->expiry == 0) {
      expiry = g_strdup("never");
    } else {
      g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(l->expiry);
      expiry = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("never");
    }
    char ip[NETWORK_ADDR_STRLEN];
    g_string_append_printf(out, "%s %s %s %s\n", expiry, l->mac[0] ? l->mac : "-",
                           network_addr_format(&l->ip, ip), l->hostname ? l->hostname : "-");
  }
  return 0;
}

/* ---- info ---- */

/* The <ip> elements of one family: "ADDRESS/PREFIX" of each, and every
 * DHCP range of them as "START-END", each list comma-separated, "-" when
 * empty. */
static void append_ips(GString *out, const char *key, const NetworkDef *def, int family) {
  char a[NETWORK_ADDR_STRLEN], b[NETWORK_ADDR_STRLEN];
  g_autoptr(GString) addrs = g_string_new(NULL), ranges = g_string_new(NULL);
  for (guint i = 0; def->ips && i < def->ips->len; i++) {
    const NetworkIp *ip = def->ips->pdata[i];
    if (ip->address.family != family)
      continue;
    g_string_append_printf(addrs, "%s%s/%u", addrs->len ? "," : "",
                           network_addr_format(&ip->address, a), ip->prefix);
    for (guint j = 0; j < ip->ranges->len; j++) {
      const NetworkDhcpRange *r = ip->ranges->pdata[j];
      g_string_append_printf(ranges, "%s%s-%s", ranges->len ? "," : "",
                             network_addr_format(&r->start, a), network_addr_format(&r->end, b));
    }
  }
  g_string_append_printf(out, "%s: %s\n%s_dhcp: %s\n", key, addrs->len ? addrs->str : "-", key,
                         ranges->len ? ranges->str : "-");
}

/* key: value lines for scripts (docs/networks.md): the live definition
 * while active, the persistent one otherwise. */
static int info_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(NetworkDef) def = network_manager_live_def(obj);
  bool active = def != NULL;
  if (!def)
    def = fs_obj_copy_def(obj);
  g_mutex_lock(&obj->lock);
  bool autostart = obj->autostart;
  g_mutex_unlock(&obj->lock);
  g_string_append_printf(out, "name: %s\n", def->name);
  g_string_append_printf(out, "uuid: %s\n", def->uuid);
  g_string_append_printf(out, "state: %s\n", active ? "active" : "inactive");
  g_string_append_printf(out, "autostart: %d\n", autostart ? 1 : 0);
  g_string_append_printf(out, "bridge: %s\n", def->bridge);
  g_string_append_printf(out, "forward: %s\n", network_forward_mode_to_string(def->forward));
  append_ips(out, "ipv4", def, AF_INET);
  append_ips(out, "ipv6", def, AF_INET6);
  g_autoptr(GPtrArray) leases = NULL;
  g_autofree char *error = NULL;
  guint count = 0;
  if (active && ctx->networks && network_manager_leases(ctx->networks, obj, &leases, &error) == 0)
    count = leases->len;
  g_string_append_printf(out, "leases: %u\n", count);
  return 0;
}

/* ---- the directory ---- */

static int network_create(FsContext *ctx, Obj *parent, const char *name, char **ret_error) {
  NetworkDef *def = network_def_new_empty(name);
  int r = registry_define(ctx->registry, OBJ_NETWORK, NULL, (void **)&def, NULL, ret_error);
  network_def_free(def);
  return r;
}

static const FsFile network_files[] = {
  {"config.xml", FS_FILE_DOCUMENT, 0644, fs_config_read, fs_config_write},
  {"state", FS_FILE_VALUE, 0644, state_read, state_write},
  {"ctl", FS_FILE_CTL, 0644, ctl_read, ctl_write},
  {"autostart", FS_FILE_VALUE, 0644, fs_autostart_read, fs_autostart_write},
  {"uuid", FS_FILE_VALUE, 0444, fs_uuid_read, NULL},
  {"bridge", FS_FILE_VALUE, 0444, bridge_read, NULL},
  {"leases", FS_FILE_VALUE, 0444, leases_read, NULL},
  {"info", FS_FILE_VALUE, 0444, info_read, NULL},
  {.name = "history", .kind = FS_FILE_DIR, .mode = 0755, .dir = &fs_history_dir},
  FS_ERROR_FILE,
};

const FsFileTable fs_network_files = {
  .files = network_files,
  .count = G_N_ELEMENTS(network_files),
  .create = network_create,
};

/* ---- domains/NAME/addresses ---- */

int fs_domain_addresses_read(FsContext *ctx, Obj *obj, GString *out) {
  if (!ctx->networks)
    return 0;
  g_autoptr(DomainDef) def = fs_obj_copy_def(obj);
  g_autofree char *error = NULL;
  int r = network_manager_domain_addresses(ctx->networks, def, out, &error);
  if (r < 0)
    obj_set_error(obj, "addresses: %s", error);
  return r;
}
