/* fs_domain_hooks.h — the daemon's glue between the QEMU driver and the
 * other kinds of objects: volumes for <disk type='volume'>, taps on
 * networks for interfaces, and "is this volume in use" for the pools. */
#pragma once

#include "drivers/qemu/qemu_driver.h"
#include "fs/fs_context.h"

/* Fills hooks with functions that take the FsContext as user data. */
void fs_domain_hooks_fill(FsContext *ctx, QemuDriverHooks *hooks);

/* Sets ctx->volume_in_use (needs ctx->qemu). */
void fs_domain_hooks_install_volume_check(FsContext *ctx);
