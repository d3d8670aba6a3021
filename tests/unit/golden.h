/* golden.h — the shared golden-file loop for XML round-trip tests.
 *
 * For every NAME.xml in a directory of tests/data (NAME.out.xml excepted):
 *  - a file whose name contains "reject-" must fail to parse; its NAME.err
 *    holds "ERRNO SUBSTRING" on one line (e.g. "EINVAL line 4: <label>"),
 *    and the error sentence must contain SUBSTRING;
 *  - any other must parse, format to NAME.out.xml (or to itself when there
 *    is no NAME.out.xml), and that output must be a fixed point.
 * The caller supplies parse+format as one callback. */
#pragma once

#include <errno.h>
#include <glib.h>
#include <string.h>

/* Returns 0 with *ret_text, or a negative errno with *ret_error. */
typedef int (*GoldenRoundTrip)(const char *file, const char *xml, size_t len,
                               char **ret_text, char **ret_error);

static inline int golden_errno(const char *name) {
  static const struct { const char *name; int value; } table[] = {
    {"EINVAL", EINVAL}, {"EFBIG", EFBIG}, {"ENAMETOOLONG", ENAMETOOLONG},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
    if (strcmp(table[i].name, name) == 0)
      return table[i].value;
  return 0;
}

/* Runs every golden file of `subdir`; returns the number checked. Failures
 * are reported through `report_fn`. */
static inline unsigned golden_run(const char *subdir, GoldenRoundTrip rt,
                                  void (*report_fn)(const char *file, const char *msg)) {
  const char *root = g_getenv("VIRTFS_TEST_DATA");
  g_autofree char *dir = g_build_filename(root ? root : "tests/data", subdir, NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (!d) {
    report_fn(dir, "cannot open the golden directory");
    return 0;
  }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  while ((n = g_dir_read_name(d)))
    if (g_str_has_suffix(n, ".xml") && !g_str_has_suffix(n, ".out.xml"))
      g_ptr_array_add(names, g_strdup(n));
  unsigned checked = 0;
  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *base = g_strndup(name, strlen(name) - 4);
    g_autofree char *input = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &input, &len, NULL)) {
      report_fn(path, "unreadable");
      continue;
    }
    g_autofree char *text = NULL, *error = NULL;
    int r = rt(name, input, len, &text, &error);
    checked++;
    if (strstr(name, "reject-")) {
      g_autofree char *errpath = g_strconcat(dir, "/", base, ".err", NULL);
      g_autofree char *expect = NULL;
      if (!g_file_get_contents(errpath, &expect, NULL, NULL)) {
        report_fn(errpath, "missing");
        continue;
      }
      g_strstrip(expect);
      char *space = strchr(expect, ' ');
      if (!space) {
        report_fn(errpath, "must be 'ERRNO SUBSTRING'");
        continue;
      }
      *space = '\0';
      if (r >= 0) {
        report_fn(path, "was accepted but must be rejected");
      } else if (-r != golden_errno(expect)) {
        g_autofree char *m = g_strdup_printf("expected %s, got %d (%s)", expect, r, error);
        report_fn(path, m);
      } else if (!error || !strstr(error, space + 1)) {
        g_autofree char *m = g_strdup_printf("error '%s' does not contain '%s'",
                                             error ? error : "(none)", space + 1);
        report_fn(path, m);
      }
      continue;
    }
    if (r < 0) {
      g_autofree char *m = g_strdup_printf("rejected: %s", error ? error : "(no sentence)");
      report_fn(path, m);
      continue;
    }
    g_autofree char *outpath = g_strconcat(dir, "/", base, ".out.xml", NULL);
    g_autofree char *expected = NULL;
    if (!g_file_get_contents(outpath, &expected, NULL, NULL))
      expected = g_strdup(input);
    if (strcmp(text, expected) != 0) {
      if (g_getenv("VIRTFS_REGENERATE"))
        g_file_set_contents(outpath, text, -1, NULL);
      g_autofree char *m = g_strdup_printf("output differs from the golden:\n%s", text);
      report_fn(path, m);
      continue;
    }
    g_autofree char *again = NULL, *error2 = NULL;
    if (rt(name, text, strlen(text), &again, &error2) < 0 || strcmp(again, text) != 0) {
      g_autofree char *m = g_strdup_printf("output is not a fixed point: %s",
                                           error2 ? error2 : again);
      report_fn(path, m);
    }
  }
  return checked;
}
