/* test_history.c — past definitions as numbered files (objects/history.c),
 * in a scratch directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "objects/history.h"

static void test_names(void **state) {
  g_autofree char *a = history_entry_name(7);
  assert_string_equal(a, "0007.xml");
  g_autofree char *b = history_entry_name(12345);
  assert_string_equal(b, "12345.xml");
  uint64_t n = 0;
  assert_int_equal(history_entry_parse("0007.xml", &n), 0);
  assert_int_equal(n, 7);
  assert_int_equal(history_entry_parse("12345.xml", &n), 0);
  assert_int_equal(n, 12345);
  const char *bad[] = {"7.xml", "00007.xml", "0000.xml", "0007.xm", "0007.xml~", "abcd.xml",
                       ".0007.xml", "0007", "", "-001.xml", "0007.xml.tmp"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    assert_int_equal(history_entry_parse(bad[i], &n), -EINVAL);
}

static char *listing(History *h, const char *key) {
  g_autoptr(GArray) numbers = history_list(h, key);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < numbers->len; i++)
    g_string_append_printf(s, "%s%" G_GUINT64_FORMAT, i ? " " : "",
                           g_array_index(numbers, uint64_t, i));
  return g_string_free(s, FALSE);
}

static char *upper(const char *xml, void *data) {
  return g_ascii_strup(xml, -1);
}

static void test_add_bound_rename(void **state) {
  g_autofree char *dir = g_dir_make_tmp("virtfs-history-XXXXXX", NULL);
  g_autoptr(History) h = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(history_open(dir, 3, &h, &error), 0);
  assert_int_equal(history_add(h, "domains/a", "<a/>", &error), 1);
  assert_int_equal(history_add(h, "domains/a", "<a/>", &error), 0); /* same: nothing */
  assert_int_equal(history_add(h, "domains/a", "<b/>", &error), 2);
  assert_int_equal(history_add(h, "domains/a", "<a/>", &error), 3); /* back: an entry */
  assert_int_equal(history_add(h, "domains/a", "<c/>", &error), 4);
  g_autofree char *l1 = listing(h, "domains/a");
  assert_string_equal(l1, "2 3 4"); /* bounded to 3, numbers go on */
  g_autoptr(GString) out = g_string_new(NULL);
  int64_t mtime = 0;
  assert_int_equal(history_read(h, "domains/a", "0003.xml", out, &mtime), 0);
  assert_string_equal(out->str, "<a/>");
  assert_true(mtime > 0);
  assert_int_equal(history_read(h, "domains/a", "0001.xml", out, NULL), -ENOENT);
  assert_int_equal(history_read(h, "domains/a", "../../x", out, NULL), -ENOENT);
  /* the temporary files of the atomic writes are not entries */
  g_autofree char *tmp = g_build_filename(dir, "history", "domains", "a", ".0005.xml.tmp", NULL);
  assert_true(g_file_set_contents(tmp, "x", 1, NULL));
  g_autofree char *l2 = listing(h, "domains/a");
  assert_string_equal(l2, "2 3 4");

  /* rename: moves, and replaces what a removed object left at the target */
  assert_int_equal(history_add(h, "domains/b", "<old-b/>", &error), 1);
  assert_int_equal(history_rename(h, "domains/a", "domains/b", &error), 0);
  g_autofree char *gone = listing(h, "domains/a");
  assert_string_equal(gone, "");
  g_autofree char *moved = listing(h, "domains/b");
  assert_string_equal(moved, "2 3 4");
  assert_int_equal(history_rename(h, "domains/none", "domains/c", &error), 0);

  /* rewrite keeps numbers and times */
  g_autofree char *path = g_build_filename(dir, "history", "domains", "b", "0003.xml", NULL);
  struct stat before, after;
  assert_int_equal(g_stat(path, &before), 0);
  assert_int_equal(history_rewrite(h, "domains/b", upper, NULL, &error), 0);
  g_string_truncate(out, 0);
  assert_int_equal(history_read(h, "domains/b", "0003.xml", out, NULL), 0);
  assert_string_equal(out->str, "<A/>");
  assert_int_equal(g_stat(path, &after), 0);
  assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);

  /* nested keys (volumes under pools) move with their pool */
  assert_int_equal(history_add(h, "pools/p/volumes/v", "<v/>", &error), 1);
  assert_int_equal(history_add(h, "pools/p", "<p/>", &error), 1);
  assert_int_equal(history_rename(h, "pools/p", "pools/q", &error), 0);
  g_autofree char *vol = listing(h, "pools/q/volumes/v");
  assert_string_equal(vol, "1");

  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_disabled(void **state) {
  g_autofree char *dir = g_dir_make_tmp("virtfs-history-XXXXXX", NULL);
  g_autoptr(History) h = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(history_open(dir, 0, &h, &error), 0);
  assert_int_equal(history_add(h, "domains/a", "<a/>", &error), 0);
  g_autofree char *l = listing(h, "domains/a");
  assert_string_equal(l, "");
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_names),
    cmocka_unit_test(test_add_bound_rename),
    cmocka_unit_test(test_disabled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
