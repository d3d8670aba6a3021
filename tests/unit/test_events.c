/* test_events.c — the event line format and the bounded event bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "objects/events.h"

static void test_format(void **state) {
  /* 2026-11-22T08:15:02.391Z */
  int64_t t = 1795335302391000LL;
  g_autofree char *line = event_format_line(t, "domain", "web1", "started", "booted");
  assert_string_equal(line, "2026-11-22T08:15:02.391Z domain web1 started booted\n");
  g_autofree char *bare = event_format_line(t, "network", "default", "stopped", NULL);
  assert_string_equal(bare, "2026-11-22T08:15:02.391Z network default stopped\n");
  g_autofree char *spaced = event_format_line(t, "domain", "my vm\\x", "defined", NULL);
  assert_string_equal(spaced, "2026-11-22T08:15:02.391Z domain my\\x20vm\\\\x defined\n");
  /* whatever a caller passes, the line stays one line of blank-separated fields */
  g_autofree char *control = event_format_line(t, "domain", "a\tb\nc\x7f", "defined", NULL);
  assert_string_equal(control, "2026-11-22T08:15:02.391Z domain a\\x09b\\x0ac\\x7f defined\n");
}

static void test_read_after_open(void **state) {
  g_autoptr(EventBus) bus = event_bus_new();
  event_bus_emit(bus, "domain", "old", "defined", NULL);
  uint64_t seq = event_bus_next_seq(bus);
  g_autoptr(GString) out = g_string_new(NULL);
  assert_int_equal(event_bus_read(bus, &seq, out, 4096, 0), 0);
  event_bus_emit(bus, "domain", "a", "started", "booted");
  event_bus_emit(bus, "domain", "a", "stopped", "shutdown");
  assert_int_equal(event_bus_read(bus, &seq, out, 4096, 0), 2);
  assert_non_null(strstr(out->str, "domain a started booted\n"));
  assert_non_null(strstr(out->str, "domain a stopped shutdown\n"));
  assert_null(strstr(out->str, "old"));
}

static void test_overflow(void **state) {
  g_autoptr(EventBus) bus = event_bus_new();
  uint64_t seq = event_bus_next_seq(bus);
  for (int i = 0; i < EVENT_BUS_CAPACITY + 10; i++)
    event_bus_emit(bus, "domain", "x", "defined", NULL);
  g_autoptr(GString) out = g_string_new(NULL);
  int n = event_bus_read(bus, &seq, out, 100, 0);
  assert_true(n >= 1);
  assert_non_null(strstr(out->str, "virtfs - overflow 10\n"));
}

static gpointer emit_later(gpointer data) {
  g_usleep(50000);
  event_bus_emit(data, "pool", "p", "started", NULL);
  return NULL;
}

static void test_blocking_read(void **state) {
  g_autoptr(EventBus) bus = event_bus_new();
  uint64_t seq = event_bus_next_seq(bus);
  GThread *t = g_thread_new("emit", emit_later, bus);
  g_autoptr(GString) out = g_string_new(NULL);
  assert_int_equal(event_bus_read(bus, &seq, out, 4096, 5 * G_USEC_PER_SEC), 1);
  assert_non_null(strstr(out->str, "pool p started"));
  g_thread_join(t);
}

/* events.log: grows line by line, reads at offsets, rotates when full. */
static void test_log(void **state) {
  g_autoptr(EventBus) bus = event_bus_new();
  assert_int_equal(event_bus_log_size(bus), 0);
  event_bus_emit(bus, "domain", "a", "defined", NULL);
  size_t one = event_bus_log_size(bus);
  assert_true(one > 0);
  event_bus_emit(bus, "domain", "a", "history", "0001.xml");
  size_t two = event_bus_log_size(bus);
  assert_true(two > one);
  char buf[256];
  size_t n = event_bus_log_read(bus, buf, sizeof(buf), one);
  assert_int_equal(n, two - one);
  buf[n] = '\0';
  assert_non_null(strstr(buf, " domain a history 0001.xml\n"));
  assert_int_equal(event_bus_log_read(bus, buf, sizeof(buf), two), 0);
  assert_int_equal(event_bus_log_read(bus, buf, 4, 0), 4);
  /* The line that would pass the bound starts the log again with it. */
  event_bus_set_log_max(bus, two + 10);
  event_bus_emit(bus, "domain", "b", "defined", NULL);
  size_t after = event_bus_log_size(bus);
  assert_true(after < two);
  n = event_bus_log_read(bus, buf, sizeof(buf), 0);
  buf[n] = '\0';
  assert_non_null(strstr(buf, " domain b defined\n"));
  assert_null(strstr(buf, " domain a "));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_log),
    cmocka_unit_test(test_format),
    cmocka_unit_test(test_read_after_open),
    cmocka_unit_test(test_overflow),
    cmocka_unit_test(test_blocking_read),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
