/* console_ring.h — the output of a serial console: a bounded ring of the
 * last bytes QEMU wrote, read by any number of readers each at its own
 * position (an absolute byte count), and snapshotted for console.log.
 * A reader that falls more than the capacity behind skips to the oldest
 * byte still kept. Thread-safe: the writer is the main loop thread, readers
 * are FUSE worker threads. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ConsoleRing ConsoleRing;

typedef void (*ConsoleRingNotify)(void *user_data);

ConsoleRing *console_ring_new(size_t capacity);
void console_ring_free(ConsoleRing *ring);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ConsoleRing, console_ring_free)

/* Called without the ring's lock after every append and at close. */
void console_ring_set_notify(ConsoleRing *ring, ConsoleRingNotify notify, void *user_data);

void console_ring_append(ConsoleRing *ring, const void *data, size_t len);

/* Marks the end of output (QEMU gone): blocked readers return 0. Appending
 * again (a restarted guest) reopens it. */
void console_ring_close(ConsoleRing *ring);

/* The position of the next byte to be written: a new reader starts here. */
uint64_t console_ring_position(ConsoleRing *ring);

/* Copies up to max bytes from *pos into out and advances *pos. Waits up to
 * timeout_us when nothing is there and the ring is open. Returns the number
 * of bytes copied (0: timeout or closed). */
size_t console_ring_read(ConsoleRing *ring, uint64_t *pos, size_t max, GString *out,
                         int64_t timeout_us);

/* Whether bytes are waiting at pos, or the ring is closed. */
bool console_ring_readable(ConsoleRing *ring, uint64_t pos);

/* Everything still kept, oldest first. */
void console_ring_snapshot(ConsoleRing *ring, GString *out);
