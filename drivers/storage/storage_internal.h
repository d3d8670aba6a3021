/* storage_internal.h — what the storage driver's files share and nobody
 * else sees: the driver struct, running helper programs, and the per-type
 * backends that storage_driver.c dispatches to (storage_fs.c for dir and fs
 * pools and their files, storage_logical.c for LVM). Same contracts as
 * storage_driver.h. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "drivers/storage/qemu_img.h"
#include "drivers/storage/storage_driver.h"

struct StorageDriver {
  char *qemu_img;
  bool have_device_mapper;
  bool lvm_without_device_mapper;
};

/* Stores "PREFIX: text" style sentences: sets *ret_error (if not NULL,
 * replacing nothing: callers pass a fresh pointer) and returns `err`. */
int storage_fail(char **ret_error, int err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Runs argv (argv[0] is looked up in PATH, then /usr/sbin and /sbin, as the
 * LVM and mkfs tools live there) without a shell, with LC_ALL=C, stdin from
 * /dev/null and no inherited descriptors. 0 on exit status 0 (stdout in
 * *ret_stdout when not NULL); otherwise the errno from storage_exit_errno()
 * and "PROGRAM failed: STDERR" in *ret_error. A program that is not
 * installed is -EOPNOTSUPP. */
int storage_run(const char *const *argv, char **ret_stdout, char **ret_error);

/* The text of /proc/self/mountinfo. */
int storage_read_mountinfo(char **ret_text, char **ret_error);

/* `blkid -p -o export DEV`: *ret_type / *ret_pttype NULL when blank. */
int storage_probe_signature(const char *device, char **ret_type, char **ret_pttype,
                            char **ret_error);

/* Makes a copy of the bytes of fd `in` (from 0 to `size`) into `out`,
 * skipping holes (SEEK_DATA/SEEK_HOLE) and using copy_file_range where the
 * kernel allows. */
int storage_copy_sparse(int in, int out, uint64_t size, char **ret_error);

/* ---- dir and fs pools, file volumes (storage_fs.c) ---- */
int storage_fs_build(StorageDriver *drv, const PoolDef *pool, unsigned flags, char **ret_error);
int storage_fs_start(StorageDriver *drv, const PoolDef *pool, char **ret_error);
int storage_fs_stop(StorageDriver *drv, const PoolDef *pool, char **ret_error);
int storage_fs_delete(StorageDriver *drv, const PoolDef *pool, char **ret_error);
int storage_fs_is_active(StorageDriver *drv, const PoolDef *pool, bool *ret_active,
                         char **ret_error);
int storage_fs_info(StorageDriver *drv, const PoolDef *pool, PoolSizes *ret_sizes,
                    char **ret_error);
int storage_fs_refresh(StorageDriver *drv, const PoolDef *pool, GPtrArray **ret_volumes,
                       char **ret_error);
/* Opens the pool directory (O_DIRECTORY); for fs pools -EBUSY unless the
 * device is mounted there, so nothing is ever written under an unmounted
 * mount point. */
int storage_fs_open_dir(StorageDriver *drv, const PoolDef *pool, int *ret_dirfd,
                        char **ret_error);
/* Opens volume `name` itself relative to `dirfd` (O_NOFOLLOW, regular files
 * only; anything else is -ENOENT "not a volume"), with `flags` | O_CLOEXEC. */
int storage_file_open(const PoolDef *pool, int dirfd, const char *name, int flags, int *ret_fd,
                      struct stat *ret_st, char **ret_error);
/* fchmod/fchown from the permissions (explicitly: creation went through
 * the umask). */
/* What a volume read back shows of its file besides sizes: the times from
 * `st` and the security label the file really carries (its
 * security.selinux attribute; none when it has none), since virtfs applies
 * no label of its own. Read through `fd`, or `path` when fd is -1. */
void storage_describe_file(int fd, const char *path, const struct stat *st, VolumeDef *vol);

int storage_set_perms_fd(int fd, const StoragePermissions *perms, const char *volname,
                         char **ret_error);

/* A temporary file for a volume being made. Unnamed (O_TMPFILE) when
 * `unnamed_ok` and the filesystem allows: a crash then leaves nothing.
 * Otherwise a hidden name ".NAME.PURPOSE-XXXXXX", which listings skip. */
typedef struct {
  int fd;
  char *name; /* NULL for O_TMPFILE */
} TmpFile;
int storage_tmp_open(const PoolDef *pool, int dirfd, const char *volname, const char *purpose,
                     unsigned mode, bool unnamed_ok, TmpFile *ret_tmp, char **ret_error);
/* Gives an unnamed temporary file a hidden name (so a helper program can
 * open it by path); no-op when it has one. */
int storage_tmp_name(const PoolDef *pool, int dirfd, TmpFile *tmp, const char *volname,
                     char **ret_error);
/* Closes and removes it. */
void storage_tmp_discard(int dirfd, TmpFile *tmp);
/* Gives the finished file its volume name, replacing an existing volume
 * only when `replace` (-EEXIST otherwise); closes it either way. */
int storage_tmp_commit(const PoolDef *pool, int dirfd, TmpFile *tmp, const char *volname,
                       bool replace, char **ret_error);
/* Runs qemu-img info on `path` (read-only, -U) and parses it. */
int storage_qemu_img_info(StorageDriver *drv, const char *path, VolumeFormat format,
                          QemuImgInfo **ret_info, char **ret_error);
int storage_file_get(StorageDriver *drv, const PoolDef *pool, int dirfd, const char *name,
                     VolumeDef **ret_vol, char **ret_error);
int storage_file_create(StorageDriver *drv, const PoolDef *pool, const VolumeDef *def,
                        char **ret_error);
int storage_file_clone(StorageDriver *drv, const PoolDef *pool, const char *src_name,
                       const char *new_name, const VolumeDef *def, char **ret_error);
int storage_file_delete(StorageDriver *drv, const PoolDef *pool, const char *name,
                        char **ret_error);
int storage_file_rename(StorageDriver *drv, const PoolDef *pool, const char *name,
                        const char *new_name, char **ret_error);
int storage_file_resize(StorageDriver *drv, const PoolDef *pool, const char *name,
                        uint64_t capacity, unsigned flags, char **ret_error);
int storage_file_wipe(StorageDriver *drv, const PoolDef *pool, const char *name,
                      char **ret_error);

/* ---- logical pools (storage_logical.c) ---- */
int storage_lvm_build(StorageDriver *drv, const PoolDef *pool, unsigned flags, char **ret_error);
int storage_lvm_start(StorageDriver *drv, const PoolDef *pool, char **ret_error);
int storage_lvm_stop(StorageDriver *drv, const PoolDef *pool, char **ret_error);
int storage_lvm_delete(StorageDriver *drv, const PoolDef *pool, char **ret_error);
int storage_lvm_is_active(StorageDriver *drv, const PoolDef *pool, bool *ret_active,
                          char **ret_error);
int storage_lvm_info(StorageDriver *drv, const PoolDef *pool, PoolSizes *ret_sizes,
                     char **ret_error);
int storage_lvm_refresh(StorageDriver *drv, const PoolDef *pool, GPtrArray **ret_volumes,
                        char **ret_error);
int storage_lvm_get(StorageDriver *drv, const PoolDef *pool, const char *name,
                    VolumeDef **ret_vol, char **ret_error);
int storage_lvm_create(StorageDriver *drv, const PoolDef *pool, const VolumeDef *def,
                       char **ret_error);
int storage_lvm_clone(StorageDriver *drv, const PoolDef *pool, const char *src_name,
                      const char *new_name, const VolumeDef *def, char **ret_error);
int storage_lvm_delete_volume(StorageDriver *drv, const PoolDef *pool, const char *name,
                              char **ret_error);
int storage_lvm_rename(StorageDriver *drv, const PoolDef *pool, const char *name,
                       const char *new_name, char **ret_error);
int storage_lvm_resize(StorageDriver *drv, const PoolDef *pool, const char *name,
                       uint64_t capacity, unsigned flags, char **ret_error);
int storage_lvm_wipe(StorageDriver *drv, const PoolDef *pool, const char *name,
                     char **ret_error);
/* Opens the LV's device node and reads its size. */
int storage_lvm_open(const PoolDef *pool, const char *name, int flags, int *ret_fd,
                     uint64_t *ret_size, char **ret_error);
/* -EOPNOTSUPP with a sentence when LV data cannot be reached (no
 * device-mapper), else 0. */
int storage_lvm_check_data(StorageDriver *drv, const PoolDef *pool, const char *name,
                           char **ret_error);
