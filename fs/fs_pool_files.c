/* fs_pool_files.c — the files of /virt/pools/NAME/ and their handlers, and
 * the ctl verb table. The tables at the end are the lists users see;
 * docs/pools.md documents each entry and tests/integration/test_docs.sh
 * checks that it does. What the handlers do to the host goes through
 * fs_pools.c. */
#include <errno.h>
#include <string.h>

#include "fs/fs_common_files.h"
#include "fs/fs_pools.h"
#include "objects/pool_def.h"

static int config_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(PoolDef) def = fs_obj_copy_def(obj);
  PoolSizes sizes;
  g_autofree char *ignored = NULL;
  bool live = fs_pool_is_active(obj) &&
              storage_pool_info(fs_pools_driver(ctx), def, &sizes, &ignored) == 0;
  g_autofree char *xml = pool_def_format(def, live ? &sizes : NULL);
  g_string_append(out, xml);
  return 0;
}

/* A new definition applies at once to an inactive pool; an active pool
 * keeps its storage, so only identical content is accepted then. */
static int config_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                        char **ret_error) {
  g_autoptr(PoolDef) def = NULL;
  g_autofree char *error = NULL;
  int r = pool_def_parse(data, len, &def, &error);
  if (r < 0) {
    *ret_error = g_strdup_printf("config.xml: %s", error);
    return r;
  }
  g_autofree char *other = fs_pool_conflict(ctx, def, obj);
  if (other) {
    *ret_error = g_strdup_printf("config.xml: pool '%s' already uses this storage (%s)", other,
                                 def->type == POOL_TYPE_LOGICAL ? "volume group or device"
                                                                : "target directory or device");
    return -EEXIST;
  }
  fs_pool_lock(ctx, obj);
  if (fs_pool_is_active(obj)) {
    g_autofree char *xml = pool_def_format(def, NULL);
    g_mutex_lock(&obj->lock);
    bool same = strcmp(xml, obj->def_xml) == 0;
    g_mutex_unlock(&obj->lock);
    if (!same) {
      fs_pool_unlock(ctx, obj);
      *ret_error = g_strdup_printf("config.xml: pool '%s' is active: stop it (echo inactive > "
                                   "state) before changing its definition", def->name);
      return -EBUSY;
    }
  }
  r = registry_update(ctx->registry, obj, (void **)&def, &error);
  fs_pool_unlock(ctx, obj);
  if (r < 0)
    *ret_error = g_strdup_printf("config.xml: %s", error);
  return r;
}

static int state_read(FsContext *ctx, Obj *obj, GString *out) {
  g_string_append(out, fs_pool_is_active(obj) ? "active\n" : "inactive\n");
  return 0;
}

static int state_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                       char **ret_error) {
  g_autofree char *error = NULL;
  int r;
  if (strcmp(data, "active") == 0)
    r = fs_pool_start(ctx, obj, &error);
  else if (strcmp(data, "inactive") == 0)
    r = fs_pool_stop(ctx, obj, &error);
  else {
    *ret_error = g_strdup_printf("state: '%s' is not a pool state (active or inactive)", data);
    return -EINVAL;
  }
  if (r < 0)
    *ret_error = g_strdup_printf("state %s: %s", data, error);
  return r;
}

/* ---- ctl ---- */

typedef struct {
  const char *verb;
  unsigned min_args, max_args;
  const char *usage;
  int (*run)(FsContext *ctx, Obj *pool, char **args, char **ret_error);
} PoolVerb;

static int verb_build(FsContext *ctx, Obj *pool, char **args, char **ret_error) {
  unsigned flags = 0;
  if (args[0]) {
    if (strcmp(args[0], "overwrite") != 0) {
      *ret_error = g_strdup_printf("'%s' is not an option of build (overwrite)", args[0]);
      return -EINVAL;
    }
    flags |= STORAGE_BUILD_OVERWRITE;
  }
  return fs_pool_build(ctx, pool, flags, ret_error);
}

static int verb_start(FsContext *ctx, Obj *pool, char **args, char **ret_error) {
  return fs_pool_start(ctx, pool, ret_error);
}

static int verb_stop(FsContext *ctx, Obj *pool, char **args, char **ret_error) {
  return fs_pool_stop(ctx, pool, ret_error);
}

static int verb_refresh(FsContext *ctx, Obj *pool, char **args, char **ret_error) {
  return fs_pool_refresh(ctx, pool, ret_error);
}

static int verb_delete(FsContext *ctx, Obj *pool, char **args, char **ret_error) {
  return fs_pool_delete(ctx, pool, ret_error);
}

/* The verbs of a pool's ctl file: docs/pools.md documents this table. */
static const PoolVerb pool_verbs[] = {
  {"build", 0, 1, "build [overwrite]", verb_build},
  {"start", 0, 0, "start", verb_start},
  {"stop", 0, 0, "stop", verb_stop},
  {"refresh", 0, 0, "refresh", verb_refresh},
  {"delete", 0, 0, "delete", verb_delete},
};

static int ctl_read(FsContext *ctx, Obj *obj, GString *out) {
  for (size_t i = 0; i < G_N_ELEMENTS(pool_verbs); i++)
    g_string_append_printf(out, "%s\n", pool_verbs[i].usage);
  return 0;
}

static int ctl_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) {
  g_auto(GStrv) all = g_strsplit_set(data, " \t", -1);
  g_autoptr(GPtrArray) words = g_ptr_array_new();
  for (char **w = all; *w; w++)
    if (**w)
      g_ptr_array_add(words, *w);
  g_ptr_array_add(words, NULL);
  char **argv = (char **)words->pdata;
  const PoolVerb *v = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS(pool_verbs) && argv[0]; i++)
    if (strcmp(pool_verbs[i].verb, argv[0]) == 0)
      v = &pool_verbs[i];
  if (!v) {
    *ret_error = g_strdup_printf("ctl: unknown verb '%s' (build, start, stop, refresh, delete)",
                                 argv[0] ? argv[0] : "");
    return -EINVAL;
  }
  unsigned nargs = words->len - 2;
  if (nargs < v->min_args || nargs > v->max_args) {
    *ret_error = g_strdup_printf("ctl: usage: %s", v->usage);
    return -EINVAL;
  }
  g_autofree char *error = NULL;
  int r = v->run(ctx, obj, argv + 1, &error);
  if (r < 0)
    *ret_error = g_strdup_printf("ctl %s: %s", v->verb, error ? error : g_strerror(-r));
  return r;
}

/* ---- info ---- */

static uint64_t kib(uint64_t bytes) {
  return bytes / 1024 + (bytes % 1024 != 0);
}

static int info_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(PoolDef) def = fs_obj_copy_def(obj);
  bool active = fs_pool_is_active(obj);
  g_mutex_lock(&obj->lock);
  bool autostart = obj->autostart;
  g_mutex_unlock(&obj->lock);
  PoolSizes sizes = {0};
  g_autofree char *ignored = NULL;
  if (active)
    storage_pool_info(fs_pools_driver(ctx), def, &sizes, &ignored);
  g_string_append_printf(out, "name: %s\n", def->name);
  g_string_append_printf(out, "uuid: %s\n", def->uuid);
  g_string_append_printf(out, "type: %s\n", pool_type_to_string(def->type));
  g_string_append_printf(out, "state: %s\n", active ? "active" : "inactive");
  g_string_append_printf(out, "capacity: %" G_GUINT64_FORMAT "\n", kib(sizes.capacity));
  g_string_append_printf(out, "allocation: %" G_GUINT64_FORMAT "\n", kib(sizes.allocation));
  g_string_append_printf(out, "available: %" G_GUINT64_FORMAT "\n", kib(sizes.available));
  g_string_append_printf(out, "volumes: %u\n",
                         active ? registry_count(ctx->registry, OBJ_VOLUME, obj) : 0);
  g_string_append_printf(out, "autostart: %d\n", autostart ? 1 : 0);
  g_string_append_printf(out, "path: %s\n",
                         def->type == POOL_TYPE_LOGICAL ? "" : def->target_path);
  return 0;
}

/* ---- directories ---- */

static int pool_create(FsContext *ctx, Obj *parent, const char *name, char **ret_error) {
  return fs_pool_create(ctx, name, ret_error);
}

static int pool_remove(FsContext *ctx, Obj *obj, char **ret_error) {
  fs_pool_lock(ctx, obj);
  int r = registry_undefine(ctx->registry, obj, ret_error);
  fs_pool_unlock(ctx, obj);
  return r;
}

static int pool_rename(FsContext *ctx, Obj *obj, const char *new_name, char **ret_error) {
  fs_pool_lock(ctx, obj);
  int r = registry_rename(ctx->registry, obj, new_name, ret_error);
  fs_pool_unlock(ctx, obj);
  return r;
}

static const FsFile pool_files[] = {
  {"config.xml", FS_FILE_DOCUMENT, 0644, config_read, config_write},
  {"state", FS_FILE_VALUE, 0644, state_read, state_write},
  {"ctl", FS_FILE_CTL, 0644, ctl_read, ctl_write},
  {"autostart", FS_FILE_VALUE, 0644, fs_autostart_read, fs_autostart_write},
  {"uuid", FS_FILE_VALUE, 0444, fs_uuid_read, NULL},
  {"info", FS_FILE_VALUE, 0444, info_read, NULL},
  {.name = "history", .kind = FS_FILE_DIR, .mode = 0755, .dir = &fs_history_dir},
  FS_ERROR_FILE,
  {"volumes", FS_FILE_DIR, 0755, NULL, NULL},
};

const FsFileTable fs_pool_files = {
  .files = pool_files,
  .count = G_N_ELEMENTS(pool_files),
  .create = pool_create,
  .remove = pool_remove,
  .rename = pool_rename,
};
