/* fs_scratch.h — scratch files: any name in an object directory that is not
 * one of the object's own files may be created as an ordinary in-memory file
 * (sed's sedXXXXXX, rsync's .config.xml.XXXXXX, vim's swap and backup files,
 * Ansible's temporaries). Renaming one onto a table file commits its content
 * (fs_ops.c). They live in Obj.scratch under Obj.lock and are lost when the
 * daemon stops. Each is reference-counted so an open handle survives unlink.
 * `lock` protects data and attributes. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* At most this many bytes per scratch file and this many per object: they
 * are for temporaries of definitions, not for storing data. */
#define FS_SCRATCH_MAX_SIZE (4 * 1024 * 1024)
#define FS_SCRATCH_MAX_FILES 64

typedef struct FsScratch {
  gint refcount;
  GMutex lock;
  GByteArray *data;
  mode_t mode;     /* permission bits */
  uid_t uid;
  gid_t gid;
  struct timespec atime, mtime, ctime;
  uint64_t ino;
} FsScratch;

FsScratch *fs_scratch_new(mode_t mode, uid_t uid, gid_t gid);
FsScratch *fs_scratch_ref(FsScratch *s);
void fs_scratch_unref(FsScratch *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FsScratch, fs_scratch_unref)

/* Fills st from the scratch file (takes its lock). */
void fs_scratch_stat(FsScratch *s, struct stat *st);
/* Sets the size, zero-filling growth. -EFBIG over FS_SCRATCH_MAX_SIZE. */
int fs_scratch_truncate(FsScratch *s, off_t size);
int fs_scratch_write(FsScratch *s, const char *buf, size_t size, off_t offset);
int fs_scratch_read(FsScratch *s, char *buf, size_t size, off_t offset);
/* A copy of the content. */
GBytes *fs_scratch_content(FsScratch *s);
