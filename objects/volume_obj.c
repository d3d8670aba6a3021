/* volume_obj.c — the ObjType of storage volumes. Volumes are not stored:
 * they are real files or LVs, and the registry keeps them as children of
 * their pool's Obj only while the pool is active. Their definition in the
 * registry is the last live one the storage driver reported (a cache for
 * listings); files that show sizes ask the driver again.
 *
 * `parse` knows no pool, so it only checks the document; the FUSE layer
 * parses volume XML against the pool (volume_def_parse with a PoolDef). */
#include "objects/volume_obj.h"

static int parse(const char *xml, size_t len, void **ret_def, char **ret_error) {
  VolumeDef *def = NULL;
  int r = volume_def_parse(xml, len, NULL, &def, ret_error);
  if (r >= 0)
    *ret_def = def;
  return r;
}

static char *format(const void *def) {
  return volume_def_format(def);
}

static void *copy(const void *def) {
  return volume_def_copy(def);
}

static void free_def(void *def) {
  volume_def_free(def);
}

static const char *get_name(const void *def) {
  return ((const VolumeDef *)def)->name;
}

/* A volume's key and path follow from its name; a rename is done on the
 * host first, and the registry then takes the driver's new definition. */
static void set_name(void *def, const char *name) {
  VolumeDef *d = def;
  g_free(d->name);
  d->name = g_strdup(name);
}

const ObjType volume_obj_type = {
  .kind = OBJ_VOLUME,
  .dir_name = "volumes",
  .stored = false,
  .parse = parse,
  .format = format,
  .copy = copy,
  .free = free_def,
  .get_name = get_name,
  .set_name = set_name,
  .get_uuid = NULL,
};
