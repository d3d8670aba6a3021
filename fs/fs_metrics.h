/* fs_metrics.h — /virt/metrics (fs_metrics.c): the snapshot every open and
 * stat of the file share for up to a second. */
#pragma once

#include "fs/fs_files.h"

/* Sets up ctx->metrics (before the FUSE threads start) and frees it. */
void fs_metrics_init(FsContext *ctx);
void fs_metrics_cleanup(FsContext *ctx);

/* The current text: the last rendering when it is less than a second old,
 * else a new one. A new reference. */
GBytes *fs_metrics_snapshot(FsContext *ctx);
