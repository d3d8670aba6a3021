/* fs_path.h — turns a path of the mounted tree into what it names, without
 * looking anything up (pure). The FUSE layer resolves a path once, with this
 * parser and then one registry lookup.
 *
 *   /                              FS_PATH_ROOT
 *   /F (events, metrics, ...)      FS_PATH_ROOT_FILE   file=F
 *   /node                          FS_PATH_NODE_DIR
 *   /node/F                        FS_PATH_NODE_FILE   file=F
 *   /domains /networks /pools      FS_PATH_KIND_DIR    kind
 *   /domains/N                     FS_PATH_OBJ_DIR     kind, name=N
 *   /domains/N/F                   FS_PATH_OBJ_ENTRY   kind, name=N, file=F
 *   /pools/P/volumes               FS_PATH_VOLUMES_DIR pool=P
 *   /pools/P/volumes/V             FS_PATH_OBJ_DIR     kind=volume, pool=P, name=V
 *   /pools/P/volumes/V/F           FS_PATH_OBJ_ENTRY   kind=volume, pool=P, name=V, file=F
 *   /domains/D/snapshots           FS_PATH_VOLUMES_DIR kind=domain, pool=D
 *   /domains/D/snapshots/S         FS_PATH_OBJ_DIR     kind=snapshot, pool=D, name=S
 *   /domains/D/snapshots/S/F       FS_PATH_OBJ_ENTRY   kind=snapshot, pool=D, name=S, file=F
 *
 * FS_PATH_VOLUMES_DIR is the directory of an object's children (a pool's
 * volumes, a domain's snapshots); `pool` then holds the parent's name.
 *
 *   /domains/N/D/E                 FS_PATH_OBJ_SUBENTRY kind, name=N, file=D, sub=E
 *   /pools/P/volumes/V/D/E         FS_PATH_OBJ_SUBENTRY kind=volume, pool=P, name=V,
 *                                                      file=D, sub=E
 * (entry E of an object's subdirectory D, such as history/0001.xml)
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
  FS_PATH_OBJ_SUBENTRY,
} FsPathType;

typedef struct {
  FsPathType type;
  ObjKind kind;  /* KIND_DIR, OBJ_DIR, OBJ_ENTRY */
  char *pool;    /* children (volumes, snapshots): the parent's name */
  char *name;    /* OBJ_DIR, OBJ_ENTRY: the object's name */
  char *file;    /* ROOT_FILE, NODE_FILE, OBJ_ENTRY: the last component;
                    OBJ_SUBENTRY: the subdirectory */
  char *sub;     /* OBJ_SUBENTRY: the entry in the subdirectory */
} FsPath;

/* Parses an absolute path as FUSE gives it. 0 or -ENOENT. */
int fs_path_parse(const char *path, FsPath *ret_path);
void fs_path_clear(FsPath *path);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(FsPath, fs_path_clear)

/* The kind of the parent of a child kind (pool for volume, domain for
 * snapshot); OBJ_KIND_COUNT for top-level kinds. */
ObjKind fs_path_parent_kind(ObjKind kind);
/* The kind listed in the children directory of a parent kind (volume for
 * pool, snapshot for domain); OBJ_KIND_COUNT when it has none. */
ObjKind fs_path_child_kind(ObjKind parent);

/* The top-level directory name of a kind ("domains"), NULL for volumes. */
const char *fs_kind_dir_name(ObjKind kind);
