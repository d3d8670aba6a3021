/* storage_parse.c — pure parsers of tool output and file headers for the
 * storage driver, and its exit-status-to-errno mapping; see storage_parse.h. */
#include "drivers/storage/storage_parse.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "objects/values.h"

VolumeFormat storage_format_detect(const void *buf, size_t len) {
  const unsigned char *b = buf;
  /* Magic, then a big-endian version: qemu writes 2 or 3. Checking the
   * version keeps a raw disk that happens to start with "QFI\xfb" (say, a
   * qcow2 image stored inside a raw disk's first sector) from being
   * misread as one more often than the magic alone would. */
  if (len >= 8 && b[0] == 'Q' && b[1] == 'F' && b[2] == 'I' && b[3] == 0xfb &&
      b[4] == 0 && b[5] == 0 && b[6] == 0 && (b[7] == 2 || b[7] == 3))
    return VOLUME_FORMAT_QCOW2;
  return VOLUME_FORMAT_RAW;
}

int storage_blkid_parse(const char *text, char **ret_type, char **ret_pttype) {
  if (!text)
    return -EINVAL;
  g_autofree char *type = NULL, *pttype = NULL;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    char *line = g_strstrip(*l);
    if (!*line)
      continue;
    char *eq = strchr(line, '=');
    if (!eq || eq == line)
      return -EINVAL;
    *eq = '\0';
    if (strcmp(line, "TYPE") == 0)
      { g_free(type); type = g_strdup(eq + 1); }
    else if (strcmp(line, "PTTYPE") == 0)
      { g_free(pttype); pttype = g_strdup(eq + 1); }
  }
  *ret_type = g_steal_pointer(&type);
  *ret_pttype = g_steal_pointer(&pttype);
  return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s) {
  GString *out = g_string_new("");
  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
        s[3] >= '0' && s[3] <= '7') {
      g_string_append_c(out, (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0')));
      s += 3;
    } else {
      g_string_append_c(out, *s);
    }
  }
  return g_string_free(out, FALSE);
}

/* Splits one mountinfo line into mount point, fstype and source. */
static bool mountinfo_line(const char *line, char **ret_target, char **ret_fstype,
                           char **ret_source) {
  g_auto(GStrv) f = g_strsplit(line, " ", -1);
  guint n = g_strv_length(f);
  if (n < 10)
    return false;
  guint dash = 6;
  while (dash < n && strcmp(f[dash], "-") != 0)
    dash++;
  if (dash + 2 >= n)
    return false;
  *ret_target = unescape(f[4]);
  *ret_fstype = unescape(f[dash + 1]);
  *ret_source = unescape(f[dash + 2]);
  return true;
}

int storage_mountinfo_find(const char *text, const char *target, char **ret_source,
                           char **ret_fstype) {
  g_autofree char *source = NULL, *fstype = NULL;
  bool found = false;
  g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
  for (char **l = lines; *l; l++) {
    g_autofree char *t = NULL, *fs = NULL, *src = NULL;
    if (!mountinfo_line(*l, &t, &fs, &src) || strcmp(t, target) != 0)
      continue;
    found = true;
    g_free(source);
    source = g_steal_pointer(&src);
    g_free(fstype);
    fstype = g_steal_pointer(&fs);
  }
  if (!found)
    return 0;
  if (ret_source)
    *ret_source = g_steal_pointer(&source);
  if (ret_fstype)
    *ret_fstype = g_steal_pointer(&fstype);
  return 1;
}

bool storage_mountinfo_has_source(const char *text, const char *source) {
  g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
  for (char **l = lines; *l; l++) {
    g_autofree char *t = NULL, *fs = NULL, *src = NULL;
    if (mountinfo_line(*l, &t, &fs, &src) && strcmp(src, source) == 0)
      return true;
  }
  return false;
}

GStrv storage_mountinfo_sources(const char *text) {
  GPtrArray *out = g_ptr_array_new();
  g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
  for (char **l = lines; *l; l++) {
    g_autofree char *t = NULL, *fs = NULL, *src = NULL;
    if (mountinfo_line(*l, &t, &fs, &src))
      g_ptr_array_add(out, g_steal_pointer(&src));
  }
  g_ptr_array_add(out, NULL);
  return (GStrv)g_ptr_array_free(out, FALSE);
}

void storage_lv_free(StorageLv *lv) {
  if (!lv)
    return;
  g_free(lv->name);
  g_free(lv->attr);
  g_free(lv);
}

static gint lv_compare(gconstpointer a, gconstpointer b) {
  const StorageLv *x = *(StorageLv *const *)a, *y = *(StorageLv *const *)b;
  return strcmp(x->name, y->name);
}

int storage_lvs_parse(const char *text, GPtrArray **ret_lvs) {
  if (!text)
    return -EINVAL;
  g_autoptr(GPtrArray) lvs = g_ptr_array_new_with_free_func((GDestroyNotify)storage_lv_free);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    char *line = g_strstrip(*l);
    if (!*line)
      continue;
    g_auto(GStrv) f = g_strsplit(line, "|", -1);
    uint64_t size;
    if (g_strv_length(f) != 3 || !*f[0] || value_parse_uint(f[1], 0, UINT64_MAX, &size) < 0)
      return -EINVAL;
    StorageLv *lv = g_new0(StorageLv, 1);
    lv->name = g_strdup(f[0]);
    lv->size = size;
    lv->attr = g_strdup(f[2]);
    g_ptr_array_add(lvs, lv);
  }
  g_ptr_array_sort(lvs, lv_compare);
  *ret_lvs = g_steal_pointer(&lvs);
  return 0;
}

int storage_vgs_parse(const char *text, uint64_t *ret_size, uint64_t *ret_free,
                      uint64_t *ret_extent) {
  if (!text)
    return -EINVAL;
  g_autofree char *copy = g_strstrip(g_strdup(text));
  if (strchr(copy, '\n'))
    return -EINVAL;
  g_auto(GStrv) f = g_strsplit(copy, "|", -1);
  uint64_t size, free_bytes, extent;
  if (g_strv_length(f) != 3 || value_parse_uint(g_strstrip(f[0]), 0, UINT64_MAX, &size) < 0 ||
      value_parse_uint(g_strstrip(f[1]), 0, UINT64_MAX, &free_bytes) < 0 ||
      value_parse_uint(g_strstrip(f[2]), 1, UINT64_MAX, &extent) < 0 || free_bytes > size)
    return -EINVAL;
  *ret_size = size;
  *ret_free = free_bytes;
  *ret_extent = extent;
  return 0;
}

GStrv storage_mkfs_argv(PoolFormat format, const char *device) {
  const char *prog = NULL;
  const char *force = NULL, *quiet = NULL;
  switch (format) {
  case POOL_FORMAT_EXT2: prog = "mkfs.ext2"; force = "-F"; quiet = "-q"; break;
  case POOL_FORMAT_EXT3: prog = "mkfs.ext3"; force = "-F"; quiet = "-q"; break;
  case POOL_FORMAT_EXT4: prog = "mkfs.ext4"; force = "-F"; quiet = "-q"; break;
  case POOL_FORMAT_XFS: prog = "mkfs.xfs"; force = "-f"; quiet = "-q"; break;
  case POOL_FORMAT_BTRFS: prog = "mkfs.btrfs"; force = "-f"; quiet = "-q"; break;
  case POOL_FORMAT_VFAT: prog = "mkfs.vfat"; break;
  case POOL_FORMAT_AUTO:
  case POOL_FORMAT_LVM2:
  case POOL_FORMAT_NFS:
  case POOL_FORMAT_CIFS:
    return NULL;
  }
  /* The force flags only let the tools work on an image file or a whole
   * disk without asking; the driver has already refused a device that holds
   * a filesystem unless overwrite was requested. */
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, g_strdup(prog));
  if (force)
    g_ptr_array_add(argv, g_strdup(force));
  if (quiet)
    g_ptr_array_add(argv, g_strdup(quiet));
  g_ptr_array_add(argv, g_strdup(device));
  g_ptr_array_add(argv, NULL);
  return (GStrv)g_ptr_array_free(argv, FALSE);
}

/* Case-insensitive: `lower` is already lowercase, the needle is folded. */
static bool has(const char *lower, const char *needle) {
  g_autofree char *n = g_ascii_strdown(needle, -1);
  return strstr(lower, n) != NULL;
}

int storage_exit_errno(int wait_status, const char *stderr_text) {
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0)
    return 0;
  if (WIFSIGNALED(wait_status))
    return -EIO;
  g_autofree char *e = g_ascii_strdown(stderr_text ? stderr_text : "", -1);
  if (has(e, "No space left") || has(e, "Insufficient free space") ||
      has(e, "Disk quota exceeded"))
    return -ENOSPC;
  if (has(e, "Failed to get \"write\" lock") || has(e, "Failed to get shared \"write\" lock") ||
      has(e, "is busy") || has(e, "Device or resource busy") || has(e, "in use"))
    return -EBUSY;
  if (has(e, "Permission denied"))
    return -EACCES;
  if (has(e, "Operation not permitted"))
    return -EPERM;
  if (has(e, "already exists") || has(e, "File exists"))
    return -EEXIST;
  if (has(e, "No such file") || has(e, "not found") || has(e, "Failed to find") ||
      has(e, "does not exist"))
    return -ENOENT;
  if (has(e, "not supported") || has(e, "unknown filesystem type"))
    return -EOPNOTSUPP;
  if (has(e, "Invalid argument") || has(e, "Invalid parameter") || has(e, "must be"))
    return -EINVAL;
  return -EIO;
}

char *storage_netfs_source(const PoolDef *pool) {
  if (pool->source_format == POOL_FORMAT_CIFS) {
    /* //HOST/SHARE: the share is the dir without its leading '/'. */
    return g_strdup_printf("//%s/%s", pool->source_host, pool->source_dir + 1);
  }
  return g_strdup_printf("%s:%s", pool->source_host, pool->source_dir);
}

const char *storage_netfs_fstype(const PoolDef *pool) {
  switch (pool->source_format) {
  case POOL_FORMAT_CIFS: return "cifs";
  case POOL_FORMAT_NFS: return "nfs";
  default: return NULL;
  }
}

GStrv storage_netfs_mount_argv(const PoolDef *pool) {
  GPtrArray *argv = g_ptr_array_new();
  g_autoptr(GString) opts = g_string_new("nosuid,nodev,noexec");
  if (pool->source_format == POOL_FORMAT_CIFS)
    g_string_append(opts, ",guest");
  else if (pool->source_protocol)
    g_string_append_printf(opts, ",nfsvers=%u", pool->source_protocol);
  if (pool->source_port)
    g_string_append_printf(opts, ",port=%u", pool->source_port);
  g_ptr_array_add(argv, g_strdup("mount"));
  g_ptr_array_add(argv, g_strdup("-o"));
  g_ptr_array_add(argv, g_strdup(opts->str));
  const char *type = storage_netfs_fstype(pool);
  if (type) {
    g_ptr_array_add(argv, g_strdup("-t"));
    g_ptr_array_add(argv, g_strdup(type));
  }
  g_ptr_array_add(argv, storage_netfs_source(pool));
  g_ptr_array_add(argv, g_strdup(pool->target_path));
  g_ptr_array_add(argv, NULL);
  return (GStrv)g_ptr_array_free(argv, FALSE);
}

bool storage_filesystems_has(const char *text, const char *fstype) {
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    const char *name = strrchr(*l, '\t');
    name = name ? name + 1 : *l;
    if (strcmp(g_strstrip((char *)name), fstype) == 0)
      return true;
  }
  return false;
}
