/* fs_scratch.c — in-memory scratch files; see fs_scratch.h. */
#include "fs/fs_scratch.h"

#include <errno.h>
#include <string.h>

static void now(struct timespec *ts) {
  clock_gettime(CLOCK_REALTIME, ts);
}

FsScratch *fs_scratch_new(mode_t mode, uid_t uid, gid_t gid) {
  static gint64 next_ino = 1;
  FsScratch *s = g_new0(FsScratch, 1);
  s->refcount = 1;
  g_mutex_init(&s->lock);
  s->data = g_byte_array_new();
  s->mode = mode & 07777;
  s->uid = uid;
  s->gid = gid;
  now(&s->mtime);
  s->atime = s->ctime = s->mtime;
  s->ino = (uint64_t)g_atomic_pointer_add(&next_ino, 1);
  return s;
}

FsScratch *fs_scratch_ref(FsScratch *s) {
  g_atomic_int_inc(&s->refcount);
  return s;
}

void fs_scratch_unref(FsScratch *s) {
  if (!s || !g_atomic_int_dec_and_test(&s->refcount))
    return;
  g_byte_array_unref(s->data);
  g_mutex_clear(&s->lock);
  g_free(s);
}

void fs_scratch_stat(FsScratch *s, struct stat *st) {
  g_mutex_lock(&s->lock);
  st->st_mode = S_IFREG | s->mode;
  st->st_nlink = 1;
  st->st_uid = s->uid;
  st->st_gid = s->gid;
  st->st_size = s->data->len;
  st->st_blocks = (s->data->len + 511) / 512;
  st->st_atim = s->atime;
  st->st_mtim = s->mtime;
  st->st_ctim = s->ctime;
  g_mutex_unlock(&s->lock);
}

static int truncate_locked(FsScratch *s, size_t size) {
  if (size > FS_SCRATCH_MAX_SIZE)
    return -EFBIG;
  size_t old = s->data->len;
  g_byte_array_set_size(s->data, (guint)size);
  if (size > old)
    memset(s->data->data + old, 0, size - old);
  now(&s->mtime);
  s->ctime = s->mtime;
  return 0;
}

int fs_scratch_truncate(FsScratch *s, off_t size) {
  if (size < 0)
    return -EINVAL;
  g_mutex_lock(&s->lock);
  int r = truncate_locked(s, (size_t)size);
  g_mutex_unlock(&s->lock);
  return r;
}

int fs_scratch_write(FsScratch *s, const char *buf, size_t size, off_t offset) {
  if (offset < 0 || (uint64_t)offset + size > FS_SCRATCH_MAX_SIZE)
    return -EFBIG;
  g_mutex_lock(&s->lock);
  if ((size_t)offset + size > s->data->len)
    truncate_locked(s, (size_t)offset + size);
  memcpy(s->data->data + offset, buf, size);
  now(&s->mtime);
  s->ctime = s->mtime;
  g_mutex_unlock(&s->lock);
  return (int)size;
}

int fs_scratch_read(FsScratch *s, char *buf, size_t size, off_t offset) {
  g_mutex_lock(&s->lock);
  size_t len = s->data->len;
  size_t n = 0;
  if (offset >= 0 && (size_t)offset < len) {
    n = MIN(size, len - (size_t)offset);
    memcpy(buf, s->data->data + offset, n);
  }
  g_mutex_unlock(&s->lock);
  return (int)n;
}

GBytes *fs_scratch_content(FsScratch *s) {
  g_mutex_lock(&s->lock);
  GBytes *b = g_bytes_new(s->data->data, s->data->len);
  g_mutex_unlock(&s->lock);
  return b;
}
