/* fs_events_notify.h — wakes poll()/select() callers of /virt/events when
 * an event is emitted. */
#pragma once

#include "fs/fs_context.h"

void fs_events_notify_init(FsContext *ctx);
void fs_events_notify_shutdown(FsContext *ctx);
