/* fs_pools.c — pools' life cycle through the registry and the storage
 * driver, and the registry's volumes kept in step with the host; see
 * fs_pools.h for the model and the lock order. */
#include "fs/fs_pools.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "objects/log.h"
#include "objects/pool_obj.h"
#include "objects/registry.h"
#include "objects/volume_obj.h"

/* Pools share this many operation locks, picked by the Obj's generation:
 * a lock that lives as long as the daemon needs no life cycle of its own,
 * and two pools that share one only wait for each other. */
#define POOL_LOCKS 32

struct FsPools {
  StorageDriver *driver;
  GMutex locks[POOL_LOCKS];
  char *marker_dir;          /* RUN_DIR/pools */
};

/* Obj.runtime of an active pool. */
typedef struct {
  int64_t refreshed_us;      /* monotonic time of the last refresh */
} PoolRuntime;

StorageDriver *fs_pools_driver(FsContext *ctx) {
  return ctx->pools->driver;
}

static GMutex *pool_mutex(FsContext *ctx, Obj *pool) {
  return &ctx->pools->locks[pool->generation % POOL_LOCKS];
}

void fs_pool_lock(FsContext *ctx, Obj *pool) {
  g_mutex_lock(pool_mutex(ctx, pool));
}

void fs_pool_unlock(FsContext *ctx, Obj *pool) {
  g_mutex_unlock(pool_mutex(ctx, pool));
}

bool fs_pool_is_active(Obj *pool) {
  g_mutex_lock(&pool->lock);
  bool active = pool->runtime != NULL;
  g_mutex_unlock(&pool->lock);
  return active;
}

static PoolDef *copy_def(Obj *pool) {
  g_mutex_lock(&pool->lock);
  PoolDef *def = pool_def_copy(pool->def);
  g_mutex_unlock(&pool->lock);
  return def;
}

static char *marker_path(FsContext *ctx, const char *name) {
  g_autofree char *file = g_strconcat(name, ".active", NULL);
  return g_build_filename(ctx->pools->marker_dir, file, NULL);
}

static void set_marker(FsContext *ctx, const char *name, bool active) {
  g_autofree char *path = marker_path(ctx, name);
  if (!active) {
    g_unlink(path);
    return;
  }
  g_autoptr(GError) err = NULL;
  if (!g_file_set_contents(path, "", 0, &err))
    log_warning("pool '%s': cannot mark it active in %s: %s (it will not be restarted "
                "by a new daemon unless autostart is set)", name, path, err->message);
}

/* ---- volumes in the registry ---- */

void fs_volume_set_live_def(Obj *vol, VolumeDef **def) {
  g_autofree char *xml = volume_def_format(*def);
  g_mutex_lock(&vol->lock);
  if (g_strcmp0(xml, vol->def_xml) != 0)
    obj_set_def_locked(vol, (void **)def);
  g_mutex_unlock(&vol->lock);
  g_clear_pointer(def, volume_def_free);
}

bool fs_volume_in_use(FsContext *ctx, Obj *vol) {
  if (!ctx->volume_in_use || !vol->parent)
    return false;
  g_autofree char *pool = obj_dup_name(vol->parent);
  g_autofree char *name = obj_dup_name(vol);
  return ctx->volume_in_use(ctx, pool, name);
}

/* Makes the registry hold `vol` (consumed) under pool. */
static int put_volume(FsContext *ctx, Obj *pool, VolumeDef **vol, bool announce, Obj **ret_obj,
                      char **ret_error) {
  g_autoptr(Obj) existing = registry_lookup(ctx->registry, OBJ_VOLUME, pool, (*vol)->name);
  if (!existing)
    return registry_define(ctx->registry, OBJ_VOLUME, pool, (void **)vol, ret_obj, ret_error);
  int r = 0;
  if (announce)
    r = registry_update(ctx->registry, existing, (void **)vol, ret_error);
  else
    fs_volume_set_live_def(existing, vol);
  g_clear_pointer(vol, volume_def_free);
  if (r == 0 && ret_obj)
    *ret_obj = g_steal_pointer(&existing);
  return r;
}

static void drop_volume(FsContext *ctx, Obj *vol) {
  g_autofree char *error = NULL;
  if (registry_undefine(ctx->registry, vol, &error) < 0 && error)
    log_warning("volume '%s': %s", vol->name, error);
}

int fs_pool_sync_volume_locked(FsContext *ctx, Obj *pool, const char *name, bool announce,
                               Obj **ret_vol, char **ret_error) {
  g_autoptr(PoolDef) def = copy_def(pool);
  VolumeDef *vol = NULL;
  int r = storage_volume_get(ctx->pools->driver, def, name, &vol, ret_error);
  if (r == -ENOENT) {
    g_autoptr(Obj) gone = registry_lookup(ctx->registry, OBJ_VOLUME, pool, name);
    if (gone)
      drop_volume(ctx, gone);
  }
  if (r < 0)
    return r;
  r = put_volume(ctx, pool, &vol, announce, ret_vol, ret_error);
  volume_def_free(vol);
  return r;
}

static void drop_all_volumes(FsContext *ctx, Obj *pool) {
  g_autoptr(GPtrArray) list = registry_list(ctx->registry, OBJ_VOLUME, pool);
  for (guint i = 0; i < list->len; i++)
    drop_volume(ctx, list->pdata[i]);
}

/* Lists the pool's volumes from the driver and makes its children agree.
 * Pool lock held. */
static int refresh_locked(FsContext *ctx, Obj *pool, char **ret_error) {
  g_autoptr(PoolDef) def = copy_def(pool);
  g_autoptr(GPtrArray) vols = NULL;
  int r = storage_pool_refresh(ctx->pools->driver, def, &vols, ret_error);
  if (r < 0)
    return r;
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < vols->len; i++) {
    VolumeDef *vol = vols->pdata[i];
    vols->pdata[i] = NULL;
    g_hash_table_add(seen, g_strdup(vol->name));
    g_autofree char *error = NULL;
    if (put_volume(ctx, pool, &vol, false, NULL, &error) < 0)
      log_warning("pool '%s': volume not listed: %s", def->name, error);
    volume_def_free(vol);
  }
  g_autoptr(GPtrArray) known = registry_list(ctx->registry, OBJ_VOLUME, pool);
  for (guint i = 0; i < known->len; i++) {
    Obj *o = known->pdata[i];
    g_autofree char *name = obj_dup_name(o);
    if (!g_hash_table_contains(seen, name))
      drop_volume(ctx, o);
  }
  g_mutex_lock(&pool->lock);
  if (pool->runtime)
    ((PoolRuntime *)pool->runtime)->refreshed_us = g_get_monotonic_time();
  g_mutex_unlock(&pool->lock);
  return 0;
}

/* ---- pools ---- */

char *fs_pool_conflict(FsContext *ctx, const PoolDef *def, Obj *except) {
  g_autoptr(GPtrArray) pools = registry_list(ctx->registry, OBJ_POOL, NULL);
  for (guint i = 0; i < pools->len; i++) {
    Obj *o = pools->pdata[i];
    if (o == except)
      continue;
    g_mutex_lock(&o->lock);
    const PoolDef *other = o->def;
    bool same = false;
    if (def->type != POOL_TYPE_LOGICAL && other->type != POOL_TYPE_LOGICAL)
      same = strcmp(def->target_path, other->target_path) == 0;
    if (def->type == POOL_TYPE_LOGICAL && other->type == POOL_TYPE_LOGICAL)
      same = g_strcmp0(def->source_name ? def->source_name : def->name,
                       other->source_name ? other->source_name : other->name) == 0;
    for (guint a = 0; !same && a < def->source_devices->len; a++)
      for (guint b = 0; !same && b < other->source_devices->len; b++)
        same = strcmp(def->source_devices->pdata[a], other->source_devices->pdata[b]) == 0;
    char *name = same ? g_strdup(o->name) : NULL;
    g_mutex_unlock(&o->lock);
    if (name)
      return name;
  }
  return NULL;
}

int fs_pool_build(FsContext *ctx, Obj *pool, unsigned flags, char **ret_error) {
  fs_pool_lock(ctx, pool);
  g_autoptr(PoolDef) def = copy_def(pool);
  int r = storage_pool_build(ctx->pools->driver, def, flags, ret_error);
  fs_pool_unlock(ctx, pool);
  return r;
}

static int start_locked(FsContext *ctx, Obj *pool, char **ret_error) {
  if (fs_pool_is_active(pool))
    return 0;
  g_autoptr(PoolDef) def = copy_def(pool);
  int r = storage_pool_start(ctx->pools->driver, def, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&pool->lock);
  bool removed = pool->removed;
  if (!removed) {
    pool->runtime = g_new0(PoolRuntime, 1);
    pool->mtime_us = obj_now_us();
  }
  g_mutex_unlock(&pool->lock);
  if (removed)
    return 0;
  set_marker(ctx, def->name, true);
  registry_emit(ctx->registry, pool, "started", NULL);
  g_autofree char *error = NULL;
  if (refresh_locked(ctx, pool, &error) < 0)
    obj_set_error(pool, "started, but its volumes could not be listed: %s", error);
  return 0;
}

int fs_pool_start(FsContext *ctx, Obj *pool, char **ret_error) {
  fs_pool_lock(ctx, pool);
  int r = start_locked(ctx, pool, ret_error);
  fs_pool_unlock(ctx, pool);
  return r;
}

/* Clears the runtime of an active pool. */
static void deactivate(Obj *pool) {
  g_mutex_lock(&pool->lock);
  g_clear_pointer(&pool->runtime, g_free);
  pool->mtime_us = obj_now_us();
  g_mutex_unlock(&pool->lock);
}

static int stop_locked(FsContext *ctx, Obj *pool, char **ret_error) {
  if (!fs_pool_is_active(pool))
    return 0;
  g_autoptr(PoolDef) def = copy_def(pool);
  g_autoptr(GPtrArray) vols = registry_list(ctx->registry, OBJ_VOLUME, pool);
  for (guint i = 0; i < vols->len; i++) {
    if (fs_volume_in_use(ctx, vols->pdata[i])) {
      g_autofree char *vname = obj_dup_name(vols->pdata[i]);
      *ret_error = g_strdup_printf("pool '%s': volume '%s' is used by a running domain",
                                   def->name, vname);
      return -EBUSY;
    }
  }
  int r = storage_pool_stop(ctx->pools->driver, def, ret_error);
  if (r < 0)
    return r;
  drop_all_volumes(ctx, pool);
  deactivate(pool);
  set_marker(ctx, def->name, false);
  registry_emit(ctx->registry, pool, "stopped", NULL);
  return 0;
}

int fs_pool_stop(FsContext *ctx, Obj *pool, char **ret_error) {
  fs_pool_lock(ctx, pool);
  int r = stop_locked(ctx, pool, ret_error);
  fs_pool_unlock(ctx, pool);
  return r;
}

int fs_pool_refresh(FsContext *ctx, Obj *pool, char **ret_error) {
  fs_pool_lock(ctx, pool);
  int r;
  if (!fs_pool_is_active(pool)) {
    g_autofree char *name = obj_dup_name(pool);
    *ret_error = g_strdup_printf("pool '%s' is not active: start it first", name);
    r = -EBUSY;
  } else {
    r = refresh_locked(ctx, pool, ret_error);
  }
  fs_pool_unlock(ctx, pool);
  return r;
}

void fs_pool_refresh_for_listing(FsContext *ctx, Obj *pool) {
  if (!g_mutex_trylock(pool_mutex(ctx, pool)))
    return;
  g_mutex_lock(&pool->lock);
  PoolRuntime *rt = pool->runtime;
  bool due = rt && g_get_monotonic_time() - rt->refreshed_us >= FS_POOL_LIST_REFRESH_US;
  g_mutex_unlock(&pool->lock);
  if (due) {
    g_autofree char *error = NULL;
    if (refresh_locked(ctx, pool, &error) < 0)
      obj_set_error(pool, "refresh: %s", error);
  }
  fs_pool_unlock(ctx, pool);
}

int fs_pool_delete(FsContext *ctx, Obj *pool, char **ret_error) {
  fs_pool_lock(ctx, pool);
  int r;
  g_autoptr(PoolDef) def = copy_def(pool);
  if (fs_pool_is_active(pool)) {
    *ret_error = g_strdup_printf("pool '%s' is active: stop it before deleting its storage",
                                 def->name);
    r = -EBUSY;
  } else {
    r = storage_pool_delete(ctx->pools->driver, def, ret_error);
  }
  fs_pool_unlock(ctx, pool);
  return r;
}

/* Defines a dir pool `name` at `path` and builds it; undefines it again if
 * the build fails. */
static int define_dir_pool(FsContext *ctx, const char *name, const char *path, Obj **ret_pool,
                           char **ret_error) {
  g_autoptr(PoolDef) def = pool_def_new_default(path);
  g_free(def->name);
  def->name = g_strdup(name);
  g_autofree char *other = fs_pool_conflict(ctx, def, NULL);
  if (other) {
    g_autofree char *alt = g_strdup_printf("%s-%.8s", def->target_path, def->uuid);
    g_free(def->target_path);
    def->target_path = g_steal_pointer(&alt);
  }
  g_autoptr(Obj) pool = NULL;
  int r = registry_define(ctx->registry, OBJ_POOL, NULL, (void **)&def, &pool, ret_error);
  if (r < 0)
    return r;
  g_autofree char *error = NULL;
  if ((r = fs_pool_build(ctx, pool, 0, &error)) < 0) {
    *ret_error = g_strdup_printf("cannot build the pool: %s", error);
    g_autofree char *ignored = NULL;
    registry_undefine(ctx->registry, pool, &ignored);
    return r;
  }
  if (ret_pool)
    *ret_pool = g_steal_pointer(&pool);
  return 0;
}

int fs_pool_create(FsContext *ctx, const char *name, char **ret_error) {
  g_autofree char *path = g_build_filename(ctx->state_dir, "pools-data", name, NULL);
  return define_dir_pool(ctx, name, path, NULL, ret_error);
}

/* First start: the default pool, once. The marker lets a user remove it
 * for good. */
static void ensure_default_pool(FsContext *ctx) {
  g_autofree char *marker = g_build_filename(ctx->state_dir, ".default-pool", NULL);
  g_autoptr(Obj) existing = registry_lookup(ctx->registry, OBJ_POOL, NULL, "default");
  if (existing || registry_name_is_corrupt(ctx->registry, OBJ_POOL, "default") ||
      g_file_test(marker, G_FILE_TEST_EXISTS))
    return;
  g_autofree char *path = g_build_filename(ctx->state_dir, "images", NULL);
  g_autofree char *error = NULL;
  g_autoptr(Obj) pool = NULL;
  if (define_dir_pool(ctx, "default", path, &pool, &error) < 0) {
    log_error("cannot create the default pool in %s: %s", path, error);
    return;
  }
  if (registry_set_autostart(ctx->registry, pool, true, &error) < 0)
    log_warning("default pool: cannot set autostart: %s", error);
  g_autoptr(GError) gerr = NULL;
  if (!g_file_set_contents(marker, "the default pool was created; remove this file to have "
                           "it created again at the next start\n", -1, &gerr))
    log_warning("cannot write %s: %s", marker, gerr->message);
  log_info("created the default pool in %s", path);
}

int fs_pools_init(FsContext *ctx, const StorageDriverOptions *opts, char **ret_error) {
  FsPools *p = g_new0(FsPools, 1);
  int r = storage_driver_new(opts, &p->driver, ret_error);
  if (r < 0) {
    g_free(p);
    return r;
  }
  for (int i = 0; i < POOL_LOCKS; i++)
    g_mutex_init(&p->locks[i]);
  p->marker_dir = g_build_filename(ctx->run_dir, "pools", NULL);
  if (g_mkdir_with_parents(p->marker_dir, 0700) < 0)
    log_warning("cannot create %s: %s", p->marker_dir, g_strerror(errno));
  ctx->pools = p;
  obj_type_register(&pool_obj_type);
  obj_type_register(&volume_obj_type);
  int n = registry_load(ctx->registry, OBJ_POOL);
  log_info("loaded %d pools", n);
  ensure_default_pool(ctx);

  g_autoptr(GPtrArray) pools = registry_list(ctx->registry, OBJ_POOL, NULL);
  for (guint i = 0; i < pools->len; i++) {
    Obj *pool = pools->pdata[i];
    g_autofree char *name = obj_dup_name(pool);
    g_autofree char *marker = marker_path(ctx, name);
    bool was_active = g_file_test(marker, G_FILE_TEST_EXISTS);
    g_mutex_lock(&pool->lock);
    bool autostart = pool->autostart;
    g_mutex_unlock(&pool->lock);
    if (!was_active && !autostart)
      continue;
    g_autofree char *error = NULL;
    if (fs_pool_start(ctx, pool, &error) < 0) {
      obj_set_error(pool, "%s: %s", was_active ? "restart" : "autostart", error);
      set_marker(ctx, name, false);
    }
  }
  return 0;
}

void fs_pools_shutdown(FsContext *ctx) {
  FsPools *p = ctx->pools;
  if (!p)
    return;
  if (obj_type_get(OBJ_POOL)) {
    g_autoptr(GPtrArray) pools = registry_list(ctx->registry, OBJ_POOL, NULL);
    for (guint i = 0; i < pools->len; i++) {
      /* Volumes hold references to their pool: drop them so both go. */
      drop_all_volumes(ctx, pools->pdata[i]);
      deactivate(pools->pdata[i]);
    }
  }
  for (int i = 0; i < POOL_LOCKS; i++)
    g_mutex_clear(&p->locks[i]);
  storage_driver_free(p->driver);
  g_free(p->marker_dir);
  g_free(p);
  ctx->pools = NULL;
}
