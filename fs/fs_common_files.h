/* fs_common_files.h — handlers shared by the file tables of every kind:
 * config.xml, uuid, autostart and error. */
#pragma once

#include "fs/fs_files.h"

int fs_config_read(FsContext *ctx, Obj *obj, GString *out);
/* Parses with the kind's parser and replaces the definition through the
 * registry (same name required, unique UUID, identical content a no-op). */
int fs_config_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error);
int fs_uuid_read(FsContext *ctx, Obj *obj, GString *out);
int fs_autostart_read(FsContext *ctx, Obj *obj, GString *out);
int fs_autostart_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error);
int fs_error_read(FsContext *ctx, Obj *obj, GString *out);
/* Any write (an empty one included) clears the error. */
int fs_error_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error);
/* The `error` entry of every kind's table: any write, and emptying it,
 * clears it. */
#define FS_ERROR_FILE \
  {"error", FS_FILE_VALUE, 0644, fs_error_read, fs_error_write, .empty_applies = true}

/* Streams that serve a snapshot taken at open (screen.png, metrics):
 * copies up to `size` bytes of `bytes` from `offset`. Returns the count. */
ssize_t fs_bytes_pread(GBytes *bytes, char *buf, size_t size, off_t offset);

/* A ctl verb acting through the QEMU driver, and the dispatch of a ctl
 * line over a table of them (domains, snapshots): the verb is looked up,
 * its argument count checked, and a failure becomes "ctl LINE: sentence".
 * Reading ctl lists the verbs. A verb has `func` (no argument) or
 * `func_arg`, which gets the rest of the line after the verb, trimmed (""
 * when there is none; the handler checks it). */
typedef struct QemuDriver QemuDriver;
typedef struct {
  const char *verb;
  int (*func)(QemuDriver *driver, Obj *obj, char **ret_error);
  int (*func_arg)(QemuDriver *driver, Obj *obj, const char *arg, char **ret_error);
} FsQemuVerb;
int fs_qemu_verbs_read(const FsQemuVerb *verbs, size_t n, GString *out);
int fs_qemu_verbs_dispatch(FsContext *ctx, Obj *obj, const FsQemuVerb *verbs, size_t n,
                           const char *line, char **ret_error);

/* Copies the object's definition under its lock (free with type->free). */
void *fs_obj_copy_def(Obj *obj);
