/* network_obj.c — the ObjType of networks: how the registry and the store
 * parse, format, copy and name a NetworkDef. Their runtime (the live
 * definition, the dnsmasq watch) belongs to drivers/bridge/network_manager.c. */
#include "objects/network_obj.h"

static int parse(const char *xml, size_t len, void **ret_def, char **ret_error) {
  NetworkDef *def = NULL;
  int r = network_def_parse(xml, len, &def, ret_error);
  if (r >= 0)
    *ret_def = def;
  return r;
}

static char *format(const void *def) {
  return network_def_format(def);
}

static void *copy(const void *def) {
  return network_def_copy(def);
}

static void free_def(void *def) {
  network_def_free(def);
}

static const char *get_name(const void *def) {
  return ((const NetworkDef *)def)->name;
}

static void set_name(void *def, const char *name) {
  NetworkDef *d = def;
  g_free(d->name);
  d->name = g_strdup(name);
}

static const char *get_uuid(const void *def) {
  return ((const NetworkDef *)def)->uuid;
}

const ObjType network_obj_type = {
  .kind = OBJ_NETWORK,
  .dir_name = "networks",
  .stored = true,
  .parse = parse,
  .format = format,
  .copy = copy,
  .free = free_def,
  .get_name = get_name,
  .set_name = set_name,
  .get_uuid = get_uuid,
};
