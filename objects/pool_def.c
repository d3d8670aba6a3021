/* pool_def.c — the PoolDef struct's life cycle, enum tables and the pure
 * helpers about names and paths in a pool; the XML lives in pool_xml.c. */
#include "objects/pool_def.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "objects/names.h"

ENUM_TABLE_IMPL(pool_type, PoolType, "dir", "fs", "logical", "netfs")
ENUM_TABLE_IMPL(pool_format, PoolFormat, "auto", "ext2", "ext3", "ext4", "xfs",
                "vfat", "btrfs", "lvm2", "nfs", "cifs")

static PoolDef *pool_def_alloc(void) {
  PoolDef *def = g_new0(PoolDef, 1);
  def->source_devices = g_ptr_array_new_with_free_func(g_free);
  def->perms.mode = POOL_DEFAULT_MODE;
  def->perms.owner = STORAGE_ID_UNSET;
  def->perms.group = STORAGE_ID_UNSET;
  return def;
}

PoolDef *pool_def_new_default(const char *path) {
  PoolDef *def = pool_def_alloc();
  def->type = POOL_TYPE_DIR;
  def->name = g_strdup("default");
  g_autofree char *uuid = g_uuid_string_random();
  g_strlcpy(def->uuid, uuid, sizeof(def->uuid));
  if (pool_path_normalize(path, &def->target_path) < 0)
    def->target_path = g_strdup(path);
  return def;
}

void pool_def_free(PoolDef *def) {
  if (!def)
    return;
  g_free(def->name);
  g_ptr_array_unref(def->source_devices);
  g_free(def->source_name);
  g_free(def->source_host);
  g_free(def->source_dir);
  g_free(def->target_path);
  g_free(def);
}

PoolDef *pool_def_copy(const PoolDef *def) {
  PoolDef *c = pool_def_alloc();
  c->type = def->type;
  c->name = g_strdup(def->name);
  memcpy(c->uuid, def->uuid, sizeof(c->uuid));
  for (guint i = 0; i < def->source_devices->len; i++)
    g_ptr_array_add(c->source_devices, g_strdup(g_ptr_array_index(def->source_devices, i)));
  c->source_name = g_strdup(def->source_name);
  c->source_format = def->source_format;
  c->source_host = g_strdup(def->source_host);
  c->source_port = def->source_port;
  c->source_dir = g_strdup(def->source_dir);
  c->source_protocol = def->source_protocol;
  c->target_path = g_strdup(def->target_path);
  c->perms = def->perms;
  return c;
}

char *pool_volume_path(const PoolDef *def, const char *name) {
  if (def->type == POOL_TYPE_LOGICAL)
    return g_strdup_printf("/dev/%s/%s", def->source_name ? def->source_name : def->name, name);
  if (strcmp(def->target_path, "/") == 0)
    return g_strconcat("/", name, NULL);
  return g_strconcat(def->target_path, "/", name, NULL);
}

static int fail(char **ret_error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int fail(char **ret_error, const char *fmt, ...) {
  if (ret_error) {
    va_list ap;
    va_start(ap, fmt);
    *ret_error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
  }
  return -EINVAL;
}

int pool_lvm_name_validate(const char *name, char **ret_error) {
  /* LVM keeps these for its own sub-volumes; lvcreate refuses them with a
   * confusing message, so say it first. */
  static const char *const reserved_parts[] = {
    "_cdata", "_cmeta", "_corig", "_mimage", "_mlog", "_pmspare", "_rimage",
    "_rmeta", "_tdata", "_tmeta", "_vorigin", "_vdata",
  };
  if (!name || !*name)
    return fail(ret_error, "an LVM name must not be empty");
  size_t len = strlen(name);
  if (len > 127)
    return fail(ret_error, "'%s' is longer than LVM's 127 bytes", name);
  if (name[0] == '-')
    return fail(ret_error, "an LVM name must not begin with '-': '%s'", name);
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return fail(ret_error, "'%s' is not a valid LVM name", name);
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("+_.-", *p))
      return fail(ret_error, "LVM names may contain only letters, digits and '+_.-': '%s'", name);
  if (g_str_has_prefix(name, "snapshot") || g_str_has_prefix(name, "pvmove"))
    return fail(ret_error, "LVM reserves names beginning with 'snapshot' or 'pvmove': '%s'", name);
  for (size_t i = 0; i < G_N_ELEMENTS(reserved_parts); i++)
    if (strstr(name, reserved_parts[i]))
      return fail(ret_error, "LVM reserves names containing '%s': '%s'", reserved_parts[i], name);
  return 0;
}

int pool_volume_name_validate(const PoolDef *def, const char *name, char **ret_error) {
  int r = object_name_validate(name, ret_error);
  if (r < 0)
    return r;
  if (def->type == POOL_TYPE_LOGICAL)
    return pool_lvm_name_validate(name, ret_error);
  return 0;
}

int pool_path_normalize(const char *path, char **ret_path) {
  if (!path || path[0] != '/')
    return -EINVAL;
  g_autoptr(GString) out = g_string_new("");
  g_auto(GStrv) parts = g_strsplit(path, "/", -1);
  for (char **p = parts; *p; p++) {
    if (!**p)
      continue;
    if (strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
      return -EINVAL;
    for (const unsigned char *c = (const unsigned char *)*p; *c; c++)
      if (*c < 0x20 || *c == 0x7f)
        return -EINVAL;
    g_string_append_c(out, '/');
    g_string_append(out, *p);
  }
  if (out->len == 0)
    g_string_append_c(out, '/');
  *ret_path = g_string_free(g_steal_pointer(&out), FALSE);
  return 0;
}
