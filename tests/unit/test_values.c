/* test_values.c — sizes with units, booleans, counts and object names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>

#include "objects/names.h"
#include "objects/values.h"

static void test_units_xml(void **state) {
  uint64_t b = 0;
  assert_int_equal(units_parse_xml_size("512", "MiB", 1024, &b), 0);
  assert_true(b == 512ULL << 20);
  assert_int_equal(units_parse_xml_size("2", "G", 1024, &b), 0);
  assert_true(b == 2ULL << 30);
  assert_int_equal(units_parse_xml_size("1", "GB", 1024, &b), 0);
  assert_true(b == 1000000000ULL);
  assert_int_equal(units_parse_xml_size("7", NULL, 1024, &b), 0);
  assert_true(b == 7168);
  assert_int_equal(units_parse_xml_size("3", "bytes", 1024, &b), 0);
  assert_true(b == 3);
  assert_int_equal(units_parse_xml_size("1", "parsecs", 1024, &b), -EINVAL);
  assert_int_equal(units_parse_xml_size("-1", "KiB", 1024, &b), -EINVAL);
  assert_int_equal(units_parse_xml_size("1x", "KiB", 1024, &b), -EINVAL);
  assert_int_equal(units_parse_xml_size("99999999999999999999", "KiB", 1024, &b), -ERANGE);
  assert_int_equal(units_parse_xml_size("17179869184", "EiB", 1024, &b), -ERANGE);
}

static void test_units_value(void **state) {
  uint64_t b = 0;
  assert_int_equal(units_parse_value("2G\n", 1024, &b), 0);
  assert_true(b == 2ULL << 30);
  assert_int_equal(units_parse_value("  1048576K ", 1024, &b), 0);
  assert_true(b == 1ULL << 30);
  assert_int_equal(units_parse_value("2097152", 1024, &b), 0);
  assert_true(b == 2ULL << 30);
  assert_int_equal(units_parse_value("2 GiB", 1024, &b), 0);
  assert_true(b == 2ULL << 30);
  assert_int_equal(units_parse_value("", 1024, &b), -EINVAL);
  assert_int_equal(units_parse_value("G", 1024, &b), -EINVAL);
  assert_int_equal(units_parse_value("2G2", 1024, &b), -EINVAL);
  assert_int_equal(units_parse_value("2\n3", 1024, &b), -EINVAL);
}

static void test_trim_bool_uint(void **state) {
  g_autofree char *v = NULL;
  assert_int_equal(value_trim(" running\n", 9, &v), 0);
  assert_string_equal(v, "running");
  char *bad = NULL;
  assert_int_equal(value_trim("a\0b", 3, &bad), -EINVAL);
  assert_null(bad);
  bool x = false;
  assert_int_equal(value_parse_bool("YES", &x), 0);
  assert_true(x);
  assert_int_equal(value_parse_bool("0", &x), 0);
  assert_false(x);
  assert_int_equal(value_parse_bool("maybe", &x), -EINVAL);
  uint64_t n = 0;
  assert_int_equal(value_parse_uint("4", 1, 8, &n), 0);
  assert_true(n == 4);
  assert_int_equal(value_parse_uint("0", 1, 8, &n), -ERANGE);
  assert_int_equal(value_parse_uint("4 ", 1, 8, &n), -EINVAL);
}

static void test_names(void **state) {
  assert_int_equal(object_name_validate("web1", NULL), 0);
  assert_int_equal(object_name_validate("a,b=c", NULL), 0);
  assert_int_equal(object_name_validate("", NULL), -EINVAL);
  assert_int_equal(object_name_validate(".hidden", NULL), -EINVAL);
  assert_int_equal(object_name_validate("..", NULL), -EINVAL);
  assert_int_equal(object_name_validate("a/b", NULL), -EINVAL);
  assert_int_equal(object_name_validate("a\nb", NULL), -EINVAL);
  assert_int_equal(object_name_validate("\xff\xfe", NULL), -EINVAL);
  g_autofree char *long_name = g_strnfill(65, 'x');
  g_autofree char *why = NULL;
  assert_int_equal(object_name_validate(long_name, &why), -ENAMETOOLONG);
  assert_non_null(strstr(why, "65 bytes"));
  g_autofree char *max_name = g_strnfill(64, 'x');
  assert_int_equal(object_name_validate(max_name, NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_units_xml),
    cmocka_unit_test(test_units_value),
    cmocka_unit_test(test_trim_bool_uint),
    cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
