/* fs_volume_data.c — a volume's `data` file: its bytes as stored (the qcow2
 * container for qcow2 volumes), streamed between FUSE requests and the
 * storage driver's VolumeData at the caller's offsets, one request at a
 * time and never buffered whole.
 *
 * Modes, chosen at open:
 *   read-only      a download (volume_data_open_read);
 *   O_TRUNC        an upload: writes go to an unnamed file in the pool, and
 *                  the first flush (close) after a write commits it — the
 *                  driver detects the format and renames it over the volume.
 *                  A failed write (ENOSPC...) poisons the handle: nothing
 *                  is committed, the old content stays, `error` says why.
 *                  A writer killed by a signal (Ctrl-C on cp) commits
 *                  nothing either;
 *   otherwise      writes go into the volume in place (dd conv=notrunc,
 *                  qemu-img convert -n); truncation to 0 turns the handle
 *                  into an upload (qemu-img convert truncates its target).
 * Writes that arrive after a commit (a shared descriptor closed once by a
 * child, then written again) continue in place in the committed volume.
 *
 * Locking: `lock` is taken shared by reads and writes (concurrent pread/
 * pwrite on one descriptor are fine) and exclusively to switch modes and
 * to commit; the commit also takes the pool's operation lock. */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/fs_common_files.h"
#include "fs/fs_handle.h"
#include "fs/fs_pools.h"
#include "fs/fs_request.h"

/* st_blksize of data files: tools size their buffers from it (cp, cat,
 * cmp), so each FUSE request carries this much. 512 KiB measured best:
 * 128 KiB costs 20-30% in requests, and 1 MiB reads no longer fit in a
 * spliced reply (fs_ops.c). */
#define DATA_BLKSIZE (512 * 1024)

typedef struct {
  GRWLock lock;
  Obj *vol;             /* reference */
  PoolDef *pool;        /* the pool's definition at open */
  char *name;
  bool writer;
  bool rdwr;
  bool upload;          /* vd is an upload, not in place */
  VolumeData *vd;       /* the stream; NULL after a commit */
  VolumeData *rd;       /* reads of an O_RDWR in-place handle */
  gint wrote;           /* written or truncated since the last commit */
  gint failed;          /* first failed write (negative errno): commit nothing */
} DataStream;

static StorageDriver *driver(FsContext *ctx) {
  return fs_pools_driver(ctx);
}

static void stream_free(DataStream *ds) {
  volume_data_close(ds->vd);
  volume_data_close(ds->rd);
  pool_def_free(ds->pool);
  g_free(ds->name);
  obj_unref(ds->vol);
  g_rw_lock_clear(&ds->lock);
  g_free(ds);
}

static int open_write(FsContext *ctx, DataStream *ds, bool upload, char **ret_error) {
  unsigned flags = upload ? 0 : VOLUME_DATA_IN_PLACE;
  int r = volume_data_open_write(driver(ctx), ds->pool, ds->name, flags, &ds->vd, ret_error);
  if (r == 0)
    ds->upload = upload && ds->pool->type != POOL_TYPE_LOGICAL;
  return r;
}

static int data_open(FsContext *ctx, Obj *obj, FsHandle *h, int flags) {
  int acc = flags & O_ACCMODE;
  if (!fs_pool_is_active(obj->parent)) {
    obj_set_error(obj, "data: the pool is not active");
    return -EBUSY;
  }
  DataStream *ds = g_new0(DataStream, 1);
  g_rw_lock_init(&ds->lock);
  ds->vol = obj_ref(obj);
  ds->pool = fs_obj_copy_def(obj->parent);
  ds->name = obj_dup_name(obj);
  ds->writer = acc != O_RDONLY;
  ds->rdwr = acc == O_RDWR;
  g_autofree char *error = NULL;
  int r;
  if (!ds->writer) {
    r = volume_data_open_read(driver(ctx), ds->pool, ds->name, &ds->vd, &error);
  } else if (fs_volume_in_use(ctx, obj)) {
    error = g_strdup_printf("volume '%s' is used by a running domain", ds->name);
    r = -EBUSY;
  } else {
    r = open_write(ctx, ds, (flags & O_TRUNC) != 0, &error);
    if (r == 0 && ds->rdwr && !ds->upload)
      r = volume_data_open_read(driver(ctx), ds->pool, ds->name, &ds->rd, &error);
  }
  if (r < 0) {
    obj_set_error(obj, "data: %s", error ? error : g_strerror(-r));
    stream_free(ds);
    return r;
  }
  h->stream = ds;
  return 0;
}

static ssize_t data_pread(FsContext *ctx, FsHandle *h, char *buf, size_t size, off_t offset) {
  DataStream *ds = h->stream;
  g_rw_lock_reader_lock(&ds->lock);
  VolumeData *src = ds->rd ? ds->rd : ds->vd;
  ssize_t n = -EBADF;
  if (src && (!ds->writer || ds->rdwr))
    n = volume_data_read(src, buf, size, offset);
  g_rw_lock_reader_unlock(&ds->lock);
  return n;
}

static void record_failure(DataStream *ds, int err, off_t offset) {
  if (!g_atomic_int_compare_and_exchange(&ds->failed, 0, err))
    return;
  if (ds->upload)
    obj_set_error(ds->vol, "data: writing at byte %lld failed: %s; the upload is discarded "
                  "and volume '%s' keeps its old content", (long long)offset, g_strerror(-err),
                  ds->name);
  else
    obj_set_error(ds->vol, "data: writing at byte %lld failed: %s; what was written before "
                  "stays in volume '%s'", (long long)offset, g_strerror(-err), ds->name);
}

/* After a commit the stream is closed; more writes go on in place. Called
 * with the lock held exclusively. */
static int reopen_in_place(FsContext *ctx, DataStream *ds) {
  if (ds->vd)
    return 0;
  g_autofree char *error = NULL;
  int r = open_write(ctx, ds, false, &error);
  if (r < 0)
    obj_set_error(ds->vol, "data: %s", error);
  return r;
}

/* Takes the lock shared with a stream to write into; 0 or -errno. */
static int lock_for_write(FsContext *ctx, DataStream *ds) {
  int failed = g_atomic_int_get(&ds->failed);
  if (failed)
    return failed;
  g_rw_lock_reader_lock(&ds->lock);
  while (!ds->vd) {
    g_rw_lock_reader_unlock(&ds->lock);
    g_rw_lock_writer_lock(&ds->lock);
    int r = reopen_in_place(ctx, ds);
    g_rw_lock_writer_unlock(&ds->lock);
    if (r < 0)
      return r;
    g_rw_lock_reader_lock(&ds->lock);
  }
  return 0;
}

static ssize_t finish_write(DataStream *ds, ssize_t n, off_t offset) {
  g_rw_lock_reader_unlock(&ds->lock);
  if (n < 0)
    record_failure(ds, (int)n, offset);
  else
    g_atomic_int_set(&ds->wrote, 1);
  return n;
}

static ssize_t data_pwrite(FsContext *ctx, FsHandle *h, const char *buf, size_t size,
                           off_t offset) {
  DataStream *ds = h->stream;
  int r = lock_for_write(ctx, ds);
  if (r < 0)
    return r;
  return finish_write(ds, volume_data_write(ds->vd, buf, size, offset), offset);
}

/* The request's bytes go from FUSE's pipe (or buffer) straight into the
 * stream's descriptor; a failure poisons the handle as in data_pwrite. */
static ssize_t data_pwrite_buf(FsContext *ctx, FsHandle *h, struct fuse_bufvec *buf,
                               off_t offset) {
  DataStream *ds = h->stream;
  int r = lock_for_write(ctx, ds);
  if (r < 0)
    return r;
  size_t size = fuse_buf_size(buf);
  struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
  dst.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
  dst.buf[0].fd = volume_data_fd(ds->vd);
  dst.buf[0].pos = offset;
  /* fuse_buf_copy stops at the first short write and reports what it
   * copied; both vectors advance, so asking again continues, and answers
   * the error (ENOSPC) once nothing more can be written. */
  size_t done = 0;
  ssize_t n = 0;
  while (done < size) {
    n = fuse_buf_copy(&dst, buf, 0);
    if (n <= 0) {
      n = n < 0 ? n : -EIO;
      break;
    }
    done += (size_t)n;
    n = (ssize_t)done;
  }
  return finish_write(ds, n, offset);
}

/* Downloads are spliced from the volume; writers read through pread. */
static int data_read_fd(FsContext *ctx, FsHandle *h) {
  DataStream *ds = h->stream;
  return ds->writer ? -EAGAIN : volume_data_fd(ds->vd);
}

static int data_truncate(FsContext *ctx, FsHandle *h, off_t size) {
  DataStream *ds = h->stream;
  g_rw_lock_writer_lock(&ds->lock);
  int r = 0;
  if (ds->vd && ds->upload) {
    r = volume_data_truncate(ds->vd, size);
    if (r < 0)
      record_failure(ds, r, size);
  } else if (size == 0) {
    /* Emptying the volume in place: start an upload instead, so the old
     * content stays whole until the new one is complete. */
    VolumeData *old = g_steal_pointer(&ds->vd);
    volume_data_close(g_steal_pointer(&ds->rd));
    g_autofree char *error = NULL;
    r = open_write(ctx, ds, true, &error);
    if (r < 0) {
      ds->vd = old;
      obj_set_error(ds->vol, "data: %s", error);
    } else {
      volume_data_close(old);
    }
  } else {
    uint64_t cur = ds->vd ? volume_data_size(ds->vd) : (uint64_t)-1;
    if ((uint64_t)size != cur) {
      obj_set_error(ds->vol, "data: writing in place cannot change the size of volume '%s'; "
                    "open with O_TRUNC to replace the content, or write capacity", ds->name);
      r = -EINVAL;
    }
  }
  if (r == 0)
    g_atomic_int_set(&ds->wrote, 1);
  g_rw_lock_writer_unlock(&ds->lock);
  return r;
}

/* Whether the process that closes the file is dying from a signal (cp
 * interrupted by Ctrl-C): the kernel closes its files — and FUSE sends a
 * flush — after setting its exit code, so /proc shows PF_EXITING and the
 * signal. A normal exit or close() is not such a death. */
static bool closer_was_killed(pid_t pid) {
  if (pid <= 0)
    return false;
  char path[64];
  g_snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return false;
  const char *p = strrchr(text, ')');
  if (!p)
    return false;
  g_auto(GStrv) fields = g_strsplit(p + 2, " ", -1);
  /* after "pid (comm) ": [0] state (field 3), [6] flags (9), [49] exit_code (52) */
  if (g_strv_length(fields) < 50)
    return false;
  unsigned long flags = strtoul(fields[6], NULL, 10);
  long exit_code = strtol(fields[49], NULL, 10);
  const unsigned long pf_exiting = 0x4;
  return (flags & pf_exiting) && (exit_code & 0x7f) != 0;
}

static int commit_locked(FsContext *ctx, DataStream *ds, VolumeData *vd, char **ret_error) {
  g_mutex_lock(&ds->vol->lock);
  bool removed = ds->vol->removed;
  g_mutex_unlock(&ds->vol->lock);
  if (removed || !fs_pool_is_active(ds->vol->parent)) {
    *ret_error = g_strdup_printf("volume '%s' was removed or its pool stopped during the "
                                 "upload; nothing was committed", ds->name);
    return -ENOENT;
  }
  int r = volume_data_commit(vd, NULL, ret_error);
  g_autofree char *error = NULL;
  fs_pool_sync_volume_locked(ctx, ds->vol->parent, ds->name, true, NULL, &error);
  return r;
}

static int data_flush(FsContext *ctx, FsHandle *h) {
  DataStream *ds = h->stream;
  if (!ds->writer)
    return 0;
  g_rw_lock_writer_lock(&ds->lock);
  int r = g_atomic_int_get(&ds->failed);
  if (!g_atomic_int_get(&ds->wrote) || !ds->vd) {
    /* an early flush (bash's redirections) or nothing new since the last */
    g_rw_lock_writer_unlock(&ds->lock);
    return r;
  }
  g_atomic_int_set(&ds->wrote, 0);
  VolumeData *vd = g_steal_pointer(&ds->vd);
  g_autofree char *error = NULL;
  if (r == 0 && ds->upload && closer_was_killed(fs_request_pid())) {
    r = -EINTR;
    g_atomic_int_set(&ds->failed, r);
    obj_set_error(ds->vol, "data: the writer was killed before it finished; the upload is "
                  "discarded and volume '%s' keeps its old content", ds->name);
  } else if (r == 0) {
    fs_pool_lock(ctx, ds->vol->parent);
    r = commit_locked(ctx, ds, vd, &error);
    fs_pool_unlock(ctx, ds->vol->parent);
    if (r < 0) {
      g_atomic_int_set(&ds->failed, r);
      obj_set_error(ds->vol, "data: %s", error);
    }
  }
  volume_data_close(vd);
  g_rw_lock_writer_unlock(&ds->lock);
  return r;
}

static void data_release(FsContext *ctx, FsHandle *h) {
  DataStream *ds = h->stream;
  h->stream = NULL;
  if (ds)
    stream_free(ds); /* an upload not committed is discarded */
}

/* Size and allocation of the bytes as stored (not the virtual size). */
static int data_stat(FsContext *ctx, Obj *obj, struct stat *st) {
  st->st_blksize = DATA_BLKSIZE;
  if (!fs_pool_is_active(obj->parent))
    return 0;
  g_autoptr(PoolDef) pool = fs_obj_copy_def(obj->parent);
  g_autofree char *name = obj_dup_name(obj);
  g_autofree char *error = NULL;
  g_autoptr(VolumeData) vd = NULL;
  if (volume_data_open_read(driver(ctx), pool, name, &vd, &error) < 0)
    return 0; /* e.g. an LV without device-mapper: no bytes to show */
  struct stat real;
  st->st_size = (off_t)volume_data_size(vd);
  if (fstat(volume_data_fd(vd), &real) == 0) {
    /* the image's own times, so rsync and make compare the right thing */
    st->st_mtim = real.st_mtim;
    st->st_ctim = real.st_ctim;
    st->st_atim = real.st_atim;
    if (S_ISREG(real.st_mode))
      st->st_blocks = real.st_blocks;
  }
  return 0;
}

const FsStreamOps fs_volume_data_ops = {
  .open = data_open,
  .release = data_release,
  .pread = data_pread,
  .pwrite = data_pwrite,
  .pwrite_buf = data_pwrite_buf,
  .read_fd = data_read_fd,
  .truncate = data_truncate,
  .flush = data_flush,
  .stat = data_stat,
};
