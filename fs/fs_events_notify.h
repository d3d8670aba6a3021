/* fs_events_notify.h — wakes poll()/select() callers of /virt/events when
 * an event is emitted. */
#pragma once

#include "fs/fs_context.h"

void fs_events_notify_init(FsContext *ctx);

/* Wakes every poll() waiter on a stream handle (events or console). May be
 * called from any thread. */
void fs_pollers_notify(void *ctx);
/* Registers/unregisters a stream handle for those wake-ups. */
struct FsHandle;
void fs_pollers_add(FsContext *ctx, struct FsHandle *h);
void fs_pollers_remove(FsContext *ctx, struct FsHandle *h);
void fs_events_notify_shutdown(FsContext *ctx);
