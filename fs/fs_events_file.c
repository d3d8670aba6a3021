/* fs_events_file.c — /virt/events: each reader sees the events that happen
 * after it opened the file, one line each; reads block until there is one,
 * poll() reports readability. Interrupted readers (Ctrl-C) are noticed
 * within EVENTS_WAIT_SLICE_US. */
#include <errno.h>
#include <fuse_lowlevel.h>
#include <poll.h>

#include "fs/fs_files.h"
#include "fs/fs_events_notify.h"
#include "fs/fs_handle.h"
#include "fs/fs_request.h"

#define EVENTS_WAIT_SLICE_US (200 * 1000)

/* The reader's position has its own lock: a read waits on the bus while
 * holding it, and h->lock must stay free for fs_pollers_notify, which runs
 * on the main loop (QEMU's QMP and console) for every event and console
 * chunk. A reader holding h->lock in its wait stalled that loop. */
typedef struct {
  GMutex lock;
  uint64_t seq;
} EventsReader;

static int events_open(FsContext *ctx, Obj *obj, FsHandle *h, int flags) {
  EventsReader *r = g_new0(EventsReader, 1);
  g_mutex_init(&r->lock);
  r->seq = event_bus_next_seq(registry_events(ctx->registry));
  h->stream = r;
  fs_pollers_add(ctx, h);
  return 0;
}

static int events_read(FsContext *ctx, FsHandle *h, size_t size, GString *out) {
  EventsReader *r = h->stream;
  EventBus *bus = registry_events(ctx->registry);
  for (;;) {
    g_mutex_lock(&r->lock);
    int n = event_bus_read(bus, &r->seq, out, size, EVENTS_WAIT_SLICE_US);
    g_mutex_unlock(&r->lock);
    if (n > 0)
      return 0;
    if (fs_request_interrupted(ctx))
      return -EINTR;
  }
}

static unsigned events_poll(FsContext *ctx, FsHandle *h) {
  EventsReader *r = h->stream;
  g_mutex_lock(&r->lock);
  uint64_t seq = r->seq;
  g_mutex_unlock(&r->lock);
  return seq < event_bus_next_seq(registry_events(ctx->registry)) ? POLLIN : 0;
}

static void events_release(FsContext *ctx, FsHandle *h) {
  fs_pollers_remove(ctx, h);
  EventsReader *r = h->stream;
  g_mutex_clear(&r->lock);
  g_free(r);
  h->stream = NULL;
}

const FsStreamOps fs_events_ops = {
  .open = events_open,
  .read = events_read,
  .poll = events_poll,
  .release = events_release,
};

/* /virt/events.log: the same lines as a file that grows (tail -f polls its
 * size, also through sshfs); a rotation starts it again empty. Reads at an
 * offset return what is there now; nothing blocks. */
static int events_log_open(FsContext *ctx, Obj *obj, FsHandle *h, int flags) {
  return 0;
}

static ssize_t events_log_pread(FsContext *ctx, FsHandle *h, char *buf, size_t size,
                                off_t offset) {
  if (offset < 0)
    return -EINVAL;
  return (ssize_t)event_bus_log_read(registry_events(ctx->registry), buf, size,
                                     (uint64_t)offset);
}

static int events_log_stat(FsContext *ctx, Obj *obj, struct stat *st) {
  size_t size = event_bus_log_size(registry_events(ctx->registry));
  st->st_size = (off_t)size;
  st->st_blocks = (blkcnt_t)((size + 511) / 512);
  return 0;
}

const FsStreamOps fs_events_log_ops = {
  .open = events_log_open,
  .pread = events_log_pread,
  .stat = events_log_stat,
};

void fs_pollers_add(FsContext *ctx, FsHandle *h) {
  g_mutex_lock(&ctx->pollers_lock);
  if (ctx->pollers)
    g_hash_table_add(ctx->pollers, h);
  g_mutex_unlock(&ctx->pollers_lock);
}

void fs_pollers_remove(FsContext *ctx, FsHandle *h) {
  g_mutex_lock(&ctx->pollers_lock);
  if (ctx->pollers)
    g_hash_table_remove(ctx->pollers, h);
  g_mutex_unlock(&ctx->pollers_lock);
}

/* Called by the event bus after each event and by console rings after new
 * output, on the emitting thread. */
void fs_pollers_notify(void *data) {
  FsContext *ctx = data;
  g_mutex_lock(&ctx->pollers_lock);
  if (!ctx->pollers) {
    g_mutex_unlock(&ctx->pollers_lock);
    return;
  }
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, ctx->pollers);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    FsHandle *h = key;
    g_mutex_lock(&h->lock);
    if (h->poll_handle) {
      fuse_lowlevel_notify_poll(h->poll_handle);
      fuse_pollhandle_destroy(h->poll_handle);
      h->poll_handle = NULL;
    }
    g_mutex_unlock(&h->lock);
  }
  g_mutex_unlock(&ctx->pollers_lock);
}

void fs_events_notify_init(FsContext *ctx) {
  g_mutex_init(&ctx->pollers_lock);
  ctx->pollers = g_hash_table_new(g_direct_hash, g_direct_equal);
  event_bus_set_notify(registry_events(ctx->registry), fs_pollers_notify, ctx);
}

void fs_events_notify_shutdown(FsContext *ctx) {
  event_bus_set_notify(registry_events(ctx->registry), NULL, NULL);
  event_bus_wake_all(registry_events(ctx->registry));
  g_mutex_lock(&ctx->pollers_lock);
  g_clear_pointer(&ctx->pollers, g_hash_table_unref);
  g_mutex_unlock(&ctx->pollers_lock);
}
