/* storage_parse.h — the pure parsers and builders of the storage driver:
 * image format detection from a file's first bytes, the output of blkid,
 * lvs, vgs and /proc/self/mountinfo, mkfs argv, and the one mapping from a
 * helper program's exit to an errno. No I/O, no globals: the callers read
 * the text and run the argv.
 *
 * Error convention: 0 or -EINVAL (text that does not have the expected
 * shape), outputs written only on success. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "objects/pool_def.h"
#include "objects/volume_def.h"

/* How many leading bytes storage_format_detect() wants. */
#define STORAGE_PROBE_BYTES 512

/* qcow2 when `buf` starts with the magic "QFI\xfb" and a version 2 or 3
 * header; raw otherwise (libvirt's rule: anything unrecognized is raw).
 * Never fails. */
VolumeFormat storage_format_detect(const void *buf, size_t len);

/* `blkid -p -o export DEV` output: KEY=VALUE lines. Sets *ret_type (the
 * filesystem or signature: "ext4", "LVM2_member", ...) and *ret_pttype (a
 * partition table: "dos", "gpt"), each NULL when absent. */
int storage_blkid_parse(const char *text, char **ret_type, char **ret_pttype);

/* Finds the mount on `target` in /proc/self/mountinfo text (the last one
 * listed wins, as with stacked mounts). Returns 1 and the source and fstype
 * (either ret_ may be NULL), or 0 when nothing is mounted there. Octal
 * escapes (\040) are decoded. */
int storage_mountinfo_find(const char *text, const char *target, char **ret_source,
                           char **ret_fstype);

/* Whether `source` is the mount source of any line (for "is this device
 * mounted anywhere?"). */
bool storage_mountinfo_has_source(const char *text, const char *source);

/* Every mount source listed, in order (NULL-terminated, decoded). */
GStrv storage_mountinfo_sources(const char *text);

typedef struct {
  char *name;
  uint64_t size;   /* bytes */
  char *attr;      /* lv_attr, e.g. "-wi-a-----" */
} StorageLv;

void storage_lv_free(StorageLv *lv);

/* `lvs --noheadings --nosuffix --units b --separator '|'
 *  -o lv_name,lv_size,lv_attr VG` output into a GPtrArray of StorageLv*
 * (owning), sorted by name. */
int storage_lvs_parse(const char *text, GPtrArray **ret_lvs);

/* `vgs --noheadings --nosuffix --units b --separator '|'
 *  -o vg_size,vg_free,vg_extent_size VG` output (one line). */
int storage_vgs_parse(const char *text, uint64_t *ret_size, uint64_t *ret_free,
                      uint64_t *ret_extent);

/* mkfs argv for a filesystem format of an fs pool: mkfs.ext4 -F -q DEV and
 * the like. NULL for POOL_FORMAT_AUTO/LVM2 (nothing to make). */
GStrv storage_mkfs_argv(PoolFormat format, const char *device);

/* A netfs pool's mount source: HOST:DIR (nfs, auto) or //HOST/SHARE
 * (cifs, SHARE = DIR without its leading '/'), as /proc/self/mountinfo
 * lists it. Newly allocated. */
char *storage_netfs_source(const PoolDef *pool);

/* "nfs", "cifs", or NULL for format auto (mount(8) picks). */
const char *storage_netfs_fstype(const PoolDef *pool);

/* The mount of a netfs pool, as libvirt runs it:
 *   mount -o nosuid,nodev,noexec[,nfsvers=V][,port=P] -t nfs HOST:DIR TARGET
 *   mount -o nosuid,nodev,noexec,guest[,port=P] -t cifs //HOST/SHARE TARGET
 *   mount -o nosuid,nodev,noexec[,nfsvers=V][,port=P] HOST:DIR TARGET (auto)
 * The parser keeps ',' out of host and dir, so nothing becomes an option. */
GStrv storage_netfs_mount_argv(const PoolDef *pool);

/* Whether /proc/filesystems text lists `fstype` (e.g. "nfs"): whether this
 * kernel can mount it without loading a module. */
bool storage_filesystems_has(const char *text, const char *fstype);

/* The one place a helper program's result becomes an errno.
 * `wait_status` as from waitpid(); `stderr_text` may be NULL.
 *  - exit 0                                     -> 0
 *  - stderr names a system error (strerror text or the helper's own words):
 *    No space left / Insufficient free space    -> -ENOSPC
 *    Permission denied                          -> -EACCES
 *    Operation not permitted                    -> -EPERM
 *    No such file / not found                   -> -ENOENT
 *    busy / in use / Failed to get "write" lock -> -EBUSY
 *    File exists / already exists               -> -EEXIST
 *    Invalid argument / Parameter ... must be   -> -EINVAL
 *    not supported                              -> -EOPNOTSUPP
 *  - killed by a signal or anything else        -> -EIO */
int storage_exit_errno(int wait_status, const char *stderr_text);
