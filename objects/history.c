/* history.c — numbered files of past definitions; see history.h. */
#include "objects/history.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objects/store.h"

struct History {
  char *dir;          /* STATE/history */
  unsigned max;
};

int history_open(const char *state_dir, unsigned max_entries, History **ret_history,
                 char **ret_error) {
  g_autoptr(History) h = g_new0(History, 1);
  h->dir = g_build_filename(state_dir, "history", NULL);
  h->max = max_entries;
  if (g_mkdir_with_parents(h->dir, 0755) < 0) {
    int err = errno;
    *ret_error = g_strdup_printf("cannot create %s: %s", h->dir, g_strerror(err));
    return -err;
  }
  *ret_history = g_steal_pointer(&h);
  return 0;
}

void history_free(History *h) {
  if (!h)
    return;
  g_free(h->dir);
  g_free(h);
}

unsigned history_max(const History *h) {
  return h->max;
}

char *history_entry_name(uint64_t number) {
  return g_strdup_printf("%04" G_GUINT64_FORMAT ".xml", number);
}

int history_entry_parse(const char *name, uint64_t *ret_number) {
  size_t digits = strspn(name, "0123456789");
  if (digits < 4 || digits > 18 || strcmp(name + digits, ".xml") != 0)
    return -EINVAL;
  uint64_t n = g_ascii_strtoull(name, NULL, 10);
  if (n == 0)
    return -EINVAL;
  /* One spelling per number: "0007.xml", never "00007.xml". */
  g_autofree char *canonical = history_entry_name(n);
  if (strcmp(canonical, name) != 0)
    return -EINVAL;
  *ret_number = n;
  return 0;
}

static int compare_u64(gconstpointer a, gconstpointer b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static char *key_dir(History *h, const char *key) {
  return g_build_filename(h->dir, key, NULL);
}

GArray *history_list(History *h, const char *key) {
  GArray *numbers = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  g_autofree char *dir_path = key_dir(h, key);
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  if (!dir)
    return numbers;
  const char *entry;
  while ((entry = g_dir_read_name(dir))) {
    uint64_t n;
    if (history_entry_parse(entry, &n) == 0)
      g_array_append_val(numbers, n);
  }
  g_array_sort(numbers, compare_u64);
  return numbers;
}

int history_read(History *h, const char *key, const char *name, GString *out,
                 int64_t *ret_mtime_us) {
  uint64_t n;
  if (history_entry_parse(name, &n) < 0)
    return -ENOENT;
  g_autofree char *path = g_build_filename(h->dir, key, name, NULL);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat st;
  int r = fstat(fd, &st) < 0 ? -errno : 0;
  char buf[16384];
  while (r == 0) {
    ssize_t got = read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      r = -errno;
    else if (got == 0)
      break;
    else
      g_string_append_len(out, buf, got);
  }
  close(fd);
  if (r == 0 && ret_mtime_us)
    *ret_mtime_us = (int64_t)st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
  return r;
}

static bool newest_equals(History *h, const char *key, uint64_t newest, const char *xml) {
  if (newest == 0)
    return false;
  g_autofree char *name = history_entry_name(newest);
  g_autoptr(GString) old = g_string_new(NULL);
  return history_read(h, key, name, old, NULL) == 0 && strcmp(old->str, xml) == 0;
}

int64_t history_add(History *h, const char *key, const char *xml, char **ret_error) {
  if (h->max == 0)
    return 0;
  g_autoptr(GArray) numbers = history_list(h, key);
  uint64_t newest = numbers->len ? g_array_index(numbers, uint64_t, numbers->len - 1) : 0;
  if (newest_equals(h, key, newest, xml))
    return 0;
  g_autofree char *dir_path = key_dir(h, key);
  if (g_mkdir_with_parents(dir_path, 0755) < 0) {
    int err = errno;
    *ret_error = g_strdup_printf("history: cannot create %s: %s", dir_path, g_strerror(err));
    return -err;
  }
  int dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    int err = errno;
    *ret_error = g_strdup_printf("history: cannot open %s: %s", dir_path, g_strerror(err));
    return -err;
  }
  g_autofree char *name = history_entry_name(newest + 1);
  g_autofree char *error = NULL;
  /* The entry's data is synced, its directory is not: a power loss may
   * lose the newest entry (the definition itself is stored with every
   * sync), never leave a torn one; it saves a write half its cost. */
  int r = store_write_at(dir_fd, name, xml, false, &error);
  if (r < 0) {
    close(dir_fd);
    *ret_error = g_strdup_printf("history: %s", error);
    return r;
  }
  /* The bound: the oldest go. Their removal need not be synced; a crash
   * leaves one entry too many, removed at the next add. */
  guint total = numbers->len + 1;
  for (guint i = 0; total > h->max && i < numbers->len; i++, total--) {
    g_autofree char *old = history_entry_name(g_array_index(numbers, uint64_t, i));
    unlinkat(dir_fd, old, 0);
  }
  close(dir_fd);
  return (int64_t)(newest + 1);
}

int history_rewrite(History *h, const char *key, HistoryEditFunc edit, void *user_data,
                    char **ret_error) {
  g_autoptr(GArray) numbers = history_list(h, key);
  if (numbers->len == 0)
    return 0;
  g_autofree char *dir_path = key_dir(h, key);
  int dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    int err = errno;
    *ret_error = g_strdup_printf("history: cannot open %s: %s", dir_path, g_strerror(err));
    return -err;
  }
  int r = 0;
  for (guint i = 0; i < numbers->len && r == 0; i++) {
    g_autofree char *name = history_entry_name(g_array_index(numbers, uint64_t, i));
    g_autoptr(GString) xml = g_string_new(NULL);
    int64_t mtime_us = 0;
    if (history_read(h, key, name, xml, &mtime_us) < 0)
      continue;
    g_autofree char *edited = edit(xml->str, user_data);
    if (!edited || strcmp(edited, xml->str) == 0)
      continue;
    g_autofree char *error = NULL;
    if ((r = store_write_at(dir_fd, name, edited, false, &error)) < 0) {
      *ret_error = g_strdup_printf("history: %s", error);
      break;
    }
    struct timespec times[2] = {
      {.tv_sec = mtime_us / G_USEC_PER_SEC, .tv_nsec = (mtime_us % G_USEC_PER_SEC) * 1000},
      {.tv_sec = mtime_us / G_USEC_PER_SEC, .tv_nsec = (mtime_us % G_USEC_PER_SEC) * 1000},
    };
    utimensat(dir_fd, name, times, 0);
  }
  close(dir_fd);
  return r;
}

static int remove_tree(const char *path) {
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  if (dir) {
    const char *entry;
    while ((entry = g_dir_read_name(dir))) {
      g_autofree char *child = g_build_filename(path, entry, NULL);
      if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
        remove_tree(child);
      else
        g_unlink(child);
    }
  }
  return g_rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
}

int history_rename(History *h, const char *old_key, const char *new_key, char **ret_error) {
  g_autofree char *from = key_dir(h, old_key);
  g_autofree char *to = key_dir(h, new_key);
  if (!g_file_test(from, G_FILE_TEST_IS_DIR))
    return 0;
  /* What a removed object of the new name left is not this object's past
   * (documented in docs/history.md). */
  if (g_file_test(to, G_FILE_TEST_IS_DIR))
    remove_tree(to);
  g_autofree char *parent = g_path_get_dirname(to);
  g_mkdir_with_parents(parent, 0755);
  if (rename(from, to) < 0) {
    int err = errno;
    *ret_error = g_strdup_printf("history: cannot move %s to %s: %s", from, to,
                                 g_strerror(err));
    return -err;
  }
  return 0;
}
