/* console_ring.c — see console_ring.h. */
#include "drivers/qemu/console_ring.h"

#include <string.h>

struct ConsoleRing {
  GMutex lock;
  GCond grown;
  uint8_t *buf;
  size_t capacity;
  uint64_t total;      /* bytes ever appended */
  bool closed;
  ConsoleRingNotify notify;
  void *notify_data;
};

ConsoleRing *console_ring_new(size_t capacity) {
  ConsoleRing *r = g_new0(ConsoleRing, 1);
  g_mutex_init(&r->lock);
  g_cond_init(&r->grown);
  r->capacity = capacity;
  r->buf = g_malloc(capacity);
  return r;
}

void console_ring_free(ConsoleRing *r) {
  if (!r)
    return;
  g_free(r->buf);
  g_mutex_clear(&r->lock);
  g_cond_clear(&r->grown);
  g_free(r);
}

void console_ring_set_notify(ConsoleRing *r, ConsoleRingNotify notify, void *user_data) {
  g_mutex_lock(&r->lock);
  r->notify = notify;
  r->notify_data = user_data;
  g_mutex_unlock(&r->lock);
}

static void wake(ConsoleRing *r) {
  ConsoleRingNotify notify = r->notify;
  void *data = r->notify_data;
  g_cond_broadcast(&r->grown);
  g_mutex_unlock(&r->lock);
  if (notify)
    notify(data);
}

void console_ring_append(ConsoleRing *r, const void *data, size_t len) {
  const uint8_t *p = data;
  if (len > r->capacity) { /* only the tail can be kept */
    p += len - r->capacity;
  }
  g_mutex_lock(&r->lock);
  if (len > r->capacity) {
    r->total += len - r->capacity;
    len = r->capacity;
  }
  size_t at = (size_t)(r->total % r->capacity);
  size_t first = MIN(len, r->capacity - at);
  memcpy(r->buf + at, p, first);
  memcpy(r->buf, p + first, len - first);
  r->total += len;
  r->closed = false;
  wake(r);
}

void console_ring_close(ConsoleRing *r) {
  g_mutex_lock(&r->lock);
  r->closed = true;
  wake(r);
}

uint64_t console_ring_position(ConsoleRing *r) {
  g_mutex_lock(&r->lock);
  uint64_t pos = r->total;
  g_mutex_unlock(&r->lock);
  return pos;
}

/* r->lock held: copies [from, r->total) limited to max. */
static size_t copy_locked(ConsoleRing *r, uint64_t from, size_t max, GString *out) {
  size_t n = (size_t)MIN((uint64_t)max, r->total - from);
  size_t at = (size_t)(from % r->capacity);
  size_t first = MIN(n, r->capacity - at);
  g_string_append_len(out, (const char *)r->buf + at, (gssize)first);
  g_string_append_len(out, (const char *)r->buf, (gssize)(n - first));
  return n;
}

size_t console_ring_read(ConsoleRing *r, uint64_t *pos, size_t max, GString *out,
                         int64_t timeout_us) {
  g_mutex_lock(&r->lock);
  if (*pos >= r->total && !r->closed && timeout_us > 0) {
    int64_t deadline = g_get_monotonic_time() + timeout_us;
    while (*pos >= r->total && !r->closed)
      if (!g_cond_wait_until(&r->grown, &r->lock, deadline))
        break;
  }
  uint64_t oldest = r->total > r->capacity ? r->total - r->capacity : 0;
  if (*pos < oldest)
    *pos = oldest;
  if (*pos > r->total)
    *pos = r->total;
  size_t n = copy_locked(r, *pos, max, out);
  *pos += n;
  g_mutex_unlock(&r->lock);
  return n;
}

bool console_ring_readable(ConsoleRing *r, uint64_t pos) {
  g_mutex_lock(&r->lock);
  bool readable = pos < r->total || r->closed;
  g_mutex_unlock(&r->lock);
  return readable;
}

void console_ring_snapshot(ConsoleRing *r, GString *out) {
  g_mutex_lock(&r->lock);
  uint64_t oldest = r->total > r->capacity ? r->total - r->capacity : 0;
  copy_locked(r, oldest, r->capacity, out);
  g_mutex_unlock(&r->lock);
}
