/* fs_pools.h — storage pools and their volumes as registry objects, kept in
 * step with the host through the storage driver (drivers/storage). The file
 * tables of pools and volumes (fs_pool_files.c, fs_volume_files.c,
 * fs_volume_data.c) act through these calls.
 *
 * Active state. A pool is active when its Obj has a runtime (PoolRuntime,
 * private here); the registry refuses undefine and rename then. An active
 * pool leaves a marker RUN_DIR/pools/NAME.active, so a restarted daemon
 * tells a pool it had started (started again, which the driver makes
 * idempotent) from one that was stopped: a dir pool's directory exists
 * either way. Stopping the daemon stops no pool (an fs pool stays mounted).
 *
 * Volumes. The volumes of an active pool are children of its Obj
 * (registry_define with the pool as parent), listed from the driver when
 * the pool starts, at `ctl refresh`, and when `volumes/` is listed (at most
 * every FS_POOL_LIST_REFRESH_US, and never waiting for a busy pool); they
 * are dropped when it stops. New and vanished volumes are announced as
 * "defined"/"undefined" events; a changed size is not an event. Sizes
 * shown in files are always asked from the driver, never taken from the
 * registry's copy.
 *
 * Locking. Every operation that changes a pool or its volumes on the host
 * runs under the pool's operation lock (fs_pool_lock), which serializes
 * them as the storage driver requires. It is taken with no registry or
 * object lock held and is held while the driver works; readers of files
 * never take it. Lock order: pool operation lock, then the registry's
 * locks, then Obj.lock. Two pool locks are never held together. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "drivers/storage/storage_driver.h"
#include "fs/fs_context.h"
#include "objects/obj.h"
#include "objects/pool_def.h"
#include "objects/volume_def.h"

/* Listing volumes/ refreshes the pool from the host at most this often. */
#define FS_POOL_LIST_REFRESH_US (1 * G_USEC_PER_SEC)

/* Registers the pool and volume types, creates the storage driver, loads
 * the stored pools, defines the default pool on first start (type dir,
 * STATE_DIR/images, built, autostart) and starts the pools that were active
 * before a restart or are marked autostart. Failures of single pools are
 * logged and kept in their error files. -errno only when the driver cannot
 * be created. */
int fs_pools_init(FsContext *ctx, const StorageDriverOptions *opts, char **ret_error);

/* Forgets the volumes and runtimes of all pools (the host is left as it
 * is) and frees the driver. Call after the FUSE session ended, before
 * registry_free. */
void fs_pools_shutdown(FsContext *ctx);

StorageDriver *fs_pools_driver(FsContext *ctx);

void fs_pool_lock(FsContext *ctx, Obj *pool);
void fs_pool_unlock(FsContext *ctx, Obj *pool);

bool fs_pool_is_active(Obj *pool);

/* mkdir pools/NAME: defines a dir pool with target STATE_DIR/pools-data/NAME
 * (NAME-XXXXXXXX, the UUID's first 8 digits, when another pool already
 * uses that directory) and builds it. Nothing is defined if the build
 * fails. */
int fs_pool_create(FsContext *ctx, const char *name, char **ret_error);

/* The name of another pool that uses the same storage as `def` (target
 * directory, fs device or volume group), or NULL. */
char *fs_pool_conflict(FsContext *ctx, const PoolDef *def, Obj *except);

/* Pool operations; each takes the pool's lock. start, stop and build are
 * idempotent; start refreshes the volumes. refresh is -EBUSY while
 * inactive, delete -EBUSY while active. */
int fs_pool_build(FsContext *ctx, Obj *pool, unsigned flags, char **ret_error);
int fs_pool_start(FsContext *ctx, Obj *pool, char **ret_error);
int fs_pool_stop(FsContext *ctx, Obj *pool, char **ret_error);
int fs_pool_refresh(FsContext *ctx, Obj *pool, char **ret_error);
int fs_pool_delete(FsContext *ctx, Obj *pool, char **ret_error);

/* readdir of volumes/: refreshes an active pool unless it was refreshed
 * less than FS_POOL_LIST_REFRESH_US ago or its lock is taken. */
void fs_pool_refresh_for_listing(FsContext *ctx, Obj *pool);

/* With the pool's lock held: asks the driver for volume `name` and makes
 * the registry agree (defines it, updates its definition, or undefines it
 * when it is gone). `announce` emits "defined updated" for a changed
 * definition (a change the user made through the mount). Returns the
 * driver's result; *ret_vol (may be NULL) gets a new reference. */
int fs_pool_sync_volume_locked(FsContext *ctx, Obj *pool, const char *name, bool announce,
                               Obj **ret_vol, char **ret_error);

/* Replaces a volume's cached definition without an event when it differs
 * (def is consumed). */
void fs_volume_set_live_def(Obj *vol, VolumeDef **def);

/* Whether a running domain uses the volume (FsContext.volume_in_use). */
bool fs_volume_in_use(FsContext *ctx, Obj *vol);
