/* replay.c — a main() for fuzz targets built without libFuzzer (gcc, or
 * -Dfuzzing=false): runs the target once on every file named on the
 * command line or found in a directory named there (sorted, dot files
 * skipped). This is how the `fuzz` test suite replays the seed corpus and
 * the saved crash inputs in every build. Fails when no input was found, so
 * a misplaced corpus cannot pass silently. */
#include <errno.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

static gint cmp_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_file(const char *path) {
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &data, &len, &error)) {
    fprintf(stderr, "%s\n", error->message);
    return -EIO;
  }
  fprintf(stderr, "replay %s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
  LLVMFuzzerTestOneInput((const uint8_t *)data, len);
  return 0;
}

static int run_dir(const char *dir, unsigned *count) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
  if (!d) {
    fprintf(stderr, "%s\n", error->message);
    return -EIO;
  }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (name[0] != '.')
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, cmp_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
      continue;
    if (run_file(path) < 0)
      return -EIO;
    (*count)++;
  }
  return 0;
}

int main(int argc, char **argv) {
  unsigned count = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-')
      continue; /* libFuzzer flags (-runs=0, ...) mean nothing here */
    int r;
    if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
      r = run_dir(argv[i], &count);
    } else {
      r = run_file(argv[i]);
      count++;
    }
    if (r < 0)
      return 1;
  }
  if (count == 0) {
    fprintf(stderr, "no input to replay\n");
    return 1;
  }
  fprintf(stderr, "%u inputs replayed, no failure\n", count);
  return 0;
}
