/* fs_path.c — the pure path parser; see fs_path.h. */
#include "fs/fs_path.h"

#include <errno.h>
#include <string.h>

static const struct {
  const char *dir;
  ObjKind kind;
} kind_dirs[] = {
  {"domains", OBJ_DOMAIN},
  {"networks", OBJ_NETWORK},
  {"pools", OBJ_POOL},
};

const char *fs_kind_dir_name(ObjKind kind) {
  for (size_t i = 0; i < G_N_ELEMENTS(kind_dirs); i++)
    if (kind_dirs[i].kind == kind)
      return kind_dirs[i].dir;
  return NULL;
}

void fs_path_clear(FsPath *path) {
  g_clear_pointer(&path->pool, g_free);
  g_clear_pointer(&path->name, g_free);
  g_clear_pointer(&path->file, g_free);
}

int fs_path_parse(const char *path, FsPath *ret_path) {
  if (!path || path[0] != '/')
    return -ENOENT;
  g_auto(GStrv) parts = g_strsplit(path + 1, "/", 0);
  guint n = g_strv_length(parts);
  if (n == 1 && parts[0][0] == '\0')
    n = 0;
  for (guint i = 0; i < n; i++)
    if (parts[i][0] == '\0')
      return -ENOENT;

  FsPath p = {0};
  if (n == 0) {
    p.type = FS_PATH_ROOT;
    *ret_path = p;
    return 0;
  }
  if (strcmp(parts[0], "events") == 0 && n == 1) {
    p.type = FS_PATH_ROOT_FILE;
    p.file = g_strdup(parts[0]);
    *ret_path = p;
    return 0;
  }
  if (strcmp(parts[0], "node") == 0 && n <= 2) {
    p.type = n == 1 ? FS_PATH_NODE_DIR : FS_PATH_NODE_FILE;
    if (n == 2)
      p.file = g_strdup(parts[1]);
    *ret_path = p;
    return 0;
  }
  size_t k;
  for (k = 0; k < G_N_ELEMENTS(kind_dirs); k++)
    if (strcmp(parts[0], kind_dirs[k].dir) == 0)
      break;
  if (k == G_N_ELEMENTS(kind_dirs))
    return -ENOENT;
  p.kind = kind_dirs[k].kind;
  switch (n) {
  case 1:
    p.type = FS_PATH_KIND_DIR;
    break;
  case 2:
    p.type = FS_PATH_OBJ_DIR;
    p.name = g_strdup(parts[1]);
    break;
  case 3:
    if (p.kind == OBJ_POOL && strcmp(parts[2], "volumes") == 0) {
      p.type = FS_PATH_VOLUMES_DIR;
      p.pool = g_strdup(parts[1]);
    } else {
      p.type = FS_PATH_OBJ_ENTRY;
      p.name = g_strdup(parts[1]);
      p.file = g_strdup(parts[2]);
    }
    break;
  case 4:
  case 5:
    if (n == 4 && p.kind == OBJ_DOMAIN) {
      /* an entry of a directory inside the object (devices/) */
      p.type = FS_PATH_OBJ_ENTRY;
      p.name = g_strdup(parts[1]);
      p.file = g_strconcat(parts[2], "/", parts[3], NULL);
      break;
    }
    if (p.kind != OBJ_POOL || strcmp(parts[2], "volumes") != 0)
      return -ENOENT;
    p.kind = OBJ_VOLUME;
    p.pool = g_strdup(parts[1]);
    p.name = g_strdup(parts[3]);
    p.type = n == 4 ? FS_PATH_OBJ_DIR : FS_PATH_OBJ_ENTRY;
    if (n == 5)
      p.file = g_strdup(parts[4]);
    break;
  default:
    return -ENOENT;
  }
  *ret_path = p;
  return 0;
}
