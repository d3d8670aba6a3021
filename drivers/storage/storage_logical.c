/* storage_logical.c — logical pools: an LVM volume group whose logical
 * volumes are the pool's volumes. Everything goes through the LVM tools
 * (pvcreate, vgcreate, vgchange, vgs, lvs, lvcreate, lvresize, lvremove);
 * their output is parsed by storage_parse.c.
 *
 * Without device-mapper in the kernel LVs cannot be activated; see
 * StorageDriverOptions.lvm_without_device_mapper for what the driver does
 * then. */
#include "drivers/storage/storage_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/storage/storage_parse.h"

static const char *vg_name(const PoolDef *pool) {
  return pool->source_name ? pool->source_name : pool->name;
}

/* argv under construction; `lvm_flags` adds --driverloaded n when LVM must
 * not talk to a device-mapper the kernel does not have. */
static GPtrArray *lvm_argv(StorageDriver *drv, const char *tool, bool lvm_flags) {
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(argv, g_strdup(tool));
  if (lvm_flags && !drv->have_device_mapper && drv->lvm_without_device_mapper) {
    g_ptr_array_add(argv, g_strdup("--driverloaded"));
    g_ptr_array_add(argv, g_strdup("n"));
  }
  return argv;
}

static void arg(GPtrArray *argv, const char *a) {
  g_ptr_array_add(argv, g_strdup(a));
}

static int run(GPtrArray *argv, char **ret_stdout, char **ret_error) {
  g_ptr_array_add(argv, NULL);
  int r = storage_run((const char *const *)argv->pdata, ret_stdout, ret_error);
  g_ptr_array_remove_index(argv, argv->len - 1);
  return r;
}

static int require_device_mapper(StorageDriver *drv, const PoolDef *pool, const char *what,
                                 bool metadata_only_ok, char **ret_error) {
  if (drv->have_device_mapper || (metadata_only_ok && drv->lvm_without_device_mapper))
    return 0;
  return storage_fail(ret_error, -EOPNOTSUPP,
                      "pool '%s': this host's kernel has no device-mapper, so logical volumes "
                      "cannot be %s", pool->name, what);
}

static int vg_exists(StorageDriver *drv, const PoolDef *pool, bool *ret_exists,
                     char **ret_error) {
  g_autoptr(GPtrArray) argv = lvm_argv(drv, "vgs", false);
  arg(argv, "--noheadings");
  arg(argv, "-o");
  arg(argv, "vg_name");
  arg(argv, vg_name(pool));
  g_autofree char *why = NULL;
  int r = run(argv, NULL, &why);
  if (r == -ENOENT) {
    *ret_exists = false;
    return 0;
  }
  if (r < 0)
    return storage_fail(ret_error, r, "pool '%s': %s", pool->name, why);
  *ret_exists = true;
  return 0;
}

static int list_lvs(StorageDriver *drv, const PoolDef *pool, const char *only,
                    GPtrArray **ret_lvs, char **ret_error) {
  g_autoptr(GPtrArray) argv = lvm_argv(drv, "lvs", false);
  arg(argv, "--noheadings");
  arg(argv, "--nosuffix");
  arg(argv, "--units");
  arg(argv, "b");
  arg(argv, "--separator");
  arg(argv, "|");
  arg(argv, "-o");
  arg(argv, "lv_name,lv_size,lv_attr");
  g_autofree char *target = only ? g_strdup_printf("%s/%s", vg_name(pool), only)
                                 : g_strdup(vg_name(pool));
  arg(argv, target);
  g_autofree char *out = NULL, *why = NULL;
  int r = run(argv, &out, &why);
  if (r == -ENOENT && only)
    return storage_fail(ret_error, -ENOENT, "volume '%s' does not exist in pool '%s'", only,
                        pool->name);
  if (r < 0)
    return storage_fail(ret_error, r, "pool '%s': %s", pool->name, why);
  if (storage_lvs_parse(out, ret_lvs) < 0)
    return storage_fail(ret_error, -EIO, "pool '%s': unexpected lvs output", pool->name);
  return 0;
}

static int vg_sizes(StorageDriver *drv, const PoolDef *pool, uint64_t *ret_size,
                    uint64_t *ret_free, uint64_t *ret_extent, char **ret_error) {
  g_autoptr(GPtrArray) argv = lvm_argv(drv, "vgs", false);
  arg(argv, "--noheadings");
  arg(argv, "--nosuffix");
  arg(argv, "--units");
  arg(argv, "b");
  arg(argv, "--separator");
  arg(argv, "|");
  arg(argv, "-o");
  arg(argv, "vg_size,vg_free,vg_extent_size");
  arg(argv, vg_name(pool));
  g_autofree char *out = NULL, *why = NULL;
  int r = run(argv, &out, &why);
  if (r < 0)
    return storage_fail(ret_error, r, "pool '%s': %s", pool->name, why);
  if (storage_vgs_parse(out, ret_size, ret_free, ret_extent) < 0)
    return storage_fail(ret_error, -EIO, "pool '%s': unexpected vgs output", pool->name);
  return 0;
}

int storage_lvm_build(StorageDriver *drv, const PoolDef *pool, unsigned flags, char **ret_error) {
  bool exists;
  int r = vg_exists(drv, pool, &exists, ret_error);
  if (r < 0 || exists)
    return r;
  if (pool->source_devices->len == 0)
    return storage_fail(ret_error, -EINVAL,
                        "pool '%s': building volume group %s needs <source><device path=.../>",
                        pool->name, vg_name(pool));
  for (guint i = 0; i < pool->source_devices->len; i++) {
    const char *dev = g_ptr_array_index(pool->source_devices, i);
    struct stat st;
    if (stat(dev, &st) < 0)
      return storage_fail(ret_error, -errno, "pool '%s': device %s: %s", pool->name, dev,
                          g_strerror(errno));
    if (!S_ISBLK(st.st_mode))
      return storage_fail(ret_error, -EINVAL, "pool '%s': %s is not a block device", pool->name,
                          dev);
    g_autofree char *type = NULL, *pttype = NULL;
    if ((r = storage_probe_signature(dev, &type, &pttype, ret_error)) < 0)
      return r;
    if ((type || pttype) && !(flags & STORAGE_BUILD_OVERWRITE))
      return storage_fail(ret_error, -EEXIST,
                          "pool '%s': %s already holds %s; build with overwrite to replace it",
                          pool->name, dev, type ? type : pttype);
  }
  g_autoptr(GPtrArray) pv = lvm_argv(drv, "pvcreate", false);
  if (flags & STORAGE_BUILD_OVERWRITE) {
    arg(pv, "-ff");
    arg(pv, "-y");
  }
  g_autoptr(GPtrArray) vg = lvm_argv(drv, "vgcreate", false);
  arg(vg, vg_name(pool));
  for (guint i = 0; i < pool->source_devices->len; i++) {
    arg(pv, g_ptr_array_index(pool->source_devices, i));
    arg(vg, g_ptr_array_index(pool->source_devices, i));
  }
  g_autofree char *why = NULL;
  if ((r = run(pv, NULL, &why)) < 0 || (r = run(vg, NULL, &why)) < 0)
    return storage_fail(ret_error, r, "pool '%s': cannot build volume group %s: %s", pool->name,
                        vg_name(pool), why);
  return 0;
}

static int vgchange(StorageDriver *drv, const PoolDef *pool, const char *activate,
                    const char *what, char **ret_error) {
  g_autoptr(GPtrArray) argv = lvm_argv(drv, "vgchange", true);
  arg(argv, activate);
  arg(argv, vg_name(pool));
  g_autofree char *why = NULL;
  int r = run(argv, NULL, &why);
  if (r < 0)
    return storage_fail(ret_error, r, "pool '%s': cannot %s volume group %s: %s", pool->name,
                        what, vg_name(pool), why);
  return 0;
}

int storage_lvm_start(StorageDriver *drv, const PoolDef *pool, char **ret_error) {
  bool exists;
  int r = vg_exists(drv, pool, &exists, ret_error);
  if (r < 0)
    return r;
  if (!exists)
    return storage_fail(ret_error, -ENOENT,
                        "pool '%s': volume group %s does not exist; build the pool first",
                        pool->name, vg_name(pool));
  return vgchange(drv, pool, "-aay", "activate", ret_error);
}

int storage_lvm_stop(StorageDriver *drv, const PoolDef *pool, char **ret_error) {
  bool exists;
  int r = vg_exists(drv, pool, &exists, ret_error);
  if (r < 0 || !exists)
    return r;
  return vgchange(drv, pool, "-an", "deactivate", ret_error);
}

int storage_lvm_delete(StorageDriver *drv, const PoolDef *pool, char **ret_error) {
  bool exists;
  int r = vg_exists(drv, pool, &exists, ret_error);
  if (r < 0 || !exists)
    return r;
  g_autoptr(GPtrArray) lvs = NULL;
  if ((r = list_lvs(drv, pool, NULL, &lvs, ret_error)) < 0)
    return r;
  if (lvs->len > 0)
    return storage_fail(ret_error, -ENOTEMPTY, "pool '%s': volume group %s still holds %u volumes",
                        pool->name, vg_name(pool), lvs->len);
  g_autoptr(GPtrArray) vg = lvm_argv(drv, "vgremove", false);
  arg(vg, vg_name(pool));
  g_autofree char *why = NULL;
  if ((r = run(vg, NULL, &why)) < 0)
    return storage_fail(ret_error, r, "pool '%s': cannot remove volume group %s: %s", pool->name,
                        vg_name(pool), why);
  if (pool->source_devices->len == 0)
    return 0;
  g_autoptr(GPtrArray) pv = lvm_argv(drv, "pvremove", false);
  for (guint i = 0; i < pool->source_devices->len; i++)
    arg(pv, g_ptr_array_index(pool->source_devices, i));
  if ((r = run(pv, NULL, &why)) < 0)
    return storage_fail(ret_error, r, "pool '%s': volume group removed, but its devices keep "
                        "their LVM labels: %s", pool->name, why);
  return 0;
}

int storage_lvm_is_active(StorageDriver *drv, const PoolDef *pool, bool *ret_active,
                          char **ret_error) {
  return vg_exists(drv, pool, ret_active, ret_error);
}

int storage_lvm_info(StorageDriver *drv, const PoolDef *pool, PoolSizes *ret_sizes,
                     char **ret_error) {
  uint64_t size, free_bytes, extent;
  int r = vg_sizes(drv, pool, &size, &free_bytes, &extent, ret_error);
  if (r < 0)
    return r;
  ret_sizes->capacity = size;
  ret_sizes->allocation = size - free_bytes;
  ret_sizes->available = free_bytes;
  return 0;
}

static VolumeDef *lv_to_def(const PoolDef *pool, const StorageLv *lv) {
  VolumeDef *vol = volume_def_new(lv->name);
  vol->type = VOLUME_TYPE_BLOCK;
  g_autofree char *why = NULL;
  if (volume_def_resolve(vol, pool, &why) < 0) {
    volume_def_free(vol);
    return NULL;
  }
  vol->capacity = vol->allocation = lv->size;
  vol->capacity_set = vol->allocation_set = true;
  struct stat st;
  if (stat(vol->target_path, &st) == 0) {
    vol->perms.mode = st.st_mode & 07777;
    vol->perms.owner = (long)st.st_uid;
    vol->perms.group = (long)st.st_gid;
    storage_describe_file(-1, vol->target_path, &st, vol);
  }
  return vol;
}

int storage_lvm_refresh(StorageDriver *drv, const PoolDef *pool, GPtrArray **ret_volumes,
                        char **ret_error) {
  g_autoptr(GPtrArray) lvs = NULL;
  int r = list_lvs(drv, pool, NULL, &lvs, ret_error);
  if (r < 0)
    return r;
  GPtrArray *vols = g_ptr_array_new_with_free_func((GDestroyNotify)volume_def_free);
  for (guint i = 0; i < lvs->len; i++) {
    VolumeDef *vol = lv_to_def(pool, g_ptr_array_index(lvs, i));
    if (vol) /* an LV whose name virtfs does not accept is not shown */
      g_ptr_array_add(vols, vol);
  }
  *ret_volumes = vols;
  return 0;
}

int storage_lvm_get(StorageDriver *drv, const PoolDef *pool, const char *name,
                    VolumeDef **ret_vol, char **ret_error) {
  g_autoptr(GPtrArray) lvs = NULL;
  int r = list_lvs(drv, pool, name, &lvs, ret_error);
  if (r < 0)
    return r;
  if (lvs->len != 1)
    return storage_fail(ret_error, -ENOENT, "volume '%s' does not exist in pool '%s'", name,
                        pool->name);
  VolumeDef *vol = lv_to_def(pool, g_ptr_array_index(lvs, 0));
  if (!vol)
    return storage_fail(ret_error, -ENOENT, "volume '%s' does not exist in pool '%s'", name,
                        pool->name);
  *ret_vol = vol;
  return 0;
}

static int lv_absent(StorageDriver *drv, const PoolDef *pool, const char *name,
                     char **ret_error) {
  g_autoptr(VolumeDef) cur = NULL;
  g_autofree char *why = NULL;
  int r = storage_lvm_get(drv, pool, name, &cur, &why);
  if (r == 0)
    return storage_fail(ret_error, -EEXIST, "volume '%s' already exists in pool '%s'", name,
                        pool->name);
  if (r != -ENOENT)
    return storage_fail(ret_error, r, "%s", why);
  return 0;
}

static int lvcreate(StorageDriver *drv, const PoolDef *pool, const char *name, uint64_t size,
                    char **ret_error) {
  g_autoptr(GPtrArray) argv = lvm_argv(drv, "lvcreate", true);
  arg(argv, "-y");
  if (!drv->have_device_mapper) {
    /* metadata only: no activation, so nothing can be zeroed or wiped */
    arg(argv, "-an");
    arg(argv, "-Zn");
  }
  arg(argv, "-n");
  arg(argv, name);
  arg(argv, "-L");
  g_ptr_array_add(argv, g_strdup_printf("%" G_GUINT64_FORMAT "b", size));
  arg(argv, vg_name(pool));
  g_autofree char *why = NULL;
  int r = run(argv, NULL, &why);
  if (r < 0)
    return storage_fail(ret_error, r, "cannot create volume '%s' in pool '%s': %s", name,
                        pool->name, why);
  return 0;
}

static int lvremove(StorageDriver *drv, const PoolDef *pool, const char *name, char **ret_error) {
  g_autoptr(GPtrArray) argv = lvm_argv(drv, "lvremove", true);
  arg(argv, "-f");
  g_autofree char *lv = g_strdup_printf("%s/%s", vg_name(pool), name);
  arg(argv, lv);
  g_autofree char *why = NULL;
  int r = run(argv, NULL, &why);
  if (r < 0)
    return storage_fail(ret_error, r, "cannot delete volume '%s' in pool '%s': %s", name,
                        pool->name, why);
  return 0;
}

int storage_lvm_create(StorageDriver *drv, const PoolDef *pool, const VolumeDef *def,
                       char **ret_error) {
  int r = require_device_mapper(drv, pool, "created", true, ret_error);
  if (r < 0)
    return r;
  if (!def->capacity_set || def->capacity == 0)
    return storage_fail(ret_error, -EINVAL, "volume '%s': a logical volume needs a capacity",
                        def->name);
  if ((r = lv_absent(drv, pool, def->name, ret_error)) < 0)
    return r;
  if ((r = lvcreate(drv, pool, def->name, def->capacity, ret_error)) < 0)
    return r;
  if (drv->have_device_mapper) {
    g_autofree char *path = pool_volume_path(pool, def->name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      r = storage_set_perms_fd(fd, &def->perms, def->name, ret_error);
      close(fd);
    }
  }
  return r;
}

int storage_lvm_delete_volume(StorageDriver *drv, const PoolDef *pool, const char *name,
                              char **ret_error) {
  int r = require_device_mapper(drv, pool, "removed", true, ret_error);
  if (r < 0)
    return r;
  g_autoptr(VolumeDef) cur = NULL;
  if ((r = storage_lvm_get(drv, pool, name, &cur, ret_error)) < 0)
    return r;
  return lvremove(drv, pool, name, ret_error);
}

int storage_lvm_rename(StorageDriver *drv, const PoolDef *pool, const char *name,
                       const char *new_name, char **ret_error) {
  int r = require_device_mapper(drv, pool, "renamed", true, ret_error);
  if (r < 0)
    return r;
  g_autoptr(VolumeDef) cur = NULL;
  if ((r = storage_lvm_get(drv, pool, name, &cur, ret_error)) < 0)
    return r;
  if ((r = lv_absent(drv, pool, new_name, ret_error)) < 0)
    return r;
  g_autoptr(GPtrArray) argv = lvm_argv(drv, "lvrename", true);
  arg(argv, vg_name(pool));
  arg(argv, name);
  arg(argv, new_name);
  g_autofree char *why = NULL;
  if ((r = run(argv, NULL, &why)) < 0)
    return storage_fail(ret_error, r, "cannot rename volume '%s' in pool '%s': %s", name,
                        pool->name, why);
  return 0;
}

int storage_lvm_resize(StorageDriver *drv, const PoolDef *pool, const char *name,
                       uint64_t capacity, unsigned flags, char **ret_error) {
  int r = require_device_mapper(drv, pool, "resized", true, ret_error);
  if (r < 0)
    return r;
  g_autoptr(VolumeDef) cur = NULL;
  if ((r = storage_lvm_get(drv, pool, name, &cur, ret_error)) < 0)
    return r;
  uint64_t size, free_bytes, extent;
  if ((r = vg_sizes(drv, pool, &size, &free_bytes, &extent, ret_error)) < 0)
    return r;
  if (capacity > UINT64_MAX - extent)
    return storage_fail(ret_error, -EINVAL, "capacity %" G_GUINT64_FORMAT " is too large",
                        capacity);
  capacity = (capacity + extent - 1) / extent * extent; /* lvresize rounds up the same way */
  if (capacity == cur->capacity)
    return 0;
  if (capacity < cur->capacity && !(flags & STORAGE_RESIZE_SHRINK))
    return storage_fail(ret_error, -EINVAL,
                        "shrinking volume '%s' from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                        " bytes would lose data; it needs the explicit shrink flag", name,
                        cur->capacity, capacity);
  g_autoptr(GPtrArray) argv = lvm_argv(drv, "lvresize", true);
  if (capacity < cur->capacity)
    arg(argv, "-f"); /* lvreduce asks for confirmation otherwise */
  arg(argv, "-L");
  g_ptr_array_add(argv, g_strdup_printf("%" G_GUINT64_FORMAT "b", capacity));
  g_autofree char *lv = g_strdup_printf("%s/%s", vg_name(pool), name);
  arg(argv, lv);
  g_autofree char *why = NULL;
  if ((r = run(argv, NULL, &why)) < 0)
    return storage_fail(ret_error, r, "cannot resize volume '%s' in pool '%s': %s", name,
                        pool->name, why);
  return 0;
}

int storage_lvm_check_data(StorageDriver *drv, const PoolDef *pool, const char *name,
                           char **ret_error) {
  return require_device_mapper(drv, pool, "read or written", false, ret_error);
}

int storage_lvm_open(const PoolDef *pool, const char *name, int flags, int *ret_fd,
                   uint64_t *ret_size, char **ret_error) {
  g_autofree char *path = pool_volume_path(pool, name);
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0)
    return storage_fail(ret_error, -errno, "volume '%s' in pool '%s': %s: %s", name, pool->name,
                        path, g_strerror(errno));
  uint64_t size = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
    int saved = errno;
    close(fd);
    return storage_fail(ret_error, -saved, "volume '%s': cannot read its size: %s", name,
                        g_strerror(saved));
  }
  *ret_fd = fd;
  *ret_size = size;
  return 0;
}

int storage_lvm_clone(StorageDriver *drv, const PoolDef *pool, const char *src_name,
                      const char *new_name, const VolumeDef *def, char **ret_error) {
  int r = require_device_mapper(drv, pool, "copied", false, ret_error);
  if (r < 0)
    return r;
  g_autoptr(VolumeDef) src = NULL;
  if ((r = storage_lvm_get(drv, pool, src_name, &src, ret_error)) < 0)
    return r;
  if (def && def->format != VOLUME_FORMAT_RAW)
    return storage_fail(ret_error, -EINVAL, "logical volumes are raw; '%s' cannot be qcow2",
                        new_name);
  if ((r = lv_absent(drv, pool, new_name, ret_error)) < 0 ||
      (r = lvcreate(drv, pool, new_name, src->capacity, ret_error)) < 0)
    return r;
  int in = -1, out = -1;
  uint64_t in_size = 0, out_size = 0;
  g_autofree char *why = NULL;
  if ((r = storage_lvm_open(pool, src_name, O_RDONLY, &in, &in_size, &why)) == 0 &&
      (r = storage_lvm_open(pool, new_name, O_WRONLY, &out, &out_size, &why)) == 0 &&
      (r = storage_copy_sparse(in, out, MIN(in_size, out_size), &why)) == 0 && fdatasync(out) < 0)
    r = -errno;
  if (in >= 0)
    close(in);
  if (out >= 0)
    close(out);
  if (r < 0) {
    g_autofree char *ignored = NULL;
    lvremove(drv, pool, new_name, &ignored);
    return storage_fail(ret_error, r, "cannot clone volume '%s' to '%s' in pool '%s': %s",
                        src_name, new_name, pool->name, why ? why : g_strerror(-r));
  }
  return 0;
}

int storage_lvm_wipe(StorageDriver *drv, const PoolDef *pool, const char *name,
                     char **ret_error) {
  int r = require_device_mapper(drv, pool, "wiped", false, ret_error);
  if (r < 0)
    return r;
  int fd;
  uint64_t size;
  if ((r = storage_lvm_open(pool, name, O_WRONLY, &fd, &size, ret_error)) < 0)
    return r;
  uint64_t range[2] = {0, size};
  if (ioctl(fd, BLKZEROOUT, range) < 0) {
    g_autofree char *zeros = g_malloc0(1 << 20);
    for (uint64_t off = 0; off < size && r == 0;) {
      ssize_t w = pwrite(fd, zeros, (size_t)MIN((uint64_t)(1 << 20), size - off), (off_t)off);
      if (w < 0 && errno != EINTR)
        r = -errno;
      else if (w > 0)
        off += (uint64_t)w;
    }
  }
  if (r == 0 && fdatasync(fd) < 0)
    r = -errno;
  close(fd);
  if (r < 0)
    return storage_fail(ret_error, r, "cannot wipe volume '%s' in pool '%s': %s", name,
                        pool->name, g_strerror(-r));
  return 0;
}
