/* events.h — the lifecycle event stream behind /virt/events.
 *
 * Every event is one line "TIMESTAMP KIND NAME EVENT DETAIL\n" (UTC,
 * millisecond ISO 8601; DETAIL may be empty; a blank in NAME is written
 * \x20 and a backslash \\), numbered by a sequence number.
 * The bus keeps the last EVENT_BUS_CAPACITY lines; a reader that falls
 * further behind gets one line "TIMESTAMP virtfs - overflow N" telling how
 * many it missed, then continues with the oldest kept line.
 *
 * Thread-safe: emitters and readers may be on any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define EVENT_BUS_CAPACITY 4096
/* The log (events.log) holds at most this many bytes of lines; the next
 * line that would not fit starts it again empty (a rotation). */
#define EVENT_LOG_MAX_BYTES (1024 * 1024)

typedef struct EventBus EventBus;

/* Called (without bus locks held) after each new event; used by the FUSE
 * layer to wake poll() callers. */
typedef void (*EventBusNotify)(void *user_data);

EventBus *event_bus_new(void);
void event_bus_free(EventBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EventBus, event_bus_free)

void event_bus_set_notify(EventBus *bus, EventBusNotify notify, void *user_data);

/* Pure: the line for an event at `unix_us` (microseconds since the epoch). */
char *event_format_line(int64_t unix_us, const char *kind, const char *name,
                        const char *event, const char *detail);

void event_bus_emit(EventBus *bus, const char *kind, const char *name, const char *event,
                    const char *detail);

/* The sequence number the next event will carry: a reader opening the
 * stream starts here. */
uint64_t event_bus_next_seq(EventBus *bus);

/* Appends to `out` every line from *seq on (at most max_bytes, whole lines
 * only, at least one line) and advances *seq. Waits up to timeout_us for a
 * line when none is there yet (0: do not wait). Returns the number of lines
 * appended. */
int event_bus_read(EventBus *bus, uint64_t *seq, GString *out, size_t max_bytes,
                   int64_t timeout_us);

/* The log: every line emitted since the last rotation, as a file that only
 * grows until it rotates. The size now, and up to `size` bytes from
 * `offset` (fewer at the end). Returns the byte count. */
size_t event_bus_log_size(EventBus *bus);
size_t event_bus_log_read(EventBus *bus, char *buf, size_t size, uint64_t offset);
/* Sets the rotation size (tests; 0 restores EVENT_LOG_MAX_BYTES). */
void event_bus_set_log_max(EventBus *bus, size_t max_bytes);

/* Wakes every reader waiting in event_bus_read (used at shutdown). */
void event_bus_wake_all(EventBus *bus);
