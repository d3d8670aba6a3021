/* storage_driver.h — virtfs's storage driver (libvirt's storage driver
 * equivalent): pools of type dir, fs and logical, and the volumes in them.
 * The fs/ layer maps /virt/pools/NAME/... onto these calls; nothing here
 * knows FUSE.
 *
 * Model. The driver is stateless: every call takes the pool's definition
 * (PoolDef) and finds the truth on the host (the directory, the mount table,
 * the volume group), so a restarted daemon sees what is really there and a
 * volume made by hand (cp, qemu-img, lvcreate) shows up at the next refresh.
 * Pool active state, autostart and the error file are the registry's.
 *
 * Threads. A StorageDriver is immutable after storage_driver_new() and may
 * be used from any thread. Every call blocks (it does I/O and runs helper
 * programs: qemu-img, mount, mkfs.*, blkid, LVM tools), so call it with no
 * registry lock held. The caller serializes operations on one pool (build,
 * start, stop, delete) and on one volume; operations on different volumes
 * may run at once. Creation is exclusive (O_EXCL, RENAME_NOREPLACE,
 * lvcreate), so two racing creates of one name give one volume and -EEXIST.
 *
 * Errors. Every call returns 0 or a negative errno and, on failure, a
 * sentence in *ret_error (caller frees) that names the pool or volume and
 * includes the helper program's own message. Numbers used:
 *   -EINVAL      invalid request (bad name, shrink without the flag, ...)
 *   -ENOENT      pool directory, device, VG, volume or backing file missing
 *   -EEXIST      the volume exists; build would overwrite a filesystem
 *   -EBUSY       pool not active (fs not mounted) or still mounted/in use;
 *                the image is locked by a running QEMU
 *   -ENOTEMPTY   delete of a pool that still holds volumes
 *   -ENOSPC      no room in the pool (also for an upload)
 *   -EOPNOTSUPP  not possible for this pool type or host (qcow2 shrink,
 *                logical volumes without device-mapper, missing tool)
 *   -EACCES/-EPERM, -EIO (the helper failed for another reason)
 * Helper exit statuses become errnos in storage_exit_errno() only.
 *
 * Safety. Volume names are checked with pool_volume_name_validate() (no
 * '/', no leading '.', LVM's rules in logical pools), and volumes are
 * opened relative to the pool directory with O_NOFOLLOW: a symlink in a
 * pool is never followed, listed, written, or deleted through. Names
 * beginning with '.' are the driver's own temporary files and never listed.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "objects/pool_def.h"
#include "objects/volume_def.h"

typedef struct StorageDriver StorageDriver;

typedef struct {
  const char *qemu_img;      /* NULL = the configured VIRTFS_QEMU_IMG_BINARY */
  /* Hosts whose kernel has no device-mapper cannot activate logical
   * volumes. false (the default): creating, resizing or removing an LV
   * there fails with -EOPNOTSUPP. true: LVM metadata is changed without
   * activation (lvcreate --driverloaded n -an -Zn): the volume exists and is
   * listed, but its /dev node does not, so its data cannot be read or
   * written (-EOPNOTSUPP). Meant for tests and for preparing a VG that is
   * used elsewhere. */
  bool lvm_without_device_mapper;
} StorageDriverOptions;

/* `opts` may be NULL. Probes once whether the kernel has device-mapper. */
int storage_driver_new(const StorageDriverOptions *opts, StorageDriver **ret_driver,
                       char **ret_error);
void storage_driver_free(StorageDriver *drv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StorageDriver, storage_driver_free)

bool storage_driver_has_device_mapper(const StorageDriver *drv);

/* ---- pools ---- */

typedef enum {
  /* build: make a filesystem (fs) or PVs (logical) even where blkid finds an
   * existing filesystem, partition table or other signature. */
  STORAGE_BUILD_OVERWRITE = 1u << 0,
} StorageBuildFlags;

/* Prepares the pool's storage; idempotent (building a built pool is 0).
 *  dir:     mkdir -p the target, then apply its <permissions>.
 *  fs:      if <format> is a filesystem and the device has none, mkfs it
 *           (a device holding another filesystem or a partition table:
 *           -EEXIST unless STORAGE_BUILD_OVERWRITE; the same filesystem:
 *           left alone); a device that is mounted: -EBUSY. Format 'auto'
 *           makes no filesystem and needs one to be there. Then the target
 *           directory as for dir.
 *  logical: pvcreate the source devices and vgcreate the VG (a VG that
 *           already exists is left alone); devices with a signature:
 *           -EEXIST unless STORAGE_BUILD_OVERWRITE. */
int storage_pool_build(StorageDriver *drv, const PoolDef *pool, unsigned flags,
                       char **ret_error);

/* Makes the pool usable; idempotent.
 *  dir:     the target must be a directory (-ENOENT: build it first).
 *  fs:      mount -o nosuid,nodev[,loop] [-t FORMAT] DEVICE TARGET (an image
 *           file is mounted through a loop device that is released at
 *           unmount). Already mounted from this device: 0; something else
 *           mounted there: -EBUSY.
 *  logical: vgchange -aay VG. */
int storage_pool_start(StorageDriver *drv, const PoolDef *pool, char **ret_error);

/* Idempotent. dir: nothing. fs: umount2(TARGET) (-EBUSY while a volume is
 * open). logical: vgchange -an VG (-EBUSY while an LV is open). */
int storage_pool_stop(StorageDriver *drv, const PoolDef *pool, char **ret_error);

/* Removes what build made, only when no volume is left (-ENOTEMPTY).
 * dir and fs: rmdir the target (fs: -EBUSY while mounted; the device and its
 * filesystem are kept). logical: vgremove VG and pvremove its devices. */
int storage_pool_delete(StorageDriver *drv, const PoolDef *pool, char **ret_error);

/* Whether the pool is usable now: dir: the target is a directory; fs: the
 * device is mounted on the target; logical: the VG exists. For a daemon
 * that restarts and must find the truth. */
int storage_pool_is_active(StorageDriver *drv, const PoolDef *pool, bool *ret_active,
                           char **ret_error);

/* Capacity, allocation and available bytes: statvfs of the target (dir,
 * fs), vgs (logical). */
int storage_pool_info(StorageDriver *drv, const PoolDef *pool, PoolSizes *ret_sizes,
                      char **ret_error);

/* The volumes now in the pool, as VolumeDef* (owning array, sorted by
 * name), each as storage_volume_get() returns it. dir/fs: every regular
 * file whose name is a valid volume name (symlinks, directories and dot
 * files are skipped); logical: every LV of the VG. */
int storage_pool_refresh(StorageDriver *drv, const PoolDef *pool, GPtrArray **ret_volumes,
                         char **ret_error);

/* ---- volumes ---- */

/* The live definition of one volume: format detected from its first bytes,
 * capacity from the file size (raw), the qcow2 header (with backing store
 * and compat; read in-process, so listing a pool starts no program per
 * image; `qemu-img info` only for headers beyond that reader, e.g.
 * encrypted), or the LV size; allocation from st_blocks * 512 (the LV size
 * for LVs); permissions from stat. -ENOENT if absent. */
int storage_volume_get(StorageDriver *drv, const PoolDef *pool, const char *name,
                       VolumeDef **ret_vol, char **ret_error);

/* Creates a volume from `def` (resolved against the pool here; its
 * capacity must be set unless it is an overlay) and returns its live
 * definition. The volume appears under its name only once complete: files
 * are made under a hidden temporary name (or O_TMPFILE) and renamed into
 * place without replacing anything (-EEXIST).
 *  raw:   ftruncate to the capacity — sparse — then, when <allocation> is
 *         given, fallocate that many bytes (allocation >= capacity: fully
 *         allocated). -ENOSPC leaves nothing behind.
 *  qcow2: the empty image is written in-process (qcow2.h: ~1 ms instead
 *         of ~80 ms for starting qemu-img) with <compat> and, for an
 *         overlay, the backing file and format (probed from the backing
 *         file's first bytes when not given; capacity 0/unset = the backing
 *         file's). allocation >= capacity: qemu-img create -o
 *         preallocation=falloc instead.
 *  LV:    lvcreate -L CAPACITYb (rounded up to the VG's extent size). */
int storage_volume_create(StorageDriver *drv, const PoolDef *pool, const VolumeDef *def,
                          VolumeDef **ret_vol, char **ret_error);

/* Creates `new_name` as a copy of `src_name` in the same pool. `def` (may
 * be NULL; its name is not used) gives the new volume's format,
 * permissions and compat; NULL keeps the source's format and mode. raw -> raw is copied here keeping the
 * holes (SEEK_DATA/SEEK_HOLE + copy_file_range); anything involving qcow2
 * uses qemu-img convert, whose copy is standalone (an overlay's backing
 * chain is flattened into it). A source locked by a running QEMU: -EBUSY.
 * LV: lvcreate of the source's size, then a block copy. */
int storage_volume_clone(StorageDriver *drv, const PoolDef *pool, const char *src_name,
                         const char *new_name, const VolumeDef *def, VolumeDef **ret_vol,
                         char **ret_error);

/* unlinkat() of the file itself (never what a symlink points at; a name
 * that is not a regular file is not a volume: -ENOENT), or lvremove. */
int storage_volume_delete(StorageDriver *drv, const PoolDef *pool, const char *name,
                          char **ret_error);

/* Renames a volume within its pool without replacing anything: renameat2
 * with RENAME_NOREPLACE of the file itself (a name that is not a regular
 * file is not a volume: -ENOENT), or lvrename. -EEXIST when `new_name` is
 * taken, -EINVAL for a name invalid in the pool. The caller makes sure no
 * running QEMU uses the volume. */
int storage_volume_rename(StorageDriver *drv, const PoolDef *pool, const char *name,
                          const char *new_name, char **ret_error);

typedef enum {
  /* resize: allow a smaller capacity (raw files and LVs only; data past the
   * new end is lost). */
  STORAGE_RESIZE_SHRINK = 1u << 0,
} StorageResizeFlags;

/* Sets the capacity; the same capacity is a no-op (after rounding: qcow2 to
 * 512 bytes, LVs to the extent size). Growing: ftruncate (raw, stays
 * sparse), qemu-img resize (qcow2), lvresize. Shrinking: -EINVAL without
 * STORAGE_RESIZE_SHRINK; -EOPNOTSUPP for qcow2 in any case. */
int storage_volume_resize(StorageDriver *drv, const PoolDef *pool, const char *name,
                          uint64_t capacity, unsigned flags, char **ret_error);

/* Makes the volume's content read as zeros. raw: punch holes over the
 * whole file (re-allocated afterwards if it was fully allocated; written
 * with zeros where the filesystem cannot punch). qcow2: recreated empty with
 * the same capacity, compat, backing file and permissions (an overlay then
 * reads as its backing file again); the old file is replaced by rename, so
 * the caller must not wipe an image a running QEMU has open. LV:
 * BLKZEROOUT. */
int storage_volume_wipe(StorageDriver *drv, const PoolDef *pool, const char *name,
                        char **ret_error);

/* ---- streaming data (upload/download through a FUSE file) ----
 *
 * A VolumeData is one open stream on one volume. It is used by one thread
 * at a time (the FUSE handle's), and the caller reads and writes it in large
 * chunks at any offsets: nothing is buffered here; volume_data_fd() is there
 * for splice or pread/pwrite directly.
 *
 * Download (open_read) gives the volume's bytes as stored: the qcow2
 * container for qcow2 volumes (like `virsh vol-download`).
 *
 * Upload (open_write without VOLUME_DATA_IN_PLACE) writes into a new,
 * unnamed file in the pool (O_TMPFILE; a hidden ".NAME.upload-XXXXXX" name
 * where the filesystem lacks O_TMPFILE). Nothing is listed while it runs.
 * volume_data_commit() flushes it, detects its format from the first bytes
 * (data that starts like qcow2 but that qemu-img cannot read is refused with
 * -EINVAL), and only then puts it in place under the volume's name,
 * replacing the old volume if there was one (keeping its permissions and
 * owner) or creating it. Any failed write (the first error is kept: -ENOSPC, -EIO, ...) makes
 * commit fail with that error and discard the file; closing without commit
 * discards it too. So a failed or ENOSPC upload never leaves a half-made
 * volume listed as good, and the old content stays whole until the new
 * one is complete. Two uploads to one name: the last commit wins.
 *
 * In place (VOLUME_DATA_IN_PLACE, and always for logical volumes, which
 * cannot be renamed into place): writes go straight into the existing
 * volume (-ENOENT if absent), as `dd conv=notrunc` expects; commit is an
 * fdatasync. A failed write leaves what was written.
 */
typedef struct VolumeData VolumeData;

typedef enum {
  VOLUME_DATA_IN_PLACE = 1u << 0,
} VolumeDataFlags;

int volume_data_open_read(StorageDriver *drv, const PoolDef *pool, const char *name,
                          VolumeData **ret_data, char **ret_error);
int volume_data_open_write(StorageDriver *drv, const PoolDef *pool, const char *name,
                           unsigned flags, VolumeData **ret_data, char **ret_error);

/* The file descriptor (owned by the VolumeData) and the size at open. */
int volume_data_fd(const VolumeData *data);
uint64_t volume_data_size(const VolumeData *data);

/* pread/pwrite returning the byte count or a negative errno; short counts
 * only at end of file (read). A write error is also remembered for
 * commit. */
ssize_t volume_data_read(VolumeData *data, void *buf, size_t len, off_t offset);
ssize_t volume_data_write(VolumeData *data, const void *buf, size_t len, off_t offset);
/* ftruncate of an upload (FUSE truncate/O_TRUNC); -EINVAL for a read stream. */
int volume_data_truncate(VolumeData *data, off_t length);

/* Finishes a write stream as described above and returns the volume's live
 * definition (ret_vol may be NULL). On failure nothing is in place and the
 * stream is dead. Calling it on a read stream is -EINVAL. */
int volume_data_commit(VolumeData *data, VolumeDef **ret_vol, char **ret_error);

/* Closes the stream; an uncommitted upload is discarded. NULL-tolerant. */
void volume_data_close(VolumeData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VolumeData, volume_data_close)
