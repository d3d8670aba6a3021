/* test_qemu_process.c — the pure parts of qemu_process.c: reading an
 * interface's counters from the text of /proc/net/dev (the sample below is
 * that file's real layout, with a tap of a running guest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>

#include "drivers/qemu/qemu_process.h"

static const char sample[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo:    1234      10    0    0    0     0          0         0     1234      10    0 "
    "   0    0     0       0          0\n"
    "vnet12: 2906      24    1    2    0     0          0         0    10418      61    3 "
    "   4    0     0       0          0\n"
    "virbr-lab:  0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

static void test_counters(void **state) {
  QemuNetdevCounters c = {0};
  assert_int_equal(qemu_netdev_counters_parse(sample, "vnet12", &c), 0);
  assert_int_equal(c.rx_bytes, 2906);
  assert_int_equal(c.rx_packets, 24);
  assert_int_equal(c.rx_errors, 1);
  assert_int_equal(c.rx_drops, 2);
  assert_int_equal(c.tx_bytes, 10418);
  assert_int_equal(c.tx_packets, 61);
  assert_int_equal(c.tx_errors, 3);
  assert_int_equal(c.tx_drops, 4);
  assert_int_equal(qemu_netdev_counters_parse(sample, "lo", &c), 0);
  assert_int_equal(c.rx_bytes, 1234);
}

static void test_missing_and_malformed(void **state) {
  QemuNetdevCounters c = {0};
  assert_int_equal(qemu_netdev_counters_parse(sample, "vnet1", &c), -ENOENT);
  assert_int_equal(qemu_netdev_counters_parse(sample, "vnet", &c), -ENOENT);
  assert_int_equal(qemu_netdev_counters_parse("", "lo", &c), -ENOENT);
  assert_int_equal(qemu_netdev_counters_parse("  lo: 1 2 3\n", "lo", &c), -EIO);
  assert_int_equal(qemu_netdev_counters_parse("  lo: 1 2 x 4\n", "lo", &c), -EIO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_counters),
    cmocka_unit_test(test_missing_and_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
