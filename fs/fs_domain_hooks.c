/* fs_domain_hooks.c — see fs_domain_hooks.h. */
#include "fs/fs_domain_hooks.h"

#include <errno.h>

#include "drivers/bridge/network_manager.h"
#include "fs/fs_pools.h"
#include "objects/pool_def.h"
#include "objects/volume_def.h"

static int resolve_volume(void *user_data, const char *pool_name, const char *volume,
                          char **ret_path, bool *ret_is_block, char **ret_error) {
  FsContext *ctx = user_data;
  g_autoptr(Obj) pool = obj_type_get(OBJ_POOL)
                            ? registry_lookup(ctx->registry, OBJ_POOL, NULL, pool_name)
                            : NULL;
  if (!pool) {
    *ret_error = g_strdup_printf("disk: no storage pool named '%s'", pool_name);
    return -ENOENT;
  }
  if (!fs_pool_is_active(pool)) {
    *ret_error = g_strdup_printf("disk: storage pool '%s' is not active", pool_name);
    return -EBUSY;
  }
  fs_pool_refresh_for_listing(ctx, pool);
  g_autoptr(Obj) vol = registry_lookup(ctx->registry, OBJ_VOLUME, pool, volume);
  if (!vol) {
    *ret_error = g_strdup_printf("disk: pool '%s' has no volume '%s'", pool_name, volume);
    return -ENOENT;
  }
  g_mutex_lock(&vol->lock);
  const VolumeDef *def = vol->def;
  char *path = g_strdup(def->target_path);
  bool is_block = def->type == VOLUME_TYPE_BLOCK;
  g_mutex_unlock(&vol->lock);
  if (!path) {
    *ret_error = g_strdup_printf("disk: volume '%s/%s' has no path", pool_name, volume);
    return -EIO;
  }
  *ret_path = path;
  *ret_is_block = is_block;
  return 0;
}

static int open_tap(void *user_data, const DomainDef *def, size_t index, DomainInterface *iface,
                    int *ret_fd, char **ret_error) {
  FsContext *ctx = user_data;
  if (!ctx->networks) {
    *ret_error = g_strdup("networks are not available in this daemon");
    return -EOPNOTSUPP;
  }
  return network_manager_open_tap(ctx->networks, def, index, iface, ret_fd, ret_error);
}

static void close_tap(void *user_data, const char *tap_name) {
  FsContext *ctx = user_data;
  if (ctx->networks)
    network_manager_close_tap(ctx->networks, tap_name);
}

void fs_domain_hooks_fill(FsContext *ctx, QemuDriverHooks *hooks) {
  hooks->user_data = ctx;
  hooks->resolve_volume = resolve_volume;
  hooks->open_tap = open_tap;
  hooks->close_tap = close_tap;
}

static bool volume_in_use(FsContext *ctx, const char *pool_name, const char *volume) {
  if (!ctx->qemu)
    return false;
  g_autofree char *path = NULL;
  g_autoptr(Obj) pool = registry_lookup(ctx->registry, OBJ_POOL, NULL, pool_name);
  g_autoptr(Obj) vol = pool ? registry_lookup(ctx->registry, OBJ_VOLUME, pool, volume) : NULL;
  if (vol) {
    g_mutex_lock(&vol->lock);
    path = g_strdup(((const VolumeDef *)vol->def)->target_path);
    g_mutex_unlock(&vol->lock);
  }
  return qemu_driver_disk_in_use(ctx->qemu, pool_name, volume, path);
}

void fs_domain_hooks_install_volume_check(FsContext *ctx) {
  ctx->volume_in_use = volume_in_use;
}
