/* test_metrics_text.c — the Prometheus text format writer of /virt/metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "fs/fs_metrics_text.h"

static void test_values_and_labels(void **state) {
  const struct {
    double v;
    const char *text;
  } values[] = {
    {0, "0"}, {1, "1"}, {536870912, "536870912"}, {4.25, "4.25"}, {-3, "-3"},
    {1e20, "1e+20"}, {NAN, "NaN"}, {INFINITY, "+Inf"}, {-INFINITY, "-Inf"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
    g_autofree char *t = metrics_format_value(values[i].v);
    assert_string_equal(t, values[i].text);
  }
  g_autofree char *e = metrics_escape_label("a\"b\\c\nd é");
  assert_string_equal(e, "a\\\"b\\\\c\\nd é");
  g_autofree char *empty = metrics_escape_label(NULL);
  assert_string_equal(empty, "");
}

static void test_grouping(void **state) {
  g_autoptr(MetricsText) m = metrics_text_new();
  metrics_family(m, "x_total", "counter", "X things.");
  metrics_family(m, "y", "gauge", "Y.");
  metrics_family(m, "unused", "gauge", "Never sampled.");
  metrics_family(m, "x_total", "gauge", "A second declaration is ignored.");
  metrics_sample(m, "y", 2, NULL);
  metrics_sample(m, "x_total", 1, "domain", "a", NULL);
  metrics_sample(m, "x_total", 3, "domain", "b \"q\"", "dev", "vda", NULL);
  g_autofree char *text = metrics_text_format(m);
  assert_string_equal(text,
                      "# HELP x_total X things.\n"
                      "# TYPE x_total counter\n"
                      "x_total{domain=\"a\"} 1\n"
                      "x_total{domain=\"b \\\"q\\\"\",dev=\"vda\"} 3\n"
                      "# HELP y Y.\n"
                      "# TYPE y gauge\n"
                      "y 2\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_values_and_labels),
    cmocka_unit_test(test_grouping),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
