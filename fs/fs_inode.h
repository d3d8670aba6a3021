/* fs_inode.h — the inode numbers of the low-level FUSE API. The kernel
 * names everything by an inode number it got from a lookup (or a
 * readdirplus, mkdir, create) and counts how often; fs_ops.c turns a number
 * back into a path and resolves the path as it always did (fs_path.c and one
 * registry lookup), so what a path means is decided in one place only.
 *
 * An inode is a name in a parent inode. It lives while the kernel holds a
 * lookup count on it or on one of its children; an unlink, rmdir or a
 * rename over it takes the name away at once (its path is then NULL and
 * only open handles reach it), a rename moves it with its children. The
 * root is FUSE_ROOT_ID and lives for ever. Inode numbers are never reused,
 * so generation numbers stay 0.
 *
 * Thread-safe: one mutex; nothing else is called under it. */
#pragma once

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct FsInodes FsInodes;

FsInodes *fs_inodes_new(void);
void fs_inodes_free(FsInodes *t);

/* Finds or makes the inode of `name` in `parent` and counts one lookup.
 * 0 when `parent` is unknown. */
fuse_ino_t fs_inodes_lookup(FsInodes *t, fuse_ino_t parent, const char *name, bool is_dir);

/* The inode of `name` in `parent` if the kernel knows it, else 0 (nothing
 * is counted). */
fuse_ino_t fs_inodes_find(FsInodes *t, fuse_ino_t parent, const char *name);

/* The kernel dropped `nlookup` lookups. */
void fs_inodes_forget(FsInodes *t, fuse_ino_t ino, uint64_t nlookup);

/* The absolute path of an inode (newly allocated), or NULL when the inode
 * is unknown or it or a parent was removed. */
char *fs_inodes_path(FsInodes *t, fuse_ino_t ino);
/* The path of `name` in directory `parent`, or NULL as above. */
char *fs_inodes_child_path(FsInodes *t, fuse_ino_t parent, const char *name);

bool fs_inodes_is_dir(FsInodes *t, fuse_ino_t ino);

/* unlink, rmdir: the name no longer leads to its inode. */
void fs_inodes_remove(FsInodes *t, fuse_ino_t parent, const char *name);
/* rename: the inode of `name` (if known) now answers to `newname` in
 * `newparent`, and whatever had that name loses it. */
void fs_inodes_rename(FsInodes *t, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname);

/* How many inodes are known (the root included). */
unsigned fs_inodes_count(FsInodes *t);
