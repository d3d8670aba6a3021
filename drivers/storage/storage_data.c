/* storage_data.c — streams of volume data for upload and download through
 * a FUSE file: an open descriptor the caller reads and writes at any offset,
 * and, for uploads, a temporary file that becomes the volume only at commit.
 * See the contract in storage_driver.h. */
#include "drivers/storage/storage_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/storage/storage_parse.h"

struct VolumeData {
  StorageDriver *drv;
  PoolDef *pool;
  char *name;
  int fd;             /* the stream: volume, LV node or temporary file */
  int dirfd;          /* pool directory, -1 for logical pools */
  bool writing;
  bool in_place;      /* writes go straight into the volume */
  bool finished;      /* committed or failed at commit */
  TmpFile tmp;        /* upload: the temporary file (tmp.fd == fd) */
  int error;          /* first failed write, kept for commit */
  uint64_t size;      /* at open */
};

static VolumeData *data_new(StorageDriver *drv, const PoolDef *pool, const char *name) {
  VolumeData *d = g_new0(VolumeData, 1);
  d->drv = drv;
  d->pool = pool_def_copy(pool);
  d->name = g_strdup(name);
  d->fd = -1;
  d->dirfd = -1;
  d->tmp.fd = -1;
  return d;
}

void volume_data_close(VolumeData *d) {
  if (!d)
    return;
  if (d->tmp.fd >= 0 || d->tmp.name) {
    storage_tmp_discard(d->dirfd, &d->tmp); /* closes d->fd too */
    d->fd = -1;
  }
  if (d->fd >= 0)
    close(d->fd);
  if (d->dirfd >= 0)
    close(d->dirfd);
  pool_def_free(d->pool);
  g_free(d->name);
  g_free(d);
}

static int check_name(const PoolDef *pool, const char *name, char **ret_error) {
  g_autofree char *why = NULL;
  int r = pool_volume_name_validate(pool, name, &why);
  if (r < 0)
    return storage_fail(ret_error, r, "'%s' is not a volume name in pool '%s': %s",
                        name ? name : "", pool->name, why);
  return 0;
}

static int open_existing(VolumeData *d, int flags, char **ret_error) {
  int r;
  if (d->pool->type == POOL_TYPE_LOGICAL) {
    if ((r = storage_lvm_check_data(d->drv, d->pool, d->name, ret_error)) < 0)
      return r;
    return storage_lvm_open(d->pool, d->name, flags, &d->fd, &d->size, ret_error);
  }
  if ((r = storage_fs_open_dir(d->drv, d->pool, &d->dirfd, ret_error)) < 0)
    return r;
  struct stat st;
  if ((r = storage_file_open(d->pool, d->dirfd, d->name, flags, &d->fd, &st, ret_error)) < 0)
    return r;
  d->size = (uint64_t)st.st_size;
  return 0;
}

int volume_data_open_read(StorageDriver *drv, const PoolDef *pool, const char *name,
                          VolumeData **ret_data, char **ret_error) {
  int r = check_name(pool, name, ret_error);
  if (r < 0)
    return r;
  g_autoptr(VolumeData) d = data_new(drv, pool, name);
  if ((r = open_existing(d, O_RDONLY, ret_error)) < 0)
    return r;
  *ret_data = g_steal_pointer(&d);
  return 0;
}

int volume_data_open_write(StorageDriver *drv, const PoolDef *pool, const char *name,
                           unsigned flags, VolumeData **ret_data, char **ret_error) {
  int r = check_name(pool, name, ret_error);
  if (r < 0)
    return r;
  g_autoptr(VolumeData) d = data_new(drv, pool, name);
  d->writing = true;
  if (pool->type == POOL_TYPE_LOGICAL || (flags & VOLUME_DATA_IN_PLACE)) {
    d->in_place = true;
    if ((r = open_existing(d, O_WRONLY, ret_error)) < 0)
      return r;
    *ret_data = g_steal_pointer(&d);
    return 0;
  }
  if ((r = storage_fs_open_dir(drv, pool, &d->dirfd, ret_error)) < 0)
    return r;
  struct stat st;
  if (fstatat(d->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
    return storage_fail(ret_error, -EEXIST,
                        "'%s' in pool '%s' exists and is not a regular file; not replacing it",
                        name, pool->name);
  if ((r = storage_tmp_open(pool, d->dirfd, name, "upload", VOLUME_DEFAULT_MODE, true, &d->tmp,
                            ret_error)) < 0)
    return r;
  d->fd = d->tmp.fd;
  *ret_data = g_steal_pointer(&d);
  return 0;
}

int volume_data_fd(const VolumeData *d) {
  return d->fd;
}

uint64_t volume_data_size(const VolumeData *d) {
  return d->size;
}

ssize_t volume_data_read(VolumeData *d, void *buf, size_t len, off_t offset) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(d->fd, (char *)buf + done, len - done, offset + (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return done ? (ssize_t)done : -errno;
    if (n == 0)
      break;
    done += (size_t)n;
  }
  return (ssize_t)done;
}

ssize_t volume_data_write(VolumeData *d, const void *buf, size_t len, off_t offset) {
  if (!d->writing || d->finished)
    return -EBADF;
  size_t done = 0;
  while (done < len) {
    ssize_t n = pwrite(d->fd, (const char *)buf + done, len - done, offset + (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      if (!d->error)
        d->error = -e;
      return -e;
    }
    done += (size_t)n;
  }
  return (ssize_t)done;
}

int volume_data_truncate(VolumeData *d, off_t length) {
  if (!d->writing || d->in_place || d->finished)
    return -EINVAL;
  if (ftruncate(d->fd, length) < 0) {
    int e = errno;
    if (!d->error)
      d->error = -e;
    return -e;
  }
  return 0;
}

/* A qcow2 upload must be an image qemu-img can read before it is listed. */
static int check_upload(VolumeData *d, VolumeFormat *ret_format, char **ret_error) {
  unsigned char head[STORAGE_PROBE_BYTES];
  ssize_t n = pread(d->fd, head, sizeof(head), 0);
  if (n < 0)
    return storage_fail(ret_error, -errno, "%s", g_strerror(errno));
  *ret_format = storage_format_detect(head, (size_t)n);
  if (*ret_format != VOLUME_FORMAT_QCOW2)
    return 0;
  int r = storage_tmp_name(d->pool, d->dirfd, &d->tmp, d->name, ret_error);
  if (r < 0)
    return r;
  g_autofree char *path = pool_volume_path(d->pool, d->tmp.name);
  g_autoptr(QemuImgInfo) info = NULL;
  g_autofree char *why = NULL;
  if ((r = storage_qemu_img_info(d->drv, path, VOLUME_FORMAT_QCOW2, &info, &why)) < 0)
    return storage_fail(ret_error, -EINVAL,
                        "the data starts like a qcow2 image but qemu-img cannot read it: %s", why);
  return 0;
}

int volume_data_commit(VolumeData *d, VolumeDef **ret_vol, char **ret_error) {
  if (!d->writing || d->finished)
    return storage_fail(ret_error, -EINVAL, "volume '%s': nothing to commit", d->name);
  d->finished = true;
  int r = d->error;
  if (r == 0 && fdatasync(d->fd) < 0)
    r = -errno;
  if (d->in_place) {
    if (r < 0)
      return storage_fail(ret_error, r, "writing volume '%s' in pool '%s' failed: %s", d->name,
                          d->pool->name, g_strerror(-r));
  } else {
    if (r < 0) {
      storage_tmp_discard(d->dirfd, &d->tmp);
      d->fd = -1;
      return storage_fail(ret_error, r,
                          "upload of volume '%s' into pool '%s' failed: %s; nothing was changed",
                          d->name, d->pool->name, g_strerror(-r));
    }
    VolumeFormat format;
    g_autofree char *why = NULL;
    if ((r = check_upload(d, &format, &why)) < 0) {
      storage_tmp_discard(d->dirfd, &d->tmp);
      d->fd = -1;
      return storage_fail(ret_error, r, "upload of volume '%s' into pool '%s' refused: %s",
                          d->name, d->pool->name, why);
    }
    /* Replacing keeps the old volume's mode and owner. */
    struct stat st;
    bool replace = fstatat(d->dirfd, d->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                   S_ISREG(st.st_mode);
    if (replace) {
      StoragePermissions perms = {st.st_mode & 07777, (long)st.st_uid, (long)st.st_gid};
      if ((r = storage_set_perms_fd(d->fd, &perms, d->name, ret_error)) < 0) {
        storage_tmp_discard(d->dirfd, &d->tmp);
        d->fd = -1;
        return r;
      }
    }
    r = storage_tmp_commit(d->pool, d->dirfd, &d->tmp, d->name, replace, ret_error);
    d->fd = -1; /* closed by the commit */
    if (r < 0)
      return r;
  }
  if (ret_vol)
    return storage_volume_get(d->drv, d->pool, d->name, ret_vol, ret_error);
  return 0;
}
