/* fs_pending.c — hidden and truncated-by-path table files; see fs_pending.h. */
#include "fs/fs_pending.h"

/* obj->lock held. The live entry for `file`, dropping an expired one. */
static FsPending *lookup_locked(Obj *obj, const char *file) {
  FsPending *p = g_hash_table_lookup(obj->pending, file);
  if (p && p->expiry_us < g_get_monotonic_time()) {
    g_hash_table_remove(obj->pending, file);
    p = NULL;
  }
  return p;
}

static FsPending *ensure_locked(Obj *obj, const char *file) {
  FsPending *p = lookup_locked(obj, file);
  if (!p) {
    p = g_new0(FsPending, 1);
    g_hash_table_insert(obj->pending, g_strdup(file), p);
  }
  p->expiry_us = g_get_monotonic_time() + FS_PENDING_GRACE_US;
  return p;
}

bool fs_pending_is_hidden(Obj *obj, const char *file) {
  g_mutex_lock(&obj->lock);
  FsPending *p = g_hash_table_size(obj->pending) ? lookup_locked(obj, file) : NULL;
  bool hidden = p && p->hidden;
  g_mutex_unlock(&obj->lock);
  return hidden;
}

void fs_pending_hide(Obj *obj, const char *file) {
  g_mutex_lock(&obj->lock);
  ensure_locked(obj, file)->hidden = true;
  g_mutex_unlock(&obj->lock);
}

void fs_pending_create(Obj *obj, const char *file) {
  g_mutex_lock(&obj->lock);
  ensure_locked(obj, file)->creating = true;
  g_mutex_unlock(&obj->lock);
}

bool fs_pending_is_creating(Obj *obj, const char *file) {
  g_mutex_lock(&obj->lock);
  FsPending *p = g_hash_table_size(obj->pending) ? lookup_locked(obj, file) : NULL;
  bool creating = p && p->creating;
  g_mutex_unlock(&obj->lock);
  return creating;
}

void fs_pending_truncate(Obj *obj, const char *file, off_t size) {
  g_mutex_lock(&obj->lock);
  FsPending *p = ensure_locked(obj, file);
  p->truncated = true;
  p->truncate_to = size;
  g_mutex_unlock(&obj->lock);
}

bool fs_pending_take(Obj *obj, const char *file, off_t *ret_truncate_to) {
  g_mutex_lock(&obj->lock);
  FsPending *p = g_hash_table_size(obj->pending) ? lookup_locked(obj, file) : NULL;
  bool truncated = p && p->truncated;
  if (truncated && ret_truncate_to)
    *ret_truncate_to = p->truncate_to;
  if (p)
    g_hash_table_remove(obj->pending, file);
  g_mutex_unlock(&obj->lock);
  return truncated;
}

/* Drops every hide (keeping pending truncations), so that the files come
 * back at once: `rm -r` unlinks each file before its rmdir, and when the
 * rmdir is refused the object is still there, with files to read. */
void fs_pending_reveal_all(Obj *obj) {
  g_mutex_lock(&obj->lock);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, obj->pending);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    FsPending *p = value;
    p->hidden = false;
    if (!p->truncated)
      g_hash_table_iter_remove(&it);
  }
  g_mutex_unlock(&obj->lock);
}
