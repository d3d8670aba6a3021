/* storage_driver.c — the storage driver's front: the driver object, helper
 * program runs, shared I/O helpers, and the public calls that check names
 * and dispatch to the dir/fs backend (storage_fs.c) or the LVM backend
 * (storage_logical.c). See storage_driver.h for the contract. */
#include "drivers/storage/storage_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "drivers/storage/storage_parse.h"

int storage_fail(char **ret_error, int err, const char *fmt, ...) {
  if (ret_error) {
    va_list ap;
    va_start(ap, fmt);
    g_free(*ret_error);
    *ret_error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
  }
  return err;
}

static bool probe_device_mapper(void) {
  /* /dev/mapper/control can exist in a container whose kernel lacks the
   * driver; the kernel's list of misc devices is the truth. */
  g_autofree char *misc = NULL;
  if (!g_file_get_contents("/proc/misc", &misc, NULL, NULL))
    return false;
  g_auto(GStrv) lines = g_strsplit(misc, "\n", -1);
  for (char **l = lines; *l; l++) {
    const char *name = strchr(g_strstrip(*l), ' ');
    if (name && strcmp(name + 1, "device-mapper") == 0)
      return true;
  }
  return false;
}

int storage_driver_new(const StorageDriverOptions *opts, StorageDriver **ret_driver,
                       char **ret_error) {
  StorageDriver *drv = g_new0(StorageDriver, 1);
  drv->qemu_img = g_strdup(opts && opts->qemu_img ? opts->qemu_img : VIRTFS_QEMU_IMG_BINARY);
  drv->lvm_without_device_mapper = opts && opts->lvm_without_device_mapper;
  drv->have_device_mapper = probe_device_mapper();
  *ret_driver = drv;
  return 0;
}

void storage_driver_free(StorageDriver *drv) {
  if (!drv)
    return;
  g_free(drv->qemu_img);
  g_free(drv);
}

bool storage_driver_has_device_mapper(const StorageDriver *drv) {
  return drv->have_device_mapper;
}

/* ---- helper programs ---- */

static char *find_program(const char *name) {
  if (strchr(name, '/'))
    return g_strdup(name);
  char *found = g_find_program_in_path(name);
  if (found)
    return found;
  static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
  for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
    g_autofree char *p = g_build_filename(dirs[i], name, NULL);
    if (access(p, X_OK) == 0)
      return g_steal_pointer(&p);
  }
  return NULL;
}

/* stderr condensed to one line of reasonable length for the error file. */
static char *condense(const char *text) {
  g_autoptr(GString) out = g_string_new("");
  g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
  for (char **l = lines; *l; l++) {
    char *line = g_strstrip(*l);
    if (!*line)
      continue;
    if (out->len)
      g_string_append(out, "; ");
    g_string_append(out, line);
  }
  if (out->len > 600) {
    g_string_truncate(out, 600);
    g_string_append(out, "...");
  }
  if (!out->len)
    g_string_append(out, "no message");
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Runs argv; 0 once it ran (whatever its exit), with its wait status,
 * stdout and stderr; a negative errno when it could not be started. */
static int spawn(const char *const *argv, int *ret_status, char **ret_stdout, char **ret_stderr,
                 char **ret_error) {
  g_autofree char *prog = find_program(argv[0]);
  if (!prog)
    return storage_fail(ret_error, -EOPNOTSUPP, "%s is not installed on this host", argv[0]);
  guint argc = g_strv_length((GStrv)argv);
  g_autofree const char **av = g_new0(const char *, argc + 1);
  av[0] = prog;
  for (guint i = 1; i < argc; i++)
    av[i] = argv[i];
  g_auto(GStrv) env = g_get_environ();
  env = g_environ_setenv(env, "LC_ALL", "C", TRUE);
  env = g_environ_setenv(env, "LVM_SUPPRESS_FD_WARNINGS", "1", TRUE);
  GSpawnFlags flags = G_SPAWN_DEFAULT;
#if GLIB_CHECK_VERSION(2, 74, 0)
  flags |= G_SPAWN_STDIN_FROM_DEV_NULL;
#endif
  g_autoptr(GError) gerr = NULL;
  if (!g_spawn_sync(NULL, (char **)av, env, flags, NULL, NULL, ret_stdout, ret_stderr,
                    ret_status, &gerr))
    return storage_fail(ret_error, gerr->code == G_SPAWN_ERROR_NOENT ? -EOPNOTSUPP : -EIO,
                        "cannot run %s: %s", argv[0], gerr->message);
  return 0;
}

int storage_run(const char *const *argv, char **ret_stdout, char **ret_error) {
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  int r = spawn(argv, &status, &out, &err, ret_error);
  if (r < 0)
    return r;
  r = storage_exit_errno(status, err);
  if (r < 0) {
    bool sub = argv[1] && argv[1][0] != '-';
    g_autofree char *msg = condense(err);
    return storage_fail(ret_error, r, "%s%s%s failed: %s", argv[0], sub ? " " : "",
                        sub ? argv[1] : "", msg);
  }
  if (ret_stdout)
    *ret_stdout = g_steal_pointer(&out);
  return 0;
}

int storage_read_mountinfo(char **ret_text, char **ret_error) {
  g_autoptr(GError) gerr = NULL;
  if (!g_file_get_contents("/proc/self/mountinfo", ret_text, NULL, &gerr))
    return storage_fail(ret_error, -EIO, "cannot read the mount table: %s", gerr->message);
  return 0;
}

int storage_probe_signature(const char *device, char **ret_type, char **ret_pttype,
                            char **ret_error) {
  const char *argv[] = {"blkid", "-p", "-o", "export", device, NULL};
  g_autofree char *out = NULL, *err = NULL, *why = NULL;
  int status = 0;
  int r = spawn(argv, &status, &out, &err, &why);
  if (r < 0)
    return storage_fail(ret_error, r, "cannot probe %s: %s", device, why);
  /* blkid -p exits 2 when it finds nothing: an answer, not an error. */
  if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
    *ret_type = NULL;
    *ret_pttype = NULL;
    return 0;
  }
  if ((r = storage_exit_errno(status, err)) < 0) {
    g_autofree char *msg = condense(err);
    return storage_fail(ret_error, r, "cannot probe %s: blkid failed: %s", device, msg);
  }
  if (storage_blkid_parse(out, ret_type, ret_pttype) < 0)
    return storage_fail(ret_error, -EIO, "cannot probe %s: unexpected blkid output", device);
  return 0;
}

static bool all_zero(const char *buf, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (buf[i])
      return false;
  return true;
}

/* Copies [from, to) with copy_file_range, falling back to read/write. */
static int copy_range(int in, int out, off_t from, off_t to, bool out_sparse, char **ret_error) {
  bool use_cfr = true;
  g_autofree char *buf = NULL;
  while (from < to) {
    size_t want = (size_t)MIN((off_t)(8 << 20), to - from);
    if (use_cfr) {
      loff_t oi = from, oo = from;
      ssize_t n = copy_file_range(in, &oi, out, &oo, want, 0);
      if (n > 0) {
        from += n;
        continue;
      }
      if (n == 0)
        return storage_fail(ret_error, -EIO, "the source ended early while copying");
      if (errno == EINTR)
        continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
          errno != EBADF)
        return storage_fail(ret_error, -errno, "copying failed: %s", g_strerror(errno));
      use_cfr = false;
    }
    if (!buf)
      buf = g_malloc(1 << 20);
    size_t chunk = MIN(want, (size_t)(1 << 20));
    ssize_t n = pread(in, buf, chunk, from);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return storage_fail(ret_error, -errno, "reading failed: %s", g_strerror(errno));
    if (n == 0)
      return storage_fail(ret_error, -EIO, "the source ended early while copying");
    if (!(out_sparse && all_zero(buf, (size_t)n))) {
      for (ssize_t done = 0; done < n;) {
        ssize_t w = pwrite(out, buf + done, (size_t)(n - done), from + done);
        if (w < 0 && errno == EINTR)
          continue;
        if (w < 0)
          return storage_fail(ret_error, -errno, "writing failed: %s", g_strerror(errno));
        done += w;
      }
    }
    from += n;
  }
  return 0;
}

int storage_copy_sparse(int in, int out, uint64_t size, char **ret_error) {
  struct stat st;
  if (fstat(out, &st) < 0)
    return storage_fail(ret_error, -errno, "cannot stat the copy: %s", g_strerror(errno));
  bool out_sparse = S_ISREG(st.st_mode);
  off_t end = (off_t)size, pos = 0;
  int r;
  while (pos < end) {
    off_t data = lseek(in, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
      break; /* only a hole is left */
    off_t hole;
    if (data < 0) {
      /* No hole support (block devices, old filesystems): copy it all. */
      data = pos;
      hole = end;
    } else {
      hole = lseek(in, data, SEEK_HOLE);
      if (hole < 0 || hole > end)
        hole = end;
    }
    if (data >= end)
      break;
    if ((r = copy_range(in, out, data, hole, out_sparse, ret_error)) < 0)
      return r;
    pos = hole;
  }
  if (out_sparse && ftruncate(out, end) < 0)
    return storage_fail(ret_error, -errno, "cannot set the copy's size: %s", g_strerror(errno));
  return 0;
}

/* ---- public pool calls ---- */

int storage_pool_build(StorageDriver *drv, const PoolDef *pool, unsigned flags,
                       char **ret_error) {
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_build(drv, pool, flags, ret_error);
  return storage_fs_build(drv, pool, flags, ret_error);
}

int storage_pool_start(StorageDriver *drv, const PoolDef *pool, char **ret_error) {
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_start(drv, pool, ret_error);
  return storage_fs_start(drv, pool, ret_error);
}

int storage_pool_stop(StorageDriver *drv, const PoolDef *pool, char **ret_error) {
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_stop(drv, pool, ret_error);
  return storage_fs_stop(drv, pool, ret_error);
}

int storage_pool_delete(StorageDriver *drv, const PoolDef *pool, char **ret_error) {
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_delete(drv, pool, ret_error);
  return storage_fs_delete(drv, pool, ret_error);
}

int storage_pool_is_active(StorageDriver *drv, const PoolDef *pool, bool *ret_active,
                           char **ret_error) {
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_is_active(drv, pool, ret_active, ret_error);
  return storage_fs_is_active(drv, pool, ret_active, ret_error);
}

int storage_pool_info(StorageDriver *drv, const PoolDef *pool, PoolSizes *ret_sizes,
                      char **ret_error) {
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_info(drv, pool, ret_sizes, ret_error);
  return storage_fs_info(drv, pool, ret_sizes, ret_error);
}

int storage_pool_refresh(StorageDriver *drv, const PoolDef *pool, GPtrArray **ret_volumes,
                         char **ret_error) {
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_refresh(drv, pool, ret_volumes, ret_error);
  return storage_fs_refresh(drv, pool, ret_volumes, ret_error);
}

/* ---- public volume calls ---- */

static int check_name(const PoolDef *pool, const char *name, char **ret_error) {
  g_autofree char *why = NULL;
  int r = pool_volume_name_validate(pool, name, &why);
  if (r < 0)
    return storage_fail(ret_error, r, "'%s' is not a volume name in pool '%s': %s",
                        name ? name : "", pool->name, why);
  return 0;
}

int storage_volume_get(StorageDriver *drv, const PoolDef *pool, const char *name,
                       VolumeDef **ret_vol, char **ret_error) {
  int r = check_name(pool, name, ret_error);
  if (r < 0)
    return r;
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_get(drv, pool, name, ret_vol, ret_error);
  int dirfd = -1;
  if ((r = storage_fs_open_dir(drv, pool, &dirfd, ret_error)) < 0)
    return r;
  r = storage_file_get(drv, pool, dirfd, name, ret_vol, ret_error);
  close(dirfd);
  return r;
}

int storage_volume_create(StorageDriver *drv, const PoolDef *pool, const VolumeDef *def,
                          VolumeDef **ret_vol, char **ret_error) {
  g_autoptr(VolumeDef) resolved = volume_def_copy(def);
  g_autofree char *why = NULL;
  int r = volume_def_resolve(resolved, pool, &why);
  if (r < 0)
    return storage_fail(ret_error, r, "cannot create volume '%s' in pool '%s': %s",
                        def->name ? def->name : "", pool->name, why);
  if (!resolved->capacity_set && !resolved->backing_path)
    return storage_fail(ret_error, -EINVAL, "cannot create volume '%s': no capacity given",
                        def->name);
  r = pool->type == POOL_TYPE_LOGICAL ? storage_lvm_create(drv, pool, resolved, ret_error)
                                      : storage_file_create(drv, pool, resolved, ret_error);
  if (r < 0)
    return r;
  return ret_vol ? storage_volume_get(drv, pool, def->name, ret_vol, ret_error) : 0;
}

int storage_volume_clone(StorageDriver *drv, const PoolDef *pool, const char *src_name,
                         const char *new_name, const VolumeDef *def, VolumeDef **ret_vol,
                         char **ret_error) {
  int r;
  if ((r = check_name(pool, src_name, ret_error)) < 0 ||
      (r = check_name(pool, new_name, ret_error)) < 0)
    return r;
  r = pool->type == POOL_TYPE_LOGICAL
          ? storage_lvm_clone(drv, pool, src_name, new_name, def, ret_error)
          : storage_file_clone(drv, pool, src_name, new_name, def, ret_error);
  if (r < 0)
    return r;
  return ret_vol ? storage_volume_get(drv, pool, new_name, ret_vol, ret_error) : 0;
}

int storage_volume_delete(StorageDriver *drv, const PoolDef *pool, const char *name,
                          char **ret_error) {
  int r = check_name(pool, name, ret_error);
  if (r < 0)
    return r;
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_delete_volume(drv, pool, name, ret_error);
  return storage_file_delete(drv, pool, name, ret_error);
}

int storage_volume_rename(StorageDriver *drv, const PoolDef *pool, const char *name,
                          const char *new_name, char **ret_error) {
  int r;
  if ((r = check_name(pool, name, ret_error)) < 0 || (r = check_name(pool, new_name, ret_error)) < 0)
    return r;
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_rename(drv, pool, name, new_name, ret_error);
  return storage_file_rename(drv, pool, name, new_name, ret_error);
}

int storage_volume_resize(StorageDriver *drv, const PoolDef *pool, const char *name,
                          uint64_t capacity, unsigned flags, char **ret_error) {
  int r = check_name(pool, name, ret_error);
  if (r < 0)
    return r;
  if (capacity == 0)
    return storage_fail(ret_error, -EINVAL, "volume '%s' cannot be resized to 0 bytes", name);
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_resize(drv, pool, name, capacity, flags, ret_error);
  return storage_file_resize(drv, pool, name, capacity, flags, ret_error);
}

int storage_volume_wipe(StorageDriver *drv, const PoolDef *pool, const char *name,
                        char **ret_error) {
  int r = check_name(pool, name, ret_error);
  if (r < 0)
    return r;
  if (pool->type == POOL_TYPE_LOGICAL)
    return storage_lvm_wipe(drv, pool, name, ret_error);
  return storage_file_wipe(drv, pool, name, ret_error);
}
