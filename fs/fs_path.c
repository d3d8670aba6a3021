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

/* Kinds that live in a directory of their parent object. */
static const struct {
  ObjKind parent;
  const char *dir;
  ObjKind child;
} child_dirs[] = {
  {OBJ_POOL, "volumes", OBJ_VOLUME},
  {OBJ_DOMAIN, "snapshots", OBJ_SNAPSHOT},
};

ObjKind fs_path_parent_kind(ObjKind kind) {
  for (size_t i = 0; i < G_N_ELEMENTS(child_dirs); i++)
    if (child_dirs[i].child == kind)
      return child_dirs[i].parent;
  return OBJ_KIND_COUNT;
}

ObjKind fs_path_child_kind(ObjKind parent) {
  for (size_t i = 0; i < G_N_ELEMENTS(child_dirs); i++)
    if (child_dirs[i].parent == parent)
      return child_dirs[i].child;
  return OBJ_KIND_COUNT;
}

/* The child kind whose directory under an object of `parent` is `dir`. */
static bool child_dir_lookup(ObjKind parent, const char *dir, ObjKind *ret_child) {
  for (size_t i = 0; i < G_N_ELEMENTS(child_dirs); i++)
    if (child_dirs[i].parent == parent && strcmp(child_dirs[i].dir, dir) == 0) {
      *ret_child = child_dirs[i].child;
      return true;
    }
  return false;
}

void fs_path_clear(FsPath *path) {
  g_clear_pointer(&path->pool, g_free);
  g_clear_pointer(&path->name, g_free);
  g_clear_pointer(&path->file, g_free);
  g_clear_pointer(&path->sub, g_free);
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
  if (k == G_N_ELEMENTS(kind_dirs)) {
    if (n != 1 || strcmp(parts[0], "node") == 0)
      return -ENOENT;
    p.type = FS_PATH_ROOT_FILE;
    p.file = g_strdup(parts[0]);
    *ret_path = p;
    return 0;
  }
  p.kind = kind_dirs[k].kind;
  ObjKind child = OBJ_KIND_COUNT;
  bool children = n >= 3 && child_dir_lookup(p.kind, parts[2], &child);
  switch (n) {
  case 1:
    p.type = FS_PATH_KIND_DIR;
    break;
  case 2:
    p.type = FS_PATH_OBJ_DIR;
    p.name = g_strdup(parts[1]);
    break;
  case 3:
    if (children) {
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
  case 6:
    if (!children) {
      /* entry E of an object's own subdirectory D (history/0001.xml) */
      if (n != 4)
        return -ENOENT;
      p.type = FS_PATH_OBJ_SUBENTRY;
      p.name = g_strdup(parts[1]);
      p.file = g_strdup(parts[2]);
      p.sub = g_strdup(parts[3]);
      break;
    }
    p.kind = child;
    p.pool = g_strdup(parts[1]);
    p.name = g_strdup(parts[3]);
    p.type = n == 4 ? FS_PATH_OBJ_DIR : n == 5 ? FS_PATH_OBJ_ENTRY : FS_PATH_OBJ_SUBENTRY;
    if (n >= 5)
      p.file = g_strdup(parts[4]);
    if (n == 6)
      p.sub = g_strdup(parts[5]);
    break;
  default:
    return -ENOENT;
  }
  *ret_path = p;
  return 0;
}
