/* fs_volume_files.c — the files of /virt/pools/POOL/volumes/VOL/ and what
 * mkdir, rmdir and mv of a volume directory do. The table at the end is
 * the list users see; docs/volumes.md documents each entry. The `data`
 * stream is in fs_volume_data.c.
 *
 * Every file that shows a size asks the storage driver when it is opened
 * (the truth is the file or LV, never a copy). Every change runs under the
 * pool's operation lock (fs_pools.h) and ends with the registry brought in
 * step with what the driver then reports. */
#include <errno.h>
#include <string.h>

#include "fs/fs_common_files.h"
#include "fs/fs_pools.h"
#include "objects/log.h"
#include "objects/values.h"

extern const FsStreamOps fs_volume_data_ops;

/* The live definition of a volume (and the pool's definition, for
 * callers that act on it). Refreshes the registry's copy quietly. */
static int volume_live(FsContext *ctx, Obj *vol, PoolDef **ret_pool, VolumeDef **ret_def,
                       char **ret_error) {
  g_autoptr(PoolDef) pool = fs_obj_copy_def(vol->parent);
  g_autofree char *name = obj_dup_name(vol);
  VolumeDef *def = NULL;
  int r = storage_volume_get(fs_pools_driver(ctx), pool, name, &def, ret_error);
  if (r < 0)
    return r;
  VolumeDef *cache = volume_def_copy(def);
  fs_volume_set_live_def(vol, &cache);
  *ret_def = def;
  if (ret_pool)
    *ret_pool = g_steal_pointer(&pool);
  return 0;
}

static uint64_t kib(uint64_t bytes) {
  return bytes / 1024 + (bytes % 1024 != 0);
}

/* A volume that holds no data: a raw file with nothing allocated (all
 * holes, so it reads as zeros), e.g. what mkdir made. Only such a volume
 * may change its format or backing store. */
static bool volume_is_blank(const VolumeDef *def) {
  return def->type == VOLUME_TYPE_FILE && def->format == VOLUME_FORMAT_RAW &&
         !def->backing_path && def->allocation == 0;
}

static int refuse_in_use(FsContext *ctx, Obj *vol, const char *what, char **ret_error) {
  if (!fs_volume_in_use(ctx, vol))
    return 0;
  g_autofree char *name = obj_dup_name(vol);
  *ret_error = g_strdup_printf("%s: volume '%s' is used by a running domain", what, name);
  return -EBUSY;
}

/* The pool is active and the volume still there; the caller holds the
 * pool's lock. */
static int check_present_locked(Obj *vol, const char *what, char **ret_error) {
  g_mutex_lock(&vol->lock);
  bool removed = vol->removed;
  g_mutex_unlock(&vol->lock);
  if (removed || !fs_pool_is_active(vol->parent)) {
    *ret_error = g_strdup_printf("%s: the volume was removed or its pool stopped meanwhile",
                                 what);
    return -ENOENT;
  }
  return 0;
}

/* After a change: the registry takes the driver's new definition, with a
 * "defined updated" event. */
static void resync_locked(FsContext *ctx, Obj *vol) {
  g_autofree char *name = obj_dup_name(vol);
  g_autofree char *error = NULL;
  if (fs_pool_sync_volume_locked(ctx, vol->parent, name, true, NULL, &error) < 0)
    obj_set_error(vol, "%s", error);
}

/* Replaces a blank volume by a new one made from `def`: delete, create,
 * and if the creation fails, a blank raw volume of the old capacity again.
 * Pool lock held. */
static int recreate_locked(FsContext *ctx, Obj *vol, const PoolDef *pool, const VolumeDef *old,
                           const VolumeDef *def, char **ret_error) {
  StorageDriver *drv = fs_pools_driver(ctx);
  int r = storage_volume_delete(drv, pool, old->name, ret_error);
  if (r < 0)
    return r;
  r = storage_volume_create(drv, pool, def, NULL, ret_error);
  if (r < 0) {
    g_autoptr(VolumeDef) blank = volume_def_new(old->name);
    blank->capacity = old->capacity;
    blank->capacity_set = true;
    blank->perms = old->perms;
    g_autofree char *why = NULL;
    if (storage_volume_create(drv, pool, blank, NULL, &why) < 0)
      log_warning("volume '%s' could not be made again after a failed change: %s", old->name,
                  why);
  }
  resync_locked(ctx, vol);
  return r;
}

/* ---- config.xml ---- */

static int config_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(VolumeDef) def = NULL;
  g_autofree char *error = NULL;
  int r = volume_live(ctx, obj, NULL, &def, &error);
  if (r < 0)
    return r;
  g_autofree char *xml = volume_def_format(def);
  g_string_append(out, xml);
  return 0;
}

static bool same_shape(const VolumeDef *want, const VolumeDef *cur) {
  if (want->format != cur->format || g_strcmp0(want->backing_path, cur->backing_path) != 0)
    return false;
  if (want->backing_path && want->backing_format_set && cur->backing_format_set &&
      want->backing_format != cur->backing_format)
    return false;
  if (want->lazy_refcounts && !cur->lazy_refcounts)
    return false;
  return !want->compat || g_strcmp0(want->compat, cur->compat) == 0;
}

static bool same_perms(const StoragePermissions *want, const StoragePermissions *cur) {
  return want->mode == cur->mode &&
         (want->owner == STORAGE_ID_UNSET || want->owner == cur->owner) &&
         (want->group == STORAGE_ID_UNSET || want->group == cur->group);
}

static int resize_locked(FsContext *ctx, Obj *vol, const PoolDef *pool, const char *name,
                         uint64_t capacity, char **ret_error) {
  int r = storage_volume_resize(fs_pools_driver(ctx), pool, name, capacity, 0, ret_error);
  if (r == -EFBIG) { /* the filesystem's limit: the size is impossible here */
    g_free(*ret_error);
    *ret_error = g_strdup_printf("the filesystem of pool '%s' cannot hold volume '%s' at %"
                                 G_GUINT64_FORMAT " bytes (File too large)", pool->name, name,
                                 capacity);
    r = -EINVAL;
  }
  resync_locked(ctx, vol);
  return r;
}

/* Writing a definition: an identical one changes nothing; a larger
 * capacity grows the volume; a blank volume is made anew as described; a
 * volume holding data keeps its format and backing store. */
static int config_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                        char **ret_error) {
  g_autoptr(PoolDef) pool = fs_obj_copy_def(obj->parent);
  g_autoptr(VolumeDef) want = NULL;
  g_autofree char *error = NULL;
  int r = volume_def_parse(data, len, pool, &want, &error);
  if (r < 0) {
    *ret_error = g_strdup_printf("config.xml: %s", error);
    return r;
  }
  g_autofree char *name = obj_dup_name(obj);
  if (strcmp(want->name, name) != 0) {
    *ret_error = g_strdup_printf("config.xml: the XML names volume '%s' but this is '%s': "
                                 "rename the directory instead", want->name, name);
    return -EINVAL;
  }
  fs_pool_lock(ctx, obj->parent);
  g_autoptr(VolumeDef) cur = NULL;
  if ((r = check_present_locked(obj, "config.xml", ret_error)) < 0)
    goto out;
  if ((r = volume_live(ctx, obj, NULL, &cur, &error)) < 0) {
    *ret_error = g_strdup_printf("config.xml: %s", error);
    goto out;
  }
  uint64_t capacity = want->capacity_set ? want->capacity : cur->capacity;
  bool wants_allocation = want->allocation_set && want->allocation > 0;
  bool blank = volume_is_blank(cur);
  if (!blank && !same_perms(&want->perms, &cur->perms)) {
    *ret_error = g_strdup_printf("config.xml: the permissions of volume '%s' cannot be changed "
                                 "through virtfs once it holds data (they are %04o)", name,
                                 cur->perms.mode);
    r = -EINVAL;
  } else if (blank && (!same_shape(want, cur) || wants_allocation ||
                       !same_perms(&want->perms, &cur->perms))) {
    /* A blank volume is made again as defined, permissions included. */
    if ((r = refuse_in_use(ctx, obj, "config.xml", ret_error)) == 0 &&
        (r = recreate_locked(ctx, obj, pool, cur, want, &error)) < 0)
      *ret_error = g_strdup_printf("config.xml: %s", error);
  } else if (!same_shape(want, cur)) {
    *ret_error = g_strdup_printf("config.xml: volume '%s' holds data, so its format, backing "
                                 "store and compat cannot change; remove it (rmdir) and "
                                 "create it again, or upload an image into its data file",
                                 name);
    r = -EBUSY;
  } else if (capacity < cur->capacity) {
    *ret_error = g_strdup_printf("config.xml: volume '%s' is %" G_GUINT64_FORMAT " bytes; "
                                 "shrinking it is refused, as it would cut off data", name,
                                 cur->capacity);
    r = -EINVAL;
  } else if (capacity > cur->capacity) {
    if ((r = refuse_in_use(ctx, obj, "config.xml", ret_error)) == 0 &&
        (r = resize_locked(ctx, obj, pool, name, capacity, &error)) < 0)
      *ret_error = g_strdup_printf("config.xml: %s", error);
  }
out:
  fs_pool_unlock(ctx, obj->parent);
  return r;
}

/* ---- values ---- */

static int capacity_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(VolumeDef) def = NULL;
  g_autofree char *error = NULL;
  int r = volume_live(ctx, obj, NULL, &def, &error);
  if (r < 0)
    return r;
  g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", kib(def->capacity));
  return 0;
}

static int capacity_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                          char **ret_error) {
  uint64_t bytes;
  if (units_parse_value(data, 1024, &bytes) < 0 || bytes > (uint64_t)INT64_MAX) {
    *ret_error = g_strdup_printf("capacity: '%s' is not a possible size (KiB, or with a unit "
                                 "such as 512M, 10G or 2T)", data);
    return -EINVAL;
  }
  if (bytes == 0) {
    *ret_error = g_strdup("capacity: a volume cannot be made 0 bytes; remove it instead");
    return -EINVAL;
  }
  g_autofree char *error = NULL;
  fs_pool_lock(ctx, obj->parent);
  g_autoptr(PoolDef) pool = NULL;
  g_autoptr(VolumeDef) cur = NULL;
  int r;
  if ((r = check_present_locked(obj, "capacity", ret_error)) < 0)
    goto out;
  if ((r = volume_live(ctx, obj, &pool, &cur, &error)) < 0) {
    *ret_error = g_strdup_printf("capacity: %s", error);
    goto out;
  }
  /* The value read back (KiB, rounded up) written again is a no-op. */
  if (bytes == cur->capacity || (bytes % 1024 == 0 && bytes / 1024 == kib(cur->capacity)))
    goto out;
  if (bytes < cur->capacity) {
    *ret_error = g_strdup_printf("capacity: volume '%s' is %" G_GUINT64_FORMAT " KiB; shrinking "
                                 "it to %" G_GUINT64_FORMAT " KiB is refused, as it would cut "
                                 "off data", cur->name, kib(cur->capacity), kib(bytes));
    r = -EINVAL;
    goto out;
  }
  if ((r = refuse_in_use(ctx, obj, "capacity", ret_error)) < 0)
    goto out;
  if ((r = resize_locked(ctx, obj, pool, cur->name, bytes, &error)) < 0)
    *ret_error = g_strdup_printf("capacity: %s", error);
out:
  fs_pool_unlock(ctx, obj->parent);
  return r;
}

static int allocation_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(VolumeDef) def = NULL;
  g_autofree char *error = NULL;
  int r = volume_live(ctx, obj, NULL, &def, &error);
  if (r < 0)
    return r;
  g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", kib(def->allocation));
  return 0;
}

static int format_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(VolumeDef) def = NULL;
  g_autofree char *error = NULL;
  int r = volume_live(ctx, obj, NULL, &def, &error);
  if (r < 0)
    return r;
  g_string_append_printf(out, "%s\n", volume_format_to_string(def->format));
  return 0;
}

/* A blank raw volume becomes an empty image of the new format with the
 * same capacity; a volume holding data keeps its format. */
static int format_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                        char **ret_error) {
  VolumeFormat f;
  if (volume_format_from_string(data, &f) < 0) {
    *ret_error = g_strdup_printf("format: '%s' is not a volume format (raw or qcow2)", data);
    return -EINVAL;
  }
  g_autofree char *error = NULL;
  fs_pool_lock(ctx, obj->parent);
  g_autoptr(PoolDef) pool = NULL;
  g_autoptr(VolumeDef) cur = NULL;
  int r;
  if ((r = check_present_locked(obj, "format", ret_error)) < 0)
    goto out;
  if ((r = volume_live(ctx, obj, &pool, &cur, &error)) < 0) {
    *ret_error = g_strdup_printf("format: %s", error);
    goto out;
  }
  if (f == cur->format)
    goto out;
  if (pool->type == POOL_TYPE_LOGICAL) {
    *ret_error = g_strdup("format: logical volumes are raw");
    r = -EINVAL;
    goto out;
  }
  if (!volume_is_blank(cur)) {
    *ret_error = g_strdup_printf("format: volume '%s' holds data, so its format cannot change; "
                                 "the format follows what is uploaded into its data file",
                                 cur->name);
    r = -EBUSY;
    goto out;
  }
  if ((r = refuse_in_use(ctx, obj, "format", ret_error)) == 0) {
    g_autoptr(VolumeDef) want = volume_def_new(cur->name);
    want->format = f;
    want->capacity = cur->capacity;
    want->capacity_set = true;
    want->perms = cur->perms;
    if ((r = recreate_locked(ctx, obj, pool, cur, want, &error)) < 0)
      *ret_error = g_strdup_printf("format: %s", error);
  }
out:
  fs_pool_unlock(ctx, obj->parent);
  return r;
}

static int path_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(PoolDef) pool = fs_obj_copy_def(obj->parent);
  g_autofree char *name = obj_dup_name(obj);
  g_autofree char *path = pool_volume_path(pool, name);
  g_string_append_printf(out, "%s\n", path);
  return 0;
}

/* ---- directories ---- */

/* mkdir: a blank raw volume of 0 bytes, to be sized through capacity,
 * reformatted through format, replaced through config.xml, or filled
 * through data. LVM cannot make an empty LV: there it is one extent. */
static int volume_create(FsContext *ctx, Obj *pool, const char *name, char **ret_error) {
  g_autoptr(PoolDef) def = fs_obj_copy_def(pool);
  g_autoptr(VolumeDef) vol = volume_def_new(name);
  vol->capacity_set = true;
  vol->capacity = def->type == POOL_TYPE_LOGICAL ? 512 : 0; /* LVM rounds up to one extent */
  vol->type = def->type == POOL_TYPE_LOGICAL ? VOLUME_TYPE_BLOCK : VOLUME_TYPE_FILE;
  fs_pool_lock(ctx, pool);
  int r;
  if (!fs_pool_is_active(pool)) {
    *ret_error = g_strdup_printf("pool '%s' is not active: start it first (echo active > "
                                 "state)", def->name);
    r = -EBUSY;
  } else {
    r = storage_volume_create(fs_pools_driver(ctx), def, vol, NULL, ret_error);
    /* Created, or there already (made behind virtfs' back): list it. */
    if (r == 0 || r == -EEXIST) {
      g_autofree char *error = NULL;
      int s = fs_pool_sync_volume_locked(ctx, pool, name, false, NULL, &error);
      if (r == 0 && s < 0) {
        r = s;
        g_free(*ret_error);
        *ret_error = g_steal_pointer(&error);
      }
    }
  }
  fs_pool_unlock(ctx, pool);
  return r;
}

static int volume_remove(FsContext *ctx, Obj *obj, char **ret_error) {
  int r = refuse_in_use(ctx, obj, "rmdir", ret_error);
  if (r < 0)
    return r;
  g_autoptr(PoolDef) pool = fs_obj_copy_def(obj->parent);
  g_autofree char *name = obj_dup_name(obj);
  fs_pool_lock(ctx, obj->parent);
  if ((r = check_present_locked(obj, "rmdir", ret_error)) == 0) {
    r = storage_volume_delete(fs_pools_driver(ctx), pool, name, ret_error);
    if (r == 0 || r == -ENOENT) {
      g_clear_pointer(ret_error, g_free);
      r = registry_undefine(ctx->registry, obj, ret_error);
    }
  }
  fs_pool_unlock(ctx, obj->parent);
  return r;
}

static int volume_rename(FsContext *ctx, Obj *obj, const char *new_name, char **ret_error) {
  int r = refuse_in_use(ctx, obj, "rename", ret_error);
  if (r < 0)
    return r;
  g_autoptr(PoolDef) pool = fs_obj_copy_def(obj->parent);
  g_autofree char *name = obj_dup_name(obj);
  if (strcmp(name, new_name) == 0)
    return 0;
  fs_pool_lock(ctx, obj->parent);
  if ((r = check_present_locked(obj, "rename", ret_error)) == 0 &&
      (r = storage_volume_rename(fs_pools_driver(ctx), pool, name, new_name, ret_error)) == 0) {
    r = registry_rename(ctx->registry, obj, new_name, ret_error);
    /* The new path comes from the driver, quietly: a rename is announced
     * as `renamed` only, not as a changed definition too. */
    g_autofree char *error = NULL;
    if (r == 0 && fs_pool_sync_volume_locked(ctx, obj->parent, new_name, false, NULL, &error) < 0)
      obj_set_error(obj, "%s", error);
    else if (r == 0)
      registry_record_history(ctx->registry, obj); /* its new path, in history/ */
  }
  fs_pool_unlock(ctx, obj->parent);
  return r;
}

static void volumes_before_list(FsContext *ctx, Obj *pool) {
  if (pool)
    fs_pool_refresh_for_listing(ctx, pool);
}

static const FsFile volume_files[] = {
  {"config.xml", FS_FILE_DOCUMENT, 0644, config_read, config_write},
  {"capacity", FS_FILE_VALUE, 0644, capacity_read, capacity_write},
  {"allocation", FS_FILE_VALUE, 0444, allocation_read, NULL},
  {"format", FS_FILE_VALUE, 0644, format_read, format_write},
  {"path", FS_FILE_VALUE, 0444, path_read, NULL},
  {"data", FS_FILE_STREAM, 0600, NULL, NULL, &fs_volume_data_ops},
  {.name = "history", .kind = FS_FILE_DIR, .mode = 0755, .dir = &fs_history_dir},
  FS_ERROR_FILE,
};

const FsFileTable fs_volume_files = {
  .files = volume_files,
  .count = G_N_ELEMENTS(volume_files),
  .create = volume_create,
  .remove = volume_remove,
  .rename = volume_rename,
  .before_list = volumes_before_list,
};
