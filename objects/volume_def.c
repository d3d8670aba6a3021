/* volume_def.c — the VolumeDef struct's life cycle, enum tables and its
 * resolution against a pool; the XML lives in volume_xml.c. */
#include "objects/volume_def.h"

#include <errno.h>
#include <string.h>

ENUM_TABLE_IMPL(volume_type, VolumeType, "file", "block")
ENUM_TABLE_IMPL(volume_format, VolumeFormat, "raw", "qcow2")

VolumeDef *volume_def_new(const char *name) {
  VolumeDef *def = g_new0(VolumeDef, 1);
  def->name = g_strdup(name);
  def->type = VOLUME_TYPE_FILE;
  def->format = VOLUME_FORMAT_RAW;
  def->perms.mode = VOLUME_DEFAULT_MODE;
  def->perms.owner = STORAGE_ID_UNSET;
  def->perms.group = STORAGE_ID_UNSET;
  return def;
}

void volume_def_free(VolumeDef *def) {
  if (!def)
    return;
  g_free(def->name);
  g_free(def->key);
  g_free(def->target_path);
  g_free(def->compat);
  g_free(def->backing_path);
  g_free(def);
}

VolumeDef *volume_def_copy(const VolumeDef *def) {
  VolumeDef *c = g_new0(VolumeDef, 1);
  *c = *def;
  c->name = g_strdup(def->name);
  c->key = g_strdup(def->key);
  c->target_path = g_strdup(def->target_path);
  c->compat = g_strdup(def->compat);
  c->backing_path = g_strdup(def->backing_path);
  return c;
}

int volume_def_resolve(VolumeDef *def, const PoolDef *pool, char **ret_error) {
  int r = pool_volume_name_validate(pool, def->name, ret_error);
  if (r < 0)
    return r;
  VolumeType type = pool->type == POOL_TYPE_LOGICAL ? VOLUME_TYPE_BLOCK : VOLUME_TYPE_FILE;
  g_autofree char *path = pool_volume_path(pool, def->name);
  if (def->type != type) {
    *ret_error = g_strdup_printf("volumes of %s pools have type '%s', not '%s'",
                                 pool_type_to_string(pool->type), volume_type_to_string(type),
                                 volume_type_to_string(def->type));
    return -EINVAL;
  }
  if (def->target_path && strcmp(def->target_path, path) != 0) {
    *ret_error = g_strdup_printf("the target path of volume '%s' is %s, not %s", def->name, path,
                                 def->target_path);
    return -EINVAL;
  }
  if (def->key && strcmp(def->key, path) != 0) {
    *ret_error = g_strdup_printf("the key of volume '%s' is its path %s, not %s", def->name, path,
                                 def->key);
    return -EINVAL;
  }
  if (pool->type == POOL_TYPE_LOGICAL && (def->format != VOLUME_FORMAT_RAW || def->backing_path)) {
    *ret_error = g_strdup("logical volumes are raw: no qcow2 format and no backing store");
    return -EINVAL;
  }
  g_free(def->target_path);
  def->target_path = g_strdup(path);
  g_free(def->key);
  def->key = g_steal_pointer(&path);
  return 0;
}
