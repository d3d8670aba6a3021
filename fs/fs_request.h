/* fs_request.h — what code under the FUSE callbacks (file tables, streams)
 * may ask about the request its thread is answering. With the low-level
 * API there is no fuse_get_context()/fuse_interrupted(): fs_ops.c records
 * the request of each worker thread while a callback runs, and these read
 * it.
 *
 *   fuse_interrupted()                   -> fs_request_interrupted(ctx)
 *   fuse_get_context()->pid / uid / gid  -> fs_request_pid() ...
 *
 * A blocking handler polls fs_request_interrupted() between short waits
 * (console and events reads wait 200 ms at a time): it turns true when the
 * caller was interrupted by a signal (the kernel sent FUSE_INTERRUPT for
 * the request) or when the session is ending (unmount, SIGTERM). The
 * handler then returns -EINTR; the kernel restarts or fails the system
 * call as the signal's disposition says. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "fs/fs_context.h"

bool fs_request_interrupted(FsContext *ctx);
/* The process that made the request, 0 outside a request. */
pid_t fs_request_pid(void);
