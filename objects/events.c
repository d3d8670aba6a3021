/* events.c — a bounded ring of event lines with blocking readers; see
 * events.h. */
#include "objects/events.h"

#include <string.h>

struct EventBus {
  GMutex lock;
  GCond changed;
  char *lines[EVENT_BUS_CAPACITY];
  uint64_t next_seq;            /* sequence number of the next event */
  GString *log;                 /* lines since the last rotation */
  size_t log_max;
  EventBusNotify notify;
  void *notify_data;
};

EventBus *event_bus_new(void) {
  EventBus *bus = g_new0(EventBus, 1);
  g_mutex_init(&bus->lock);
  g_cond_init(&bus->changed);
  bus->log = g_string_new(NULL);
  bus->log_max = EVENT_LOG_MAX_BYTES;
  return bus;
}

void event_bus_free(EventBus *bus) {
  if (!bus)
    return;
  for (size_t i = 0; i < EVENT_BUS_CAPACITY; i++)
    g_free(bus->lines[i]);
  g_string_free(bus->log, TRUE);
  g_mutex_clear(&bus->lock);
  g_cond_clear(&bus->changed);
  g_free(bus);
}

void event_bus_set_notify(EventBus *bus, EventBusNotify notify, void *user_data) {
  g_mutex_lock(&bus->lock);
  bus->notify = notify;
  bus->notify_data = user_data;
  g_mutex_unlock(&bus->lock);
}

/* Names may hold blanks and backslashes, and a caller may pass any bytes:
 * the line stays one line split-able on blanks by writing blanks, control
 * characters and DEL as \xNN and a backslash as \\. */
static char *escape_field(const char *s) {
  GString *out = g_string_new(NULL);
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    if (*p <= 0x20 || *p == 0x7f)
      g_string_append_printf(out, "\\x%02x", *p);
    else if (*p == '\\')
      g_string_append(out, "\\\\");
    else
      g_string_append_c(out, (char)*p);
  }
  return g_string_free(out, FALSE);
}

char *event_format_line(int64_t unix_us, const char *kind, const char *name,
                        const char *event, const char *detail) {
  g_autofree char *safe_name = escape_field(name);
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unix_us / G_USEC_PER_SEC);
  g_autofree char *date = g_date_time_format(t, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf("%s.%03dZ %s %s %s%s%s\n", date,
                         (int)((unix_us % G_USEC_PER_SEC) / 1000), kind, safe_name, event,
                         detail && *detail ? " " : "", detail ? detail : "");
}

void event_bus_emit(EventBus *bus, const char *kind, const char *name, const char *event,
                    const char *detail) {
  char *line = event_format_line(g_get_real_time(), kind, name, event, detail);
  g_mutex_lock(&bus->lock);
  size_t slot = bus->next_seq % EVENT_BUS_CAPACITY;
  g_free(bus->lines[slot]);
  bus->lines[slot] = line;
  bus->next_seq++;
  size_t len = strlen(line);
  if (bus->log->len + len > bus->log_max)
    g_string_truncate(bus->log, 0);
  g_string_append_len(bus->log, line, (gssize)len);
  EventBusNotify notify = bus->notify;
  void *data = bus->notify_data;
  g_cond_broadcast(&bus->changed);
  g_mutex_unlock(&bus->lock);
  if (notify)
    notify(data);
}

uint64_t event_bus_next_seq(EventBus *bus) {
  g_mutex_lock(&bus->lock);
  uint64_t seq = bus->next_seq;
  g_mutex_unlock(&bus->lock);
  return seq;
}

int event_bus_read(EventBus *bus, uint64_t *seq, GString *out, size_t max_bytes,
                   int64_t timeout_us) {
  int count = 0;
  g_mutex_lock(&bus->lock);
  if (*seq >= bus->next_seq && timeout_us > 0) {
    int64_t deadline = g_get_monotonic_time() + timeout_us;
    while (*seq >= bus->next_seq)
      if (!g_cond_wait_until(&bus->changed, &bus->lock, deadline))
        break;
  }
  uint64_t oldest = bus->next_seq > EVENT_BUS_CAPACITY ? bus->next_seq - EVENT_BUS_CAPACITY : 0;
  if (*seq < oldest) {
    g_autofree char *missed = g_strdup_printf("%" G_GUINT64_FORMAT, oldest - *seq);
    g_autofree char *line = event_format_line(g_get_real_time(), "virtfs", "-", "overflow",
                                              missed);
    g_string_append(out, line);
    *seq = oldest;
    count++;
  }
  while (*seq < bus->next_seq) {
    const char *line = bus->lines[*seq % EVENT_BUS_CAPACITY];
    size_t len = strlen(line);
    if (count > 0 && out->len + len > max_bytes)
      break;
    g_string_append_len(out, line, (gssize)len);
    (*seq)++;
    count++;
  }
  g_mutex_unlock(&bus->lock);
  return count;
}

size_t event_bus_log_size(EventBus *bus) {
  g_mutex_lock(&bus->lock);
  size_t size = bus->log->len;
  g_mutex_unlock(&bus->lock);
  return size;
}

size_t event_bus_log_read(EventBus *bus, char *buf, size_t size, uint64_t offset) {
  g_mutex_lock(&bus->lock);
  size_t n = 0;
  if (offset < bus->log->len) {
    n = MIN(size, bus->log->len - (size_t)offset);
    memcpy(buf, bus->log->str + offset, n);
  }
  g_mutex_unlock(&bus->lock);
  return n;
}

void event_bus_set_log_max(EventBus *bus, size_t max_bytes) {
  g_mutex_lock(&bus->lock);
  bus->log_max = max_bytes ? max_bytes : EVENT_LOG_MAX_BYTES;
  g_mutex_unlock(&bus->lock);
}

void event_bus_wake_all(EventBus *bus) {
  g_mutex_lock(&bus->lock);
  g_cond_broadcast(&bus->changed);
  g_mutex_unlock(&bus->lock);
}
