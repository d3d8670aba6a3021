/* storage_fs.c — dir, fs and netfs pools and the file volumes in them (raw
 * files and qcow2 images). An fs pool is a dir pool whose directory is the
 * mount point of its device, a netfs pool one whose directory is the mount
 * point of an NFS export or CIFS share; every volume operation first checks
 * that the source is really mounted there, so nothing lands in the bare
 * mount point.
 *
 * Volumes are reached only relative to an O_DIRECTORY descriptor of the pool
 * with O_NOFOLLOW, and come into existence under their name only when
 * complete (temporary file, then a rename that never replaces); see
 * storage_driver.h for the contract of each operation. */
#include "drivers/storage/storage_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "drivers/storage/qcow2.h"
#include "drivers/storage/qemu_img.h"
#include "drivers/storage/storage_parse.h"

static const char *pool_device(const PoolDef *pool) {
  return pool->source_devices->len ? g_ptr_array_index(pool->source_devices, 0) : NULL;
}

/* fs and netfs pools live on a mount; dir pools do not. */
static bool mounted_pool(const PoolDef *pool) {
  return pool->type == POOL_TYPE_FS || pool->type == POOL_TYPE_NETFS;
}

/* What the mount table shows as the source of the pool's mount. */
static char *mount_source(const PoolDef *pool) {
  if (pool->type == POOL_TYPE_NETFS)
    return storage_netfs_source(pool);
  return g_strdup(pool_device(pool));
}

static char *real_path(const char *path) {
  char *r = realpath(path, NULL);
  char *copy = g_strdup(r ? r : path);
  free(r);
  return copy;
}

/* Whether a mount source from the mount table is `device`: the same node,
 * or a loop device whose backing file is the image `device`. */
static bool same_device(const char *source, const char *device) {
  g_autofree char *a = real_path(source), *b = real_path(device);
  if (strcmp(a, b) == 0)
    return true;
  if (!g_str_has_prefix(a, "/dev/loop"))
    return false;
  g_autofree char *sys = g_strdup_printf("/sys/block/%s/loop/backing_file", a + 5);
  g_autofree char *backing = NULL;
  if (!g_file_get_contents(sys, &backing, NULL, NULL))
    return false;
  g_strchomp(backing);
  return strcmp(backing, b) == 0;
}

/* 1: the pool's device is mounted on its target; 0: nothing is; -EBUSY:
 * something else is. */
static int fs_mount_state(const PoolDef *pool, char **ret_error) {
  g_autofree char *mi = NULL, *source = NULL;
  int r = storage_read_mountinfo(&mi, ret_error);
  if (r < 0)
    return r;
  g_autofree char *target = real_path(pool->target_path);
  if (storage_mountinfo_find(mi, target, &source, NULL) == 0)
    return 0;
  g_autofree char *want = mount_source(pool);
  if (pool->type == POOL_TYPE_NETFS ? strcmp(source, want) == 0 : same_device(source, want))
    return 1;
  return storage_fail(ret_error, -EBUSY, "pool '%s': %s is mounted on %s, not %s", pool->name,
                      source, pool->target_path, want);
}

/* Whether the device is mounted anywhere at all. */
static bool device_mounted(const char *mi, const char *device) {
  g_auto(GStrv) sources = storage_mountinfo_sources(mi);
  for (char **s = sources; *s; s++)
    if ((*s)[0] == '/' && same_device(*s, device))
      return true;
  return false;
}

static int apply_permissions(const char *path, const StoragePermissions *perms, const char *what,
                             char **ret_error) {
  if (chmod(path, perms->mode) < 0)
    return storage_fail(ret_error, -errno, "cannot set the mode of %s %s: %s", what, path,
                        g_strerror(errno));
  if ((perms->owner != STORAGE_ID_UNSET || perms->group != STORAGE_ID_UNSET) &&
      chown(path, (uid_t)perms->owner, (gid_t)perms->group) < 0)
    return storage_fail(ret_error, -errno, "cannot set the owner of %s %s: %s", what, path,
                        g_strerror(errno));
  return 0;
}

static int make_target_dir(const PoolDef *pool, char **ret_error) {
  struct stat st;
  if (stat(pool->target_path, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return storage_fail(ret_error, -ENOTDIR, "pool '%s': %s exists and is not a directory",
                          pool->name, pool->target_path);
  } else if (errno == ENOENT) {
    g_autofree char *parent = g_path_get_dirname(pool->target_path);
    if (g_mkdir_with_parents(parent, 0755) < 0 ||
        (mkdir(pool->target_path, pool->perms.mode) < 0 && errno != EEXIST))
      return storage_fail(ret_error, -errno, "pool '%s': cannot create %s: %s", pool->name,
                          pool->target_path, g_strerror(errno));
  } else {
    return storage_fail(ret_error, -errno, "pool '%s': %s: %s", pool->name, pool->target_path,
                        g_strerror(errno));
  }
  return apply_permissions(pool->target_path, &pool->perms, "pool directory", ret_error);
}

static int check_device(const PoolDef *pool, char **ret_error) {
  const char *dev = pool_device(pool);
  struct stat st;
  if (stat(dev, &st) < 0)
    return storage_fail(ret_error, -errno, "pool '%s': source device %s: %s", pool->name, dev,
                        g_strerror(errno));
  if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
    return storage_fail(ret_error, -EINVAL,
                        "pool '%s': source %s is neither a block device nor an image file",
                        pool->name, dev);
  return 0;
}

static int fs_make_filesystem(const PoolDef *pool, unsigned flags, char **ret_error) {
  const char *dev = pool_device(pool);
  const char *want = pool_format_to_string(pool->source_format);
  g_autofree char *type = NULL, *pttype = NULL, *why = NULL;
  int r = storage_probe_signature(dev, &type, &pttype, ret_error);
  if (r < 0)
    return r;
  if (pool->source_format == POOL_FORMAT_AUTO) {
    if (!type)
      return storage_fail(ret_error, -EINVAL,
                          "pool '%s': %s holds no filesystem; give <source><format type='...'/> "
                          "(e.g. ext4) to have build make one", pool->name, dev);
    return 0;
  }
  if (type && strcmp(type, want) == 0 && !(flags & STORAGE_BUILD_OVERWRITE))
    return 0; /* already built */
  if ((type || pttype) && !(flags & STORAGE_BUILD_OVERWRITE))
    return storage_fail(ret_error, -EEXIST,
                        "pool '%s': %s already holds %s %s; build with overwrite to replace it",
                        pool->name, dev, type ? "a" : "a partition table", type ? type : pttype);
  g_auto(GStrv) argv = storage_mkfs_argv(pool->source_format, dev);
  if ((r = storage_run((const char *const *)argv, NULL, &why)) < 0)
    return storage_fail(ret_error, r, "pool '%s': cannot make a %s filesystem on %s: %s",
                        pool->name, want, dev, why);
  return 0;
}

int storage_fs_build(StorageDriver *drv, const PoolDef *pool, unsigned flags, char **ret_error) {
  int r;
  if (pool->type == POOL_TYPE_FS) {
    if ((r = check_device(pool, ret_error)) < 0)
      return r;
    if ((r = fs_mount_state(pool, ret_error)) < 0)
      return r;
    if (r == 1)
      return 0; /* built and started */
    g_autofree char *mi = NULL;
    if ((r = storage_read_mountinfo(&mi, ret_error)) < 0)
      return r;
    if (device_mounted(mi, pool_device(pool)))
      return storage_fail(ret_error, -EBUSY, "pool '%s': %s is mounted elsewhere", pool->name,
                          pool_device(pool));
    if ((r = fs_make_filesystem(pool, flags, ret_error)) < 0)
      return r;
  }
  return make_target_dir(pool, ret_error);
}

static int check_target_dir(const PoolDef *pool, char **ret_error) {
  struct stat st;
  if (stat(pool->target_path, &st) < 0) {
    if (errno == ENOENT)
      return storage_fail(ret_error, -ENOENT,
                          "pool '%s': the directory %s does not exist; build the pool first",
                          pool->name, pool->target_path);
    return storage_fail(ret_error, -errno, "pool '%s': %s: %s", pool->name, pool->target_path,
                        g_strerror(errno));
  }
  if (!S_ISDIR(st.st_mode))
    return storage_fail(ret_error, -ENOTDIR, "pool '%s': %s is not a directory", pool->name,
                        pool->target_path);
  return 0;
}

/* Mounts a netfs pool. Where the kernel has no such filesystem (this
 * host's cannot mount nfs or cifs, and virtfs loads no modules), the
 * sentence says so rather than quoting mount's guesswork alone. */
static int netfs_mount(const PoolDef *pool, char **ret_error) {
  g_auto(GStrv) argv = storage_netfs_mount_argv(pool);
  g_autofree char *why = NULL;
  g_autofree char *source = storage_netfs_source(pool);
  int r = storage_run((const char *const *)argv, NULL, &why);
  if (r >= 0)
    return apply_permissions(pool->target_path, &pool->perms, "pool directory", ret_error);
  const char *fstype = storage_netfs_fstype(pool) ? storage_netfs_fstype(pool) : "nfs";
  g_autofree char *filesystems = NULL;
  if (g_file_get_contents("/proc/filesystems", &filesystems, NULL, NULL) &&
      !storage_filesystems_has(filesystems, fstype) &&
      !(strcmp(fstype, "nfs") == 0 && storage_filesystems_has(filesystems, "nfs4")))
    return storage_fail(ret_error, -EOPNOTSUPP,
                        "pool '%s': this host's kernel cannot mount %s filesystems (%s is not "
                        "in /proc/filesystems), so %s cannot be mounted on %s; mount said: %s",
                        pool->name, fstype, fstype, source, pool->target_path, why);
  return storage_fail(ret_error, r, "pool '%s': cannot mount %s on %s: %s", pool->name, source,
                      pool->target_path, why);
}

int storage_fs_start(StorageDriver *drv, const PoolDef *pool, char **ret_error) {
  int r = check_target_dir(pool, ret_error);
  if (r < 0 || pool->type == POOL_TYPE_DIR)
    return r;
  if ((r = fs_mount_state(pool, ret_error)) < 0)
    return r;
  if (r == 1)
    return 0;
  if (pool->type == POOL_TYPE_NETFS)
    return netfs_mount(pool, ret_error);
  if ((r = check_device(pool, ret_error)) < 0)
    return r;
  const char *dev = pool_device(pool);
  struct stat st;
  bool image = stat(dev, &st) == 0 && S_ISREG(st.st_mode);
  /* Images come from users: no device nodes or set-uid programs from them. */
  const char *argv[9];
  size_t n = 0;
  argv[n++] = "mount";
  argv[n++] = "-o";
  argv[n++] = image ? "nosuid,nodev,loop" : "nosuid,nodev";
  if (pool->source_format != POOL_FORMAT_AUTO) {
    argv[n++] = "-t";
    argv[n++] = pool_format_to_string(pool->source_format);
  }
  argv[n++] = dev;
  argv[n++] = pool->target_path;
  argv[n] = NULL;
  g_autofree char *why = NULL;
  if ((r = storage_run(argv, NULL, &why)) < 0)
    return storage_fail(ret_error, r, "pool '%s': cannot mount %s on %s: %s", pool->name, dev,
                        pool->target_path, why);
  /* The permissions of the pool are those of the mounted filesystem's root. */
  return apply_permissions(pool->target_path, &pool->perms, "pool directory", ret_error);
}

int storage_fs_stop(StorageDriver *drv, const PoolDef *pool, char **ret_error) {
  if (pool->type == POOL_TYPE_DIR)
    return 0;
  int r = fs_mount_state(pool, ret_error);
  if (r <= 0)
    return r;
  /* A loop device set up by mount -o loop is released by the kernel with
   * the last reference (autoclear), so umount2 is all it takes. */
  if (umount2(pool->target_path, 0) < 0) {
    if (errno == EBUSY)
      return storage_fail(ret_error, -EBUSY,
                          "pool '%s': %s is busy (a volume is open); cannot unmount it",
                          pool->name, pool->target_path);
    return storage_fail(ret_error, -errno, "pool '%s': cannot unmount %s: %s", pool->name,
                        pool->target_path, g_strerror(errno));
  }
  return 0;
}

int storage_fs_delete(StorageDriver *drv, const PoolDef *pool, char **ret_error) {
  if (mounted_pool(pool)) {
    int r = fs_mount_state(pool, ret_error);
    if (r < 0)
      return r;
    if (r == 1)
      return storage_fail(ret_error, -EBUSY, "pool '%s' is mounted on %s; stop it first",
                          pool->name, pool->target_path);
  }
  if (rmdir(pool->target_path) < 0 && errno != ENOENT) {
    if (errno == ENOTEMPTY || errno == EEXIST)
      return storage_fail(ret_error, -ENOTEMPTY, "pool '%s': %s still holds files", pool->name,
                          pool->target_path);
    return storage_fail(ret_error, -errno, "pool '%s': cannot remove %s: %s", pool->name,
                        pool->target_path, g_strerror(errno));
  }
  return 0;
}

int storage_fs_is_active(StorageDriver *drv, const PoolDef *pool, bool *ret_active,
                         char **ret_error) {
  if (mounted_pool(pool)) {
    g_autofree char *ignored = NULL;
    int r = fs_mount_state(pool, &ignored);
    if (r < 0 && r != -EBUSY)
      return storage_fail(ret_error, r, "%s", ignored);
    *ret_active = r == 1;
    return 0;
  }
  struct stat st;
  *ret_active = stat(pool->target_path, &st) == 0 && S_ISDIR(st.st_mode);
  return 0;
}

int storage_fs_open_dir(StorageDriver *drv, const PoolDef *pool, int *ret_dirfd,
                        char **ret_error) {
  if (mounted_pool(pool)) {
    int r = fs_mount_state(pool, ret_error);
    if (r < 0)
      return r;
    g_autofree char *source = mount_source(pool);
    if (r == 0)
      return storage_fail(ret_error, -EBUSY, "pool '%s' is not active: %s is not mounted on %s",
                          pool->name, source, pool->target_path);
  }
  int fd = open(pool->target_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return storage_fail(ret_error, -ENOENT,
                          "pool '%s': the directory %s does not exist; build the pool first",
                          pool->name, pool->target_path);
    return storage_fail(ret_error, -errno, "pool '%s': cannot open %s: %s", pool->name,
                        pool->target_path, g_strerror(errno));
  }
  *ret_dirfd = fd;
  return 0;
}

int storage_fs_info(StorageDriver *drv, const PoolDef *pool, PoolSizes *ret_sizes,
                    char **ret_error) {
  int dirfd = -1;
  int r = storage_fs_open_dir(drv, pool, &dirfd, ret_error);
  if (r < 0)
    return r;
  struct statvfs sv;
  r = fstatvfs(dirfd, &sv);
  int saved = errno;
  close(dirfd);
  if (r < 0)
    return storage_fail(ret_error, -saved, "pool '%s': statvfs of %s: %s", pool->name,
                        pool->target_path, g_strerror(saved));
  ret_sizes->capacity = (uint64_t)sv.f_blocks * sv.f_frsize;
  ret_sizes->allocation = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
  ret_sizes->available = (uint64_t)sv.f_bavail * sv.f_frsize;
  return 0;
}

/* ---- file volumes ---- */

/* Opens volume `name` itself: never through a symlink, only a regular file.
 * -ENOENT (with a sentence) for anything that is not a volume. */
int storage_file_open(const PoolDef *pool, int dirfd, const char *name, int flags, int *ret_fd,
                       struct stat *ret_st, char **ret_error) {
  int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT)
      return storage_fail(ret_error, -ENOENT, "volume '%s' does not exist in pool '%s'", name,
                          pool->name);
    if (errno == ELOOP)
      return storage_fail(ret_error, -ENOENT,
                          "'%s' in pool '%s' is a symbolic link, not a volume", name, pool->name);
    return storage_fail(ret_error, -errno, "volume '%s' in pool '%s': %s", name, pool->name,
                        g_strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return storage_fail(ret_error, -ENOENT, "'%s' in pool '%s' is not a regular file, not a volume",
                        name, pool->name);
  }
  /* O_NONBLOCK only kept open() from hanging on a FIFO planted in the pool. */
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  *ret_fd = fd;
  if (ret_st)
    *ret_st = st;
  return 0;
}

int storage_qemu_img_info(StorageDriver *drv, const char *path, VolumeFormat format,
                             QemuImgInfo **ret_info, char **ret_error) {
  g_auto(GStrv) argv = qemu_img_info_argv(drv->qemu_img, path, format);
  g_autofree char *out = NULL;
  int r = storage_run((const char *const *)argv, &out, ret_error);
  if (r < 0)
    return r;
  return qemu_img_info_parse(out, strlen(out), ret_info, ret_error);
}

/* Fills a qcow2 volume's capacity, compat and backing store from its
 * header (qcow2.c), or from qemu-img info when the header is beyond that
 * simple reader. */
static void describe_qcow2(StorageDriver *drv, const PoolDef *pool, int fd, VolumeDef *vol) {
  g_autofree uint8_t *head = g_malloc(QCOW2_HEADER_READ);
  ssize_t n = pread(fd, head, QCOW2_HEADER_READ, 0);
  Qcow2Header h = {0};
  g_autofree char *backing = NULL, *backing_format = NULL;
  if (n > 0 && qcow2_header_parse(head, (size_t)n, &h) == 0) {
    vol->capacity = h.virtual_size;
    vol->compat = g_strdup(h.version == 2 ? "0.10" : "1.1");
    vol->lazy_refcounts = h.compatible_features & 1;
    /* qemu resolves a relative backing name against the image's directory */
    if (h.backing_file)
      backing = h.backing_file[0] == '/' ? g_strdup(h.backing_file)
                                         : g_build_filename(pool->target_path, h.backing_file, NULL);
    backing_format = g_strdup(h.backing_format);
    qcow2_header_clear(&h);
  } else {
    /* A qcow2 qemu-img cannot read either is still listed, without a
     * capacity, so it can be seen and deleted. */
    g_autoptr(QemuImgInfo) info = NULL;
    g_autofree char *ignored = NULL;
    if (storage_qemu_img_info(drv, vol->target_path, VOLUME_FORMAT_QCOW2, &info, &ignored) < 0)
      return;
    vol->capacity = info->virtual_size;
    vol->compat = g_strdup(info->compat);
    vol->lazy_refcounts = info->lazy_refcounts;
    backing = g_strdup(info->full_backing_filename ? info->full_backing_filename
                                                   : info->backing_filename);
    backing_format = g_strdup(info->backing_format);
  }
  vol->capacity_set = true;
  VolumeFormat bf;
  if (backing && pool_path_normalize(backing, &vol->backing_path) == 0 && backing_format &&
      volume_format_from_string(backing_format, &bf) == 0) {
    vol->backing_format = bf;
    vol->backing_format_set = true;
  }
}

void storage_describe_file(int fd, const char *path, const struct stat *st, VolumeDef *vol) {
  vol->timestamps_set = true;
  vol->atime = st->st_atim;
  vol->mtime = st->st_mtim;
  vol->ctime = st->st_ctim;
  char label[STORAGE_LABEL_MAX];
  ssize_t n = fd >= 0 ? fgetxattr(fd, "security.selinux", label, sizeof(label) - 1)
                      : getxattr(path, "security.selinux", label, sizeof(label) - 1);
  vol->perms.label[0] = '\0';
  if (n > 0) {
    label[n] = '\0';
    g_strlcpy(vol->perms.label, label, sizeof(vol->perms.label));
  }
}

int storage_file_get(StorageDriver *drv, const PoolDef *pool, int dirfd, const char *name,
                     VolumeDef **ret_vol, char **ret_error) {
  int fd;
  struct stat st;
  int r = storage_file_open(pool, dirfd, name, O_RDONLY, &fd, &st, ret_error);
  if (r < 0)
    return r;
  unsigned char head[STORAGE_PROBE_BYTES];
  ssize_t n = pread(fd, head, sizeof(head), 0);
  g_autoptr(VolumeDef) vol = volume_def_new(name);
  g_autofree char *why = NULL;
  if ((r = volume_def_resolve(vol, pool, &why)) < 0) {
    close(fd);
    return storage_fail(ret_error, r, "%s", why);
  }
  vol->format = storage_format_detect(head, n > 0 ? (size_t)n : 0);
  vol->perms.mode = st.st_mode & 07777;
  vol->perms.owner = (long)st.st_uid;
  vol->perms.group = (long)st.st_gid;
  vol->allocation = (uint64_t)st.st_blocks * 512;
  vol->allocation_set = true;
  storage_describe_file(fd, NULL, &st, vol);
  if (vol->format == VOLUME_FORMAT_RAW) {
    vol->capacity = (uint64_t)st.st_size;
    vol->capacity_set = true;
  } else {
    describe_qcow2(drv, pool, fd, vol);
  }
  close(fd);
  *ret_vol = g_steal_pointer(&vol);
  return 0;
}

static gint compare_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int storage_fs_refresh(StorageDriver *drv, const PoolDef *pool, GPtrArray **ret_volumes,
                       char **ret_error) {
  int dirfd = -1;
  int r = storage_fs_open_dir(drv, pool, &dirfd, ret_error);
  if (r < 0)
    return r;
  int listfd = dup(dirfd);
  DIR *d = listfd >= 0 ? fdopendir(listfd) : NULL;
  if (!d) {
    int saved = errno;
    if (listfd >= 0)
      close(listfd);
    close(dirfd);
    return storage_fail(ret_error, -saved, "pool '%s': cannot list %s: %s", pool->name,
                        pool->target_path, g_strerror(saved));
  }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  struct dirent *e;
  while ((e = readdir(d)))
    if (pool_volume_name_validate(pool, e->d_name, NULL) == 0)
      g_ptr_array_add(names, g_strdup(e->d_name));
  closedir(d);
  g_ptr_array_sort(names, compare_names);
  g_autoptr(GPtrArray) vols = g_ptr_array_new_with_free_func((GDestroyNotify)volume_def_free);
  for (guint i = 0; i < names->len; i++) {
    VolumeDef *vol = NULL;
    g_autofree char *why = NULL;
    /* Not a regular file, or gone meanwhile: not a volume. */
    if (storage_file_get(drv, pool, dirfd, g_ptr_array_index(names, i), &vol, &why) == 0)
      g_ptr_array_add(vols, vol);
  }
  close(dirfd);
  *ret_volumes = g_steal_pointer(&vols);
  return 0;
}

/* Temporary files: see storage_internal.h. A named one left by a crash is
 * hidden (dot name) and may be removed by hand. */
int storage_tmp_open(const PoolDef *pool, int dirfd, const char *volname, const char *purpose,
                    unsigned mode, bool unnamed_ok, TmpFile *ret_tmp, char **ret_error) {
  if (unnamed_ok) {
    int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
    if (fd >= 0) {
      ret_tmp->fd = fd;
      ret_tmp->name = NULL;
      return 0;
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
      return storage_fail(ret_error, -errno, "pool '%s': cannot create a file in %s: %s",
                          pool->name, pool->target_path, g_strerror(errno));
  }
  for (int attempt = 0; attempt < 100; attempt++) {
    g_autofree char *name = g_strdup_printf(".%s.%s-%06x", volname, purpose,
                                            g_random_int() & 0xffffff);
    int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0) {
      ret_tmp->fd = fd;
      ret_tmp->name = g_steal_pointer(&name);
      return 0;
    }
    if (errno != EEXIST)
      return storage_fail(ret_error, -errno, "pool '%s': cannot create a file in %s: %s",
                          pool->name, pool->target_path, g_strerror(errno));
  }
  return storage_fail(ret_error, -EEXIST, "pool '%s': no free temporary name", pool->name);
}

void storage_tmp_discard(int dirfd, TmpFile *tmp) {
  if (tmp->fd >= 0)
    close(tmp->fd);
  tmp->fd = -1;
  if (tmp->name)
    unlinkat(dirfd, tmp->name, 0);
  g_clear_pointer(&tmp->name, g_free);
}

int storage_tmp_name(const PoolDef *pool, int dirfd, TmpFile *tmp, const char *volname,
                     char **ret_error) {
  if (tmp->name)
    return 0;
  g_autofree char *proc = g_strdup_printf("/proc/self/fd/%d", tmp->fd);
  for (int attempt = 0; attempt < 100; attempt++) {
    g_autofree char *name = g_strdup_printf(".%s.commit-%06x", volname, g_random_int() & 0xffffff);
    if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0) {
      tmp->name = g_steal_pointer(&name);
      return 0;
    }
    if (errno != EEXIST)
      return storage_fail(ret_error, -errno, "pool '%s': cannot link volume '%s': %s",
                          pool->name, volname, g_strerror(errno));
  }
  return storage_fail(ret_error, -EEXIST, "pool '%s': no free temporary name", pool->name);
}

int storage_tmp_commit(const PoolDef *pool, int dirfd, TmpFile *tmp, const char *volname,
                       bool replace, char **ret_error) {
  int r = 0;
  if (!tmp->name && !replace) {
    /* linkat never replaces: the unnamed file appears whole or not at all. */
    g_autofree char *proc = g_strdup_printf("/proc/self/fd/%d", tmp->fd);
    if (linkat(AT_FDCWD, proc, dirfd, volname, AT_SYMLINK_FOLLOW) < 0)
      r = -errno;
  } else if ((r = storage_tmp_name(pool, dirfd, tmp, volname, ret_error)) < 0) {
    storage_tmp_discard(dirfd, tmp);
    return r;
  } else if (replace) {
    if (renameat(dirfd, tmp->name, dirfd, volname) < 0)
      r = -errno;
  } else if (renameat2(dirfd, tmp->name, dirfd, volname, RENAME_NOREPLACE) < 0) {
    r = -errno;
    if (r == -EINVAL) {
      /* A filesystem without RENAME_NOREPLACE: check, then rename. */
      struct stat st;
      if (fstatat(dirfd, volname, &st, AT_SYMLINK_NOFOLLOW) == 0)
        r = -EEXIST;
      else
        r = renameat(dirfd, tmp->name, dirfd, volname) < 0 ? -errno : 0;
    }
  }
  if (r == 0)
    g_clear_pointer(&tmp->name, g_free); /* in place: nothing left to remove */
  storage_tmp_discard(dirfd, tmp);
  if (r == -EEXIST)
    return storage_fail(ret_error, r, "volume '%s' already exists in pool '%s'", volname,
                        pool->name);
  if (r < 0)
    return storage_fail(ret_error, r, "pool '%s': cannot put volume '%s' in place: %s",
                        pool->name, volname, g_strerror(-r));
  return 0;
}

int storage_set_perms_fd(int fd, const StoragePermissions *perms, const char *volname,
                        char **ret_error) {
  /* Explicitly: O_TMPFILE and O_CREAT modes went through the umask. */
  if (fchmod(fd, perms->mode) < 0)
    return storage_fail(ret_error, -errno, "volume '%s': cannot set its mode: %s", volname,
                        g_strerror(errno));
  if ((perms->owner != STORAGE_ID_UNSET || perms->group != STORAGE_ID_UNSET) &&
      fchown(fd, (uid_t)perms->owner, (gid_t)perms->group) < 0)
    return storage_fail(ret_error, -errno, "volume '%s': cannot set its owner: %s", volname,
                        g_strerror(errno));
  return 0;
}

static int check_absent(const PoolDef *pool, int dirfd, const char *name, char **ret_error) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return storage_fail(ret_error, -EEXIST, "volume '%s' already exists in pool '%s'", name,
                        pool->name);
  return 0;
}

static int create_raw(const PoolDef *pool, int dirfd, const VolumeDef *def, char **ret_error) {
  TmpFile tmp = {-1, NULL};
  int r = storage_tmp_open(pool, dirfd, def->name, "create", def->perms.mode, true, &tmp, ret_error);
  if (r < 0)
    return r;
  if ((r = storage_set_perms_fd(tmp.fd, &def->perms, def->name, ret_error)) < 0)
    goto fail;
  if (ftruncate(tmp.fd, (off_t)def->capacity) < 0) {
    r = storage_fail(ret_error, -errno, "cannot create volume '%s' of %" G_GUINT64_FORMAT
                     " bytes: %s", def->name, def->capacity, g_strerror(errno));
    goto fail;
  }
  uint64_t alloc = def->allocation_set ? MIN(def->allocation, def->capacity) : 0;
  if (alloc > 0) {
    int e = posix_fallocate(tmp.fd, 0, (off_t)alloc);
    if (e != 0) {
      r = storage_fail(ret_error, -e, "cannot allocate %" G_GUINT64_FORMAT
                       " bytes for volume '%s' in pool '%s': %s", alloc, def->name, pool->name,
                       g_strerror(e));
      goto fail;
    }
  }
  return storage_tmp_commit(pool, dirfd, &tmp, def->name, false, ret_error);
fail:
  storage_tmp_discard(dirfd, &tmp);
  return r;
}

/* The format and virtual size of a backing file, from its first bytes and
 * size (a raw file) or its qcow2 header. */
static int probe_backing(const char *path, VolumeFormat *ret_format, uint64_t *ret_size,
                         char **ret_error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return storage_fail(ret_error, -errno, "backing file %s: %s", path, g_strerror(errno));
  unsigned char head[STORAGE_PROBE_BYTES];
  ssize_t n = pread(fd, head, sizeof(head), 0);
  struct stat st;
  int r = fstat(fd, &st) < 0 ? -errno : 0;
  close(fd);
  if (n < 0 || r < 0)
    return storage_fail(ret_error, n < 0 ? -EIO : r, "backing file %s cannot be read", path);
  *ret_format = storage_format_detect(head, (size_t)n);
  if (*ret_format == VOLUME_FORMAT_QCOW2)
    return qcow2_header_virtual_size(head, (size_t)n, ret_size);
  *ret_size = (uint64_t)st.st_size;
  return 0;
}

/* Runs qemu-img to make `volname` in a hidden temporary file, sets its
 * permissions and renames it into place. `make` fills the argv for a path. */
typedef GStrv (*QemuImgMaker)(StorageDriver *drv, const char *path, const void *ctx);

static int make_with_qemu_img(StorageDriver *drv, const PoolDef *pool, int dirfd,
                              const char *volname, const StoragePermissions *perms, bool replace,
                              QemuImgMaker make, const void *ctx, const char *what,
                              char **ret_error) {
  TmpFile tmp = {-1, NULL};
  int r = storage_tmp_open(pool, dirfd, volname, what, perms->mode, false, &tmp, ret_error);
  if (r < 0)
    return r;
  g_autofree char *tmppath = pool_volume_path(pool, tmp.name);
  g_auto(GStrv) argv = make(drv, tmppath, ctx);
  g_autofree char *why = NULL;
  if ((r = storage_run((const char *const *)argv, NULL, &why)) < 0) {
    r = storage_fail(ret_error, r, "cannot %s volume '%s' in pool '%s': %s", what, volname,
                     pool->name, why);
    storage_tmp_discard(dirfd, &tmp);
    return r;
  }
  if ((r = storage_set_perms_fd(tmp.fd, perms, volname, ret_error)) < 0) {
    storage_tmp_discard(dirfd, &tmp);
    return r;
  }
  return storage_tmp_commit(pool, dirfd, &tmp, volname, replace, ret_error);
}

typedef struct {
  uint64_t capacity;
  const char *compat;
  bool lazy_refcounts;
  bool preallocate;
  const char *backing_path;
  VolumeFormat backing_format;
} Qcow2Spec;

static GStrv make_qcow2(StorageDriver *drv, const char *path, const void *ctx) {
  const Qcow2Spec *s = ctx;
  return qemu_img_create_argv(drv->qemu_img, path, VOLUME_FORMAT_QCOW2, s->capacity, s->compat,
                              s->lazy_refcounts, s->preallocate, s->backing_path, s->backing_format);
}

/* An empty qcow2 written here (see qcow2.h), through the same temporary
 * file and rename as raw volumes. */
static int create_qcow2_direct(const PoolDef *pool, int dirfd, const char *name,
                               const StoragePermissions *perms, const Qcow2Spec *spec,
                               bool replace, char **ret_error) {
  Qcow2Layout layout = {0};
  g_autofree char *why = NULL;
  int r = qcow2_build_empty(spec->capacity, spec->compat, spec->backing_path,
                            spec->backing_format, &layout, &why);
  if (r < 0)
    return storage_fail(ret_error, r, "cannot create volume '%s': %s", name, why);
  TmpFile tmp = {-1, NULL};
  if ((r = storage_tmp_open(pool, dirfd, name, replace ? "wipe" : "create", perms->mode, true, &tmp,
                            ret_error)) < 0)
    goto out;
  if ((r = storage_set_perms_fd(tmp.fd, perms, name, ret_error)) < 0)
    goto fail;
  /* fdatasync: the header must be on disk before the name points at it, or
   * a crash could leave a "qcow2" volume of zeros. */
  if (ftruncate(tmp.fd, (off_t)layout.file_size) < 0 ||
      pwrite(tmp.fd, layout.meta, layout.meta_len, 0) != (ssize_t)layout.meta_len ||
      fdatasync(tmp.fd) < 0) {
    int e = errno ? errno : EIO;
    r = storage_fail(ret_error, -e, "cannot create volume '%s' in pool '%s': %s", name,
                     pool->name, g_strerror(e));
    goto fail;
  }
  r = storage_tmp_commit(pool, dirfd, &tmp, name, replace, ret_error);
  goto out;
fail:
  storage_tmp_discard(dirfd, &tmp);
out:
  qcow2_layout_clear(&layout);
  return r;
}

static int create_qcow2(StorageDriver *drv, const PoolDef *pool, int dirfd, const VolumeDef *def,
                        char **ret_error) {
  Qcow2Spec spec = {
    .capacity = def->capacity_set ? def->capacity : 0,
    .compat = def->compat,
    .lazy_refcounts = def->lazy_refcounts,
    .preallocate = def->allocation_set && def->capacity_set && def->capacity > 0 &&
                   def->allocation >= def->capacity,
    .backing_path = def->backing_path,
    .backing_format = def->backing_format,
  };
  if (def->backing_path) {
    g_autofree char *why = NULL;
    VolumeFormat probed;
    uint64_t backing_size = 0;
    int r = probe_backing(def->backing_path, &probed, &backing_size, &why);
    if (r < 0)
      return storage_fail(ret_error, r, "cannot create volume '%s': %s", def->name, why);
    if (!def->backing_format_set)
      spec.backing_format = probed;
    if (!def->capacity_set || def->capacity == 0)
      spec.capacity = backing_size;
    g_autofree char *own = pool_volume_path(pool, def->name);
    if (strcmp(own, def->backing_path) == 0)
      return storage_fail(ret_error, -EINVAL, "volume '%s' cannot be its own backing file",
                          def->name);
  }
  /* The builder of qcow2.h writes no feature bits: lazy refcounts go
   * through qemu-img. */
  if (!spec.preallocate && !spec.lazy_refcounts)
    return create_qcow2_direct(pool, dirfd, def->name, &def->perms, &spec, false, ret_error);
  return make_with_qemu_img(drv, pool, dirfd, def->name, &def->perms, false, make_qcow2, &spec,
                            "create", ret_error);
}

int storage_file_create(StorageDriver *drv, const PoolDef *pool, const VolumeDef *def,
                        char **ret_error) {
  int dirfd = -1;
  int r = storage_fs_open_dir(drv, pool, &dirfd, ret_error);
  if (r < 0)
    return r;
  if ((r = check_absent(pool, dirfd, def->name, ret_error)) == 0) {
    if (def->format == VOLUME_FORMAT_RAW)
      r = create_raw(pool, dirfd, def, ret_error);
    else
      r = create_qcow2(drv, pool, dirfd, def, ret_error);
  }
  close(dirfd);
  return r;
}

typedef struct {
  const char *src;
  VolumeFormat src_format, dst_format;
  const char *compat;
} ConvertSpec;

static GStrv make_convert(StorageDriver *drv, const char *path, const void *ctx) {
  const ConvertSpec *s = ctx;
  return qemu_img_convert_argv(drv->qemu_img, s->src, s->src_format, path, s->dst_format,
                               s->compat);
}

static int clone_in(StorageDriver *drv, const PoolDef *pool, int dirfd, const char *src_name,
                    const char *new_name, const VolumeDef *def, char **ret_error) {
  g_autoptr(VolumeDef) src = NULL;
  int r = storage_file_get(drv, pool, dirfd, src_name, &src, ret_error);
  if (r < 0)
    return r;
  if ((r = check_absent(pool, dirfd, new_name, ret_error)) < 0)
    return r;
  StoragePermissions perms = def ? def->perms : src->perms;
  if (!def) /* the copy belongs to whoever makes it, like cp */
    perms.owner = perms.group = STORAGE_ID_UNSET;
  VolumeFormat dst_format = def ? def->format : src->format;
  if (src->format == VOLUME_FORMAT_RAW && dst_format == VOLUME_FORMAT_RAW) {
    int in;
    if ((r = storage_file_open(pool, dirfd, src_name, O_RDONLY, &in, NULL, ret_error)) < 0)
      return r;
    TmpFile tmp = {-1, NULL};
    if ((r = storage_tmp_open(pool, dirfd, new_name, "clone", perms.mode, true, &tmp, ret_error)) < 0) {
      close(in);
      return r;
    }
    g_autofree char *why = NULL;
    r = storage_set_perms_fd(tmp.fd, &perms, new_name, ret_error);
    if (r == 0 && (r = storage_copy_sparse(in, tmp.fd, src->capacity, &why)) < 0)
      storage_fail(ret_error, r, "cannot clone volume '%s' to '%s' in pool '%s': %s", src_name,
                   new_name, pool->name, why);
    close(in);
    if (r < 0) {
      storage_tmp_discard(dirfd, &tmp);
      return r;
    }
    return storage_tmp_commit(pool, dirfd, &tmp, new_name, false, ret_error);
  }
  ConvertSpec spec = {
    .src = src->target_path,
    .src_format = src->format,
    .dst_format = dst_format,
    .compat = def ? def->compat : (dst_format == src->format ? src->compat : NULL),
  };
  return make_with_qemu_img(drv, pool, dirfd, new_name, &perms, false, make_convert, &spec,
                            "clone", ret_error);
}

int storage_file_clone(StorageDriver *drv, const PoolDef *pool, const char *src_name,
                       const char *new_name, const VolumeDef *def, char **ret_error) {
  int dirfd = -1;
  int r = storage_fs_open_dir(drv, pool, &dirfd, ret_error);
  if (r < 0)
    return r;
  r = clone_in(drv, pool, dirfd, src_name, new_name, def, ret_error);
  close(dirfd);
  return r;
}

int storage_file_delete(StorageDriver *drv, const PoolDef *pool, const char *name,
                        char **ret_error) {
  int dirfd = -1;
  int r = storage_fs_open_dir(drv, pool, &dirfd, ret_error);
  if (r < 0)
    return r;
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    r = storage_fail(ret_error, errno == ENOENT ? -ENOENT : -errno,
                     "volume '%s' does not exist in pool '%s'", name, pool->name);
  else if (!S_ISREG(st.st_mode))
    r = storage_fail(ret_error, -ENOENT, "'%s' in pool '%s' is not a regular file, not a volume",
                     name, pool->name);
  /* unlinkat removes the name itself: were it swapped for a symlink since
   * the check, the link would go, never its target. */
  else if (unlinkat(dirfd, name, 0) < 0)
    r = storage_fail(ret_error, -errno, "cannot delete volume '%s' in pool '%s': %s", name,
                     pool->name, g_strerror(errno));
  close(dirfd);
  return r;
}

int storage_file_rename(StorageDriver *drv, const PoolDef *pool, const char *name,
                        const char *new_name, char **ret_error) {
  int dirfd = -1;
  int r = storage_fs_open_dir(drv, pool, &dirfd, ret_error);
  if (r < 0)
    return r;
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    r = storage_fail(ret_error, errno == ENOENT ? -ENOENT : -errno,
                     "volume '%s' does not exist in pool '%s'", name, pool->name);
  else if (!S_ISREG(st.st_mode))
    r = storage_fail(ret_error, -ENOENT, "'%s' in pool '%s' is not a regular file, not a volume",
                     name, pool->name);
  /* renameat2 moves the name itself; NOREPLACE never overwrites a volume
   * (or anything else) that holds the new name. */
  else if (renameat2(dirfd, name, dirfd, new_name, RENAME_NOREPLACE) < 0)
    r = storage_fail(ret_error, -errno, "cannot rename volume '%s' in pool '%s' to '%s': %s",
                     name, pool->name, new_name, errno == EEXIST ? "that name is taken"
                                                                 : g_strerror(errno));
  close(dirfd);
  return r;
}

static int resize_in(StorageDriver *drv, const PoolDef *pool, int dirfd, const char *name,
                     uint64_t capacity, unsigned flags, char **ret_error) {
  g_autoptr(VolumeDef) cur = NULL;
  int r = storage_file_get(drv, pool, dirfd, name, &cur, ret_error);
  if (r < 0)
    return r;
  if (cur->format == VOLUME_FORMAT_QCOW2) {
    if (!cur->capacity_set)
      return storage_fail(ret_error, -EIO, "cannot read the size of qcow2 volume '%s'", name);
    if (capacity > UINT64_MAX - 511)
      return storage_fail(ret_error, -EINVAL, "capacity %" G_GUINT64_FORMAT " is too large",
                          capacity);
    capacity = (capacity + 511) / 512 * 512; /* qemu-img's sector rounding */
    if (capacity == cur->capacity)
      return 0;
    if (capacity < cur->capacity)
      return storage_fail(ret_error, -EOPNOTSUPP,
                          "qcow2 volume '%s' cannot shrink (from %" G_GUINT64_FORMAT " to %"
                          G_GUINT64_FORMAT " bytes)", name, cur->capacity, capacity);
    g_auto(GStrv) argv = qemu_img_resize_argv(drv->qemu_img, cur->target_path,
                                              VOLUME_FORMAT_QCOW2, capacity);
    g_autofree char *why = NULL;
    if ((r = storage_run((const char *const *)argv, NULL, &why)) < 0)
      return storage_fail(ret_error, r, "cannot resize volume '%s': %s", name, why);
    return 0;
  }
  if (capacity == cur->capacity)
    return 0;
  if (capacity < cur->capacity && !(flags & STORAGE_RESIZE_SHRINK))
    return storage_fail(ret_error, -EINVAL,
                        "shrinking volume '%s' from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                        " bytes would lose data; it needs the explicit shrink flag", name,
                        cur->capacity, capacity);
  int fd;
  if ((r = storage_file_open(pool, dirfd, name, O_WRONLY, &fd, NULL, ret_error)) < 0)
    return r;
  r = ftruncate(fd, (off_t)capacity) < 0 ? -errno : 0;
  close(fd);
  if (r < 0)
    return storage_fail(ret_error, r, "cannot resize volume '%s': %s", name, g_strerror(-r));
  return 0;
}

int storage_file_resize(StorageDriver *drv, const PoolDef *pool, const char *name,
                        uint64_t capacity, unsigned flags, char **ret_error) {
  int dirfd = -1;
  int r = storage_fs_open_dir(drv, pool, &dirfd, ret_error);
  if (r < 0)
    return r;
  r = resize_in(drv, pool, dirfd, name, capacity, flags, ret_error);
  close(dirfd);
  return r;
}

static int zero_by_writing(int fd, uint64_t size, char **ret_error, const char *name) {
  g_autofree char *zeros = g_malloc0(1 << 20);
  for (uint64_t off = 0; off < size;) {
    size_t n = (size_t)MIN((uint64_t)(1 << 20), size - off);
    ssize_t w = pwrite(fd, zeros, n, (off_t)off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return storage_fail(ret_error, -errno, "cannot wipe volume '%s': %s", name,
                          g_strerror(errno));
    off += (uint64_t)w;
  }
  return 0;
}

static int wipe_in(StorageDriver *drv, const PoolDef *pool, int dirfd, const char *name,
                   char **ret_error) {
  g_autoptr(VolumeDef) cur = NULL;
  int r = storage_file_get(drv, pool, dirfd, name, &cur, ret_error);
  if (r < 0)
    return r;
  if (cur->format == VOLUME_FORMAT_QCOW2) {
    if (!cur->capacity_set)
      return storage_fail(ret_error, -EIO, "cannot read the size of qcow2 volume '%s'", name);
    Qcow2Spec spec = {
      .capacity = cur->capacity,
      .compat = cur->compat,
      .backing_path = cur->backing_path,
      .backing_format = cur->backing_format_set ? cur->backing_format : VOLUME_FORMAT_RAW,
    };
    uint64_t ignored;
    if (cur->backing_path && !cur->backing_format_set &&
        (r = probe_backing(cur->backing_path, &spec.backing_format, &ignored, ret_error)) < 0)
      return r;
    return create_qcow2_direct(pool, dirfd, name, &cur->perms, &spec, true, ret_error);
  }
  int fd;
  struct stat st;
  if ((r = storage_file_open(pool, dirfd, name, O_RDWR, &fd, &st, ret_error)) < 0)
    return r;
  uint64_t size = (uint64_t)st.st_size;
  bool was_allocated = size > 0 && (uint64_t)st.st_blocks * 512 >= size;
  if (size > 0) {
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size) < 0) {
      if (errno != EOPNOTSUPP && errno != ENOSYS)
        r = storage_fail(ret_error, -errno, "cannot wipe volume '%s': %s", name,
                         g_strerror(errno));
      else
        r = zero_by_writing(fd, size, ret_error, name);
    } else if (was_allocated) {
      int e = posix_fallocate(fd, 0, (off_t)size);
      if (e != 0)
        r = storage_fail(ret_error, -e, "volume '%s' was wiped but could not be allocated "
                         "again: %s", name, g_strerror(e));
    }
  }
  if (r == 0 && fdatasync(fd) < 0)
    r = storage_fail(ret_error, -errno, "cannot wipe volume '%s': %s", name, g_strerror(errno));
  close(fd);
  return r;
}

int storage_file_wipe(StorageDriver *drv, const PoolDef *pool, const char *name,
                      char **ret_error) {
  int dirfd = -1;
  int r = storage_fs_open_dir(drv, pool, &dirfd, ret_error);
  if (r < 0)
    return r;
  r = wipe_in(drv, pool, dirfd, name, ret_error);
  close(dirfd);
  return r;
}
