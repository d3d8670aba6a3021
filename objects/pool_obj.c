/* pool_obj.c — the ObjType of storage pools: how the registry and the store
 * parse, format, copy and name a PoolDef. Pools are stored definitions
 * (STATE/pools/NAME.xml); the live sizes are never part of what is stored. */
#include "objects/pool_obj.h"

static int parse(const char *xml, size_t len, void **ret_def, char **ret_error) {
  PoolDef *def = NULL;
  int r = pool_def_parse(xml, len, &def, ret_error);
  if (r >= 0)
    *ret_def = def;
  return r;
}

static char *format(const void *def) {
  return pool_def_format(def, NULL);
}

static void *copy(const void *def) {
  return pool_def_copy(def);
}

static void free_def(void *def) {
  pool_def_free(def);
}

static const char *get_name(const void *def) {
  return ((const PoolDef *)def)->name;
}

static void set_name(void *def, const char *name) {
  PoolDef *d = def;
  g_free(d->name);
  d->name = g_strdup(name);
}

static const char *get_uuid(const void *def) {
  return ((const PoolDef *)def)->uuid;
}

const ObjType pool_obj_type = {
  .kind = OBJ_POOL,
  .dir_name = "pools",
  .stored = true,
  .parse = parse,
  .format = format,
  .copy = copy,
  .free = free_def,
  .get_name = get_name,
  .set_name = set_name,
  .get_uuid = get_uuid,
};
