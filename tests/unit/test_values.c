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

static char *cpuset(const char *text, int *ret_r) {
  uint64_t bits[VALUE_CPUSET_WORDS];
  *ret_r = value_parse_cpuset(text, bits);
  return *ret_r < 0 ? NULL : value_format_cpuset(bits);
}

static void test_cpuset(void **state) {
  static const struct {
    const char *in, *out;
    int r;
  } cases[] = {
    {"0", "0", 0},
    {"1-3", "1-3", 0},
    {"0-3,^2", "0-1,3", 0},
    {" 8 , 0-1,2", "0-2,8", 0},
    {"0-7,^2-5,5", "0-1,5-7", 0},
    {"4095", "4095", 0},
    {"63-64,127", "63-64,127", 0},
    {"0,^0", NULL, -EINVAL},     /* nothing left */
    {"^1", NULL, -EINVAL},
    {"3-1", NULL, -EINVAL},      /* reversed */
    {"4096", NULL, -ERANGE},
    {"0-4096", NULL, -ERANGE},
    {"", NULL, -EINVAL},
    {"1,,2", NULL, -EINVAL},
    {"a", NULL, -EINVAL},
    {"1-", NULL, -EINVAL},
    {"-1", NULL, -EINVAL},
    {"1 -2", NULL, -EINVAL},
    {"+1", NULL, -EINVAL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    int r = 0;
    g_autofree char *out = cpuset(cases[i].in, &r);
    if (r != cases[i].r || g_strcmp0(out, cases[i].out) != 0)
      fail_msg("'%s': got %d '%s', want %d '%s'", cases[i].in, r, out ? out : "",
               cases[i].r, cases[i].out ? cases[i].out : "");
  }
  /* the output is a fixed point */
  int r = 0;
  g_autofree char *again = cpuset("0-1,3,8-11", &r);
  assert_string_equal(again, "0-1,3,8-11");
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
    cmocka_unit_test(test_cpuset),
    cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
