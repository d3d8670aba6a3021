/* store.c — atomic persistence of definitions; see store.h. */
#include "objects/store.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objects/log.h"

struct Store {
  char *state_dir;
  int dir_fds[OBJ_KIND_COUNT];  /* -1 for kinds not stored (volumes) */
};

static const char *const kind_dirs[OBJ_KIND_COUNT] = {
  [OBJ_DOMAIN] = "domains", [OBJ_NETWORK] = "networks", [OBJ_POOL] = "pools",
};

static int fail_errno(char **ret_error, int err, const char *what, const char *path) {
  if (ret_error)
    *ret_error = g_strdup_printf("%s %s: %s", what, path, g_strerror(err));
  return -err;
}

int store_open(const char *state_dir, Store **ret_store, char **ret_error) {
  g_autoptr(Store) s = g_new0(Store, 1);
  s->state_dir = g_strdup(state_dir);
  for (int k = 0; k < OBJ_KIND_COUNT; k++)
    s->dir_fds[k] = -1;
  if (g_mkdir_with_parents(state_dir, 0755) < 0)
    return fail_errno(ret_error, errno, "cannot create the state directory", state_dir);
  for (int k = 0; k < OBJ_KIND_COUNT; k++) {
    if (!kind_dirs[k])
      continue;
    g_autofree char *path = g_build_filename(state_dir, kind_dirs[k], NULL);
    if (g_mkdir_with_parents(path, 0755) < 0)
      return fail_errno(ret_error, errno, "cannot create", path);
    s->dir_fds[k] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fds[k] < 0)
      return fail_errno(ret_error, errno, "cannot open", path);
  }
  *ret_store = g_steal_pointer(&s);
  return 0;
}

void store_free(Store *store) {
  if (!store)
    return;
  for (int k = 0; k < OBJ_KIND_COUNT; k++)
    if (store->dir_fds[k] >= 0)
      close(store->dir_fds[k]);
  g_free(store->state_dir);
  g_free(store);
}

const char *store_state_dir(const Store *store) {
  return store->state_dir;
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* See store.h. */
int store_write_at(int dir_fd, const char *file, const char *content, bool sync_dir,
                   char **ret_error) {
  g_autofree char *tmp = g_strdup_printf(".%s.tmp", file);
  int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail_errno(ret_error, errno, "cannot create", tmp);
  int r = write_all(fd, content, strlen(content));
  if (r == 0 && fsync(fd) < 0)
    r = -errno;
  if (close(fd) < 0 && r == 0)
    r = -errno;
  if (r == 0 && renameat(dir_fd, tmp, dir_fd, file) < 0)
    r = -errno;
  if (r < 0) {
    unlinkat(dir_fd, tmp, 0);
    return fail_errno(ret_error, -r, "cannot store", file);
  }
  if (sync_dir && fsync(dir_fd) < 0)
    return fail_errno(ret_error, errno, "cannot sync the directory of", file);
  return 0;
}

int store_write_file_atomic(const char *dir, const char *file, const char *content,
                            char **ret_error) {
  int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return fail_errno(ret_error, errno, "cannot open", dir);
  int r = store_write_at(dir_fd, file, content, true, ret_error);
  close(dir_fd);
  return r;
}

static int kind_fd(Store *store, ObjKind kind) {
  g_assert((unsigned)kind < OBJ_KIND_COUNT && store->dir_fds[kind] >= 0);
  return store->dir_fds[kind];
}

int store_save(Store *store, ObjKind kind, const char *name, const char *xml, char **ret_error) {
  g_autofree char *file = g_strdup_printf("%s.xml", name);
  return store_write_at(kind_fd(store, kind), file, xml, true, ret_error);
}

static int unlink_if_present(int dir_fd, const char *file, char **ret_error) {
  if (unlinkat(dir_fd, file, 0) < 0 && errno != ENOENT)
    return fail_errno(ret_error, errno, "cannot remove", file);
  return 0;
}

char *store_extra_dir(Store *store, ObjKind kind, const char *name) {
  return g_strdup_printf("%s/%s/%s.cloud-init", store->state_dir, kind_dirs[kind], name);
}

int store_extra_read(Store *store, ObjKind kind, const char *name, const char *file,
                     char **ret_content, char **ret_error) {
  g_autofree char *dir = store_extra_dir(store, kind, name);
  g_autofree char *path = g_build_filename(dir, file, NULL);
  g_autoptr(GError) err = NULL;
  *ret_content = NULL;
  if (g_file_get_contents(path, ret_content, NULL, &err))
    return 0;
  if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return 0;
  *ret_error = g_strdup_printf("cannot read %s: %s", file, err->message);
  return -EIO;
}

int store_extra_write(Store *store, ObjKind kind, const char *name, const char *file,
                      const char *content, char **ret_error) {
  g_autofree char *dir = store_extra_dir(store, kind, name);
  if (!content) {
    g_autofree char *path = g_build_filename(dir, file, NULL);
    if (unlink(path) < 0 && errno != ENOENT)
      return fail_errno(ret_error, errno, "cannot remove", file);
    rmdir(dir); /* only when it was the last file */
    return 0;
  }
  if (g_mkdir_with_parents(dir, 0755) < 0)
    return fail_errno(ret_error, errno, "cannot create", dir);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return fail_errno(ret_error, errno, "cannot open", dir);
  int r = store_write_at(fd, file, content, true, ret_error);
  close(fd);
  return r;
}

/* Removes NAME.cloud-init/ and the files in it. */
static int remove_extra(Store *store, ObjKind kind, const char *name, char **ret_error) {
  g_autofree char *dir = store_extra_dir(store, kind, name);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (!d)
    return 0;
  const char *entry;
  while ((entry = g_dir_read_name(d))) {
    g_autofree char *path = g_build_filename(dir, entry, NULL);
    if (unlink(path) < 0 && errno != ENOENT)
      return fail_errno(ret_error, errno, "cannot remove", path);
  }
  if (rmdir(dir) < 0 && errno != ENOENT)
    return fail_errno(ret_error, errno, "cannot remove", dir);
  return 0;
}

int store_remove(Store *store, ObjKind kind, const char *name, char **ret_error) {
  int fd = kind_fd(store, kind);
  int er = remove_extra(store, kind, name, ret_error);
  if (er < 0)
    return er;
  g_autofree char *xml = g_strdup_printf("%s.xml", name);
  g_autofree char *mark = g_strdup_printf("%s.autostart", name);
  int r = unlink_if_present(fd, mark, ret_error);
  if (r == 0)
    r = unlink_if_present(fd, xml, ret_error);
  if (r == 0)
    fsync(fd);
  return r;
}

int store_rename(Store *store, ObjKind kind, const char *old_name, const char *new_name,
                 const char *new_xml, char **ret_error) {
  int fd = kind_fd(store, kind);
  g_autofree char *old_mark = g_strdup_printf("%s.autostart", old_name);
  bool autostart = faccessat(fd, old_mark, F_OK, 0) == 0;
  int r = store_save(store, kind, new_name, new_xml, ret_error);
  if (r < 0)
    return r;
  if (autostart && (r = store_set_autostart(store, kind, new_name, true, ret_error)) < 0)
    return r;
  g_autofree char *old_extra = store_extra_dir(store, kind, old_name);
  g_autofree char *new_extra = store_extra_dir(store, kind, new_name);
  if (rename(old_extra, new_extra) < 0 && errno != ENOENT)
    return fail_errno(ret_error, errno, "cannot rename", old_extra);
  return store_remove(store, kind, old_name, ret_error);
}

int store_set_autostart(Store *store, ObjKind kind, const char *name, bool autostart,
                        char **ret_error) {
  int fd = kind_fd(store, kind);
  g_autofree char *mark = g_strdup_printf("%s.autostart", name);
  if (!autostart) {
    int r = unlink_if_present(fd, mark, ret_error);
    if (r == 0)
      fsync(fd);
    return r;
  }
  return store_write_at(fd, mark, "", true, ret_error);
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_load_all(Store *store, ObjKind kind, StoreLoadFunc fn, void *user_data) {
  int fd = kind_fd(store, kind);
  g_autofree char *dir_path = g_build_filename(store->state_dir, kind_dirs[kind], NULL);
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  if (!dir)
    return 0;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *entry;
  while ((entry = g_dir_read_name(dir))) {
    if (entry[0] == '.' || !g_str_has_suffix(entry, ".xml"))
      continue;
    g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
  }
  g_ptr_array_sort(names, compare_strings);
  int count = 0;
  for (guint i = 0; i < names->len; i++) {
    const char *name = names->pdata[i];
    g_autofree char *path = g_strdup_printf("%s/%s.xml", dir_path, name);
    g_autofree char *xml = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &xml, &len, &err)) {
      log_error("cannot read %s: %s (skipped, left in place)", path, err->message);
      continue;
    }
    g_autofree char *mark = g_strdup_printf("%s.autostart", name);
    bool autostart = faccessat(fd, mark, F_OK, 0) == 0;
    fn(name, xml, len, autostart, user_data);
    count++;
  }
  return count;
}
