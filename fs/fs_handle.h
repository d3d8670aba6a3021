/* fs_handle.h — an open file of the tree. A handle remembers what it points
 * at (object reference + table entry, or scratch file, or stream) so later
 * calls never resolve the path again; a handle to an object that was
 * removed meanwhile fails with ENOENT.
 *
 * Table files: a read-only handle holds the snapshot rendered at open (rule
 * 6: consistent reads). A writable handle holds its own buffer, assembled by
 * offset (rule 4), starting from the current content unless opened with
 * O_TRUNC; it is "dirty" only once written or truncated (clients.md 1: an
 * early flush of a handle that wrote nothing does nothing). `lock` guards the
 * buffer against concurrent calls on one descriptor. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs/fs_files.h"
#include "fs/fs_scratch.h"

typedef enum {
  FS_HANDLE_TABLE,
  FS_HANDLE_SCRATCH,
  FS_HANDLE_STREAM,
} FsHandleType;

struct FsHandle {
  FsHandleType type;
  Obj *obj;                 /* reference; NULL for root and node files */
  const FsFile *file;       /* TABLE and STREAM */
  char *entry;              /* TABLE: the entry of a listing directory
                               (history/0001.xml) whose snapshot buf holds */
  FsScratch *scratch;       /* SCRATCH: reference */
  GMutex lock;
  GString *buf;             /* TABLE: snapshot or write buffer */
  bool writable;
  bool dirty;               /* content to apply at flush */
  bool wrote;               /* write() was called (not only a truncation) */
  void *stream;             /* STREAM: state owned by the stream's ops */
  struct fuse_pollhandle *poll_handle; /* STREAM: last poll registration */
};

FsHandle *fs_handle_new(FsHandleType type, Obj *obj, const FsFile *file);
void fs_handle_free(FsHandle *h);

/* Table files: writes `size` bytes at `offset` into the buffer (CTL files
 * append whatever the offset) and applies complete lines of VALUE and CTL
 * files at once. Returns size or -errno. */
int fs_handle_write(FsContext *ctx, FsHandle *h, const char *data, size_t size, off_t offset);

/* Resizes the buffer of a writable table handle; marks it dirty when the
 * content changes. */
int fs_handle_truncate(FsHandle *h, off_t size);

/* Applies what a dirty handle holds (flush, release: `last`). 0 when
 * nothing is pending. A ctl line waiting for its next line (a password)
 * stays until the last close. A handle that only truncated (truncate(1), ftruncate without a
 * write) applies nothing: its size is kept for the next writer of the file
 * (fs_pending.h), since an empty document or value is never what is meant. */
int fs_handle_commit(FsContext *ctx, FsHandle *h, bool last);

/* Applies `len` bytes as the new content of a table file of obj, exactly as
 * a write+close would: the single place where VALUE trimming, DOCUMENT
 * parsing and CTL line splitting happen. On failure stores the sentence in
 * the object's error file. Used by handles and by rename(scratch -> file). */
int fs_apply_content(FsContext *ctx, Obj *obj, const FsFile *file, const char *data,
                     size_t len);

/* Renders the current content of a table file into out. */
int fs_render(FsContext *ctx, Obj *obj, const FsFile *file, GString *out);
