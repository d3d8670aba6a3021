/* pool_obj.c — the ObjType of storage pools: how the registry and the store
 * parse, format, copy and name a PoolDef. Pools are stored definitions
 * (STATE/pools/NAME.xml); the live sizes are never part of what is stored. */
#include "objects/pool_obj.h"

static char *format(const void *def) {
  return pool_def_format(def, NULL);
}

OBJ_TYPE_ADAPTERS(pool, PoolDef)

const ObjType pool_obj_type = {
  .kind = OBJ_POOL,
  .dir_name = "pools",
  .stored = true,
  .parse = pool_obj_parse,
  .format = format,
  .copy = pool_obj_copy,
  .free = pool_obj_free,
  .get_name = pool_obj_get_name,
  .set_name = pool_obj_set_name,
  .get_uuid = pool_obj_get_uuid,
};
