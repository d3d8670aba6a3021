/* fs_path.h — turns a path of the mounted tree into what it names, without
 * looking anything up (pure). The FUSE layer resolves a path once, with this
 * parser and then one registry lookup.
 *
 *   /                              FS_PATH_ROOT
 *   /events                        FS_PATH_ROOT_FILE   file="events"
 *   /node                          FS_PATH_NODE_DIR
 *   /node/F                        FS_PATH_NODE_FILE   file=F
 *   /domains /networks /pools      FS_PATH_KIND_DIR    kind
 *   /domains/N                     FS_PATH_OBJ_DIR     kind, name=N
 *   /domains/N/F                   FS_PATH_OBJ_ENTRY   kind, name=N, file=F
 *   /domains/N/D/E                 FS_PATH_OBJ_ENTRY   kind, name=N, file="D/E" (an
 *                                  entry of a data directory such as devices/)
 *   /pools/P/volumes               FS_PATH_VOLUMES_DIR pool=P
 *   /pools/P/volumes/V             FS_PATH_OBJ_DIR     kind=volume, pool=P, name=V
 *   /pools/P/volumes/V/F           FS_PATH_OBJ_ENTRY   kind=volume, pool=P, name=V, file=F
 *
 * Anything else is -ENOENT. Names are not validated here (a lookup of an
 * invalid name simply finds nothing); creation validates them. */
#pragma once

#include <glib.h>

#include "objects/obj.h"

typedef enum {
  FS_PATH_ROOT,
  FS_PATH_ROOT_FILE,
  FS_PATH_NODE_DIR,
  FS_PATH_NODE_FILE,
  FS_PATH_KIND_DIR,
  FS_PATH_OBJ_DIR,
  FS_PATH_OBJ_ENTRY,
  FS_PATH_VOLUMES_DIR,
} FsPathType;

typedef struct {
  FsPathType type;
  ObjKind kind;  /* KIND_DIR, OBJ_DIR, OBJ_ENTRY */
  char *pool;    /* volumes: the pool's name */
  char *name;    /* OBJ_DIR, OBJ_ENTRY: the object's name */
  char *file;    /* ROOT_FILE, NODE_FILE, OBJ_ENTRY: the last component */
} FsPath;

/* Parses an absolute path as FUSE gives it. 0 or -ENOENT. */
int fs_path_parse(const char *path, FsPath *ret_path);
void fs_path_clear(FsPath *path);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(FsPath, fs_path_clear)

/* The top-level directory name of a kind ("domains"), NULL for volumes. */
const char *fs_kind_dir_name(ObjKind kind);
