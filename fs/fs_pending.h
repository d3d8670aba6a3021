/* fs_pending.h — table files that a tool removed or truncated by path and is
 * about to write again (clients.md 10, 11): vim renames config.xml away and
 * creates it anew, install and mv unlink it first, truncate(1) empties it by
 * path. Such a file is hidden (or starts empty) for a short grace period and
 * comes back with its stored content if nothing is written; nothing is ever
 * undefined by it. Stored in Obj.pending under Obj.lock. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "objects/obj.h"

#define FS_PENDING_GRACE_US (10 * G_USEC_PER_SEC)

typedef struct {
  int64_t expiry_us;   /* monotonic */
  bool hidden;
  bool truncated;
  off_t truncate_to;
  bool creating;       /* an entry of a data directory (devices/) was
                          created and its content is not applied yet */
} FsPending;

bool fs_pending_is_hidden(Obj *obj, const char *file);
void fs_pending_hide(Obj *obj, const char *file);
void fs_pending_truncate(Obj *obj, const char *file, off_t size);
/* Shows every hidden file of obj again at once (a refused rmdir). */
void fs_pending_reveal_all(Obj *obj);
/* An entry of a data directory exists, empty, from its creation until its
 * content is applied (fs_pending_take) or the grace period ends: the
 * kernel looks a created file up before anything is written to it. */
void fs_pending_create(Obj *obj, const char *file);
bool fs_pending_is_creating(Obj *obj, const char *file);
/* Removes the entry; returns whether a truncation was pending (and its size). */
bool fs_pending_take(Obj *obj, const char *file, off_t *ret_truncate_to);
