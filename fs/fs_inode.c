/* fs_inode.c — inode numbers of the low-level FUSE API; see fs_inode.h. */
#include "fs/fs_inode.h"

#include <glib.h>
#include <inttypes.h>

typedef struct FsInode FsInode;
struct FsInode {
  uint64_t ino;            /* key of by_ino */
  FsInode *parent;         /* NULL for the root */
  char *name;
  char *key;               /* "PARENT/NAME" while the name leads here, else NULL */
  uint64_t nlookup;        /* the kernel's count */
  uint64_t nchildren;      /* inodes whose parent this is */
  bool is_dir;
};

struct FsInodes {
  GMutex lock;
  GHashTable *by_ino;      /* uint64_t* -> FsInode* (owns the inodes) */
  GHashTable *by_name;     /* key -> FsInode* */
  uint64_t next_ino;
};

static void inode_free(FsInode *n) {
  g_free(n->name);
  g_free(n->key);
  g_free(n);
}

FsInodes *fs_inodes_new(void) {
  FsInodes *t = g_new0(FsInodes, 1);
  g_mutex_init(&t->lock);
  t->by_ino = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                    (GDestroyNotify)inode_free);
  t->by_name = g_hash_table_new(g_str_hash, g_str_equal);
  FsInode *root = g_new0(FsInode, 1);
  root->ino = FUSE_ROOT_ID;
  root->name = g_strdup("");
  root->key = g_strdup("");
  root->is_dir = true;
  g_hash_table_insert(t->by_ino, &root->ino, root);
  t->next_ino = FUSE_ROOT_ID + 1;
  return t;
}

void fs_inodes_free(FsInodes *t) {
  if (!t)
    return;
  g_hash_table_unref(t->by_name);
  g_hash_table_unref(t->by_ino);
  g_mutex_clear(&t->lock);
  g_free(t);
}

static char *make_key(uint64_t parent, const char *name) {
  return g_strdup_printf("%" PRIu64 "/%s", parent, name);
}

static FsInode *get_locked(FsInodes *t, uint64_t ino) {
  return g_hash_table_lookup(t->by_ino, &ino);
}

static FsInode *find_locked(FsInodes *t, uint64_t parent, const char *name) {
  g_autofree char *key = make_key(parent, name);
  return g_hash_table_lookup(t->by_name, key);
}

static void unhash_locked(FsInodes *t, FsInode *n) {
  if (!n->key)
    return;
  g_hash_table_remove(t->by_name, n->key);
  g_clear_pointer(&n->key, g_free);
}

/* Frees n and then every parent nothing holds any more. */
static void release_locked(FsInodes *t, FsInode *n) {
  while (n && n->ino != FUSE_ROOT_ID && n->nlookup == 0 && n->nchildren == 0) {
    FsInode *parent = n->parent;
    unhash_locked(t, n);
    g_hash_table_remove(t->by_ino, &n->ino);
    if (parent)
      parent->nchildren--;
    n = parent;
  }
}

fuse_ino_t fs_inodes_lookup(FsInodes *t, fuse_ino_t parent, const char *name, bool is_dir) {
  g_mutex_lock(&t->lock);
  FsInode *n = find_locked(t, parent, name);
  if (n && n->is_dir != is_dir) {
    /* the name now leads to something else: the old inode keeps living
     * for the kernel's count, without its name */
    unhash_locked(t, n);
    n = NULL;
  }
  if (!n) {
    FsInode *p = get_locked(t, parent);
    if (!p) {
      g_mutex_unlock(&t->lock);
      return 0;
    }
    n = g_new0(FsInode, 1);
    n->ino = t->next_ino++;
    n->parent = p;
    p->nchildren++;
    n->name = g_strdup(name);
    n->key = make_key(parent, name);
    n->is_dir = is_dir;
    g_hash_table_insert(t->by_ino, &n->ino, n);
    g_hash_table_insert(t->by_name, n->key, n);
  }
  n->nlookup++;
  fuse_ino_t ino = n->ino;
  g_mutex_unlock(&t->lock);
  return ino;
}

fuse_ino_t fs_inodes_find(FsInodes *t, fuse_ino_t parent, const char *name) {
  g_mutex_lock(&t->lock);
  FsInode *n = find_locked(t, parent, name);
  fuse_ino_t ino = n ? n->ino : 0;
  g_mutex_unlock(&t->lock);
  return ino;
}

void fs_inodes_forget(FsInodes *t, fuse_ino_t ino, uint64_t nlookup) {
  g_mutex_lock(&t->lock);
  FsInode *n = get_locked(t, ino);
  if (n && ino != FUSE_ROOT_ID) {
    n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
    release_locked(t, n);
  }
  g_mutex_unlock(&t->lock);
}

/* The path of n with `child` appended when not NULL. */
static char *path_locked(FsInode *n, const char *child) {
  const char *names[16];
  size_t depth = 0;
  for (FsInode *i = n; i && i->ino != FUSE_ROOT_ID; i = i->parent) {
    if (!i->key || depth == G_N_ELEMENTS(names))
      return NULL;
    names[depth++] = i->name;
  }
  GString *path = g_string_new(NULL);
  while (depth > 0) {
    g_string_append_c(path, '/');
    g_string_append(path, names[--depth]);
  }
  if (child) {
    g_string_append_c(path, '/');
    g_string_append(path, child);
  }
  if (path->len == 0)
    g_string_append_c(path, '/');
  return g_string_free(path, FALSE);
}

char *fs_inodes_path(FsInodes *t, fuse_ino_t ino) {
  g_mutex_lock(&t->lock);
  FsInode *n = get_locked(t, ino);
  char *path = n ? path_locked(n, NULL) : NULL;
  g_mutex_unlock(&t->lock);
  return path;
}

char *fs_inodes_child_path(FsInodes *t, fuse_ino_t parent, const char *name) {
  g_mutex_lock(&t->lock);
  FsInode *n = get_locked(t, parent);
  char *path = n ? path_locked(n, name) : NULL;
  g_mutex_unlock(&t->lock);
  return path;
}

bool fs_inodes_is_dir(FsInodes *t, fuse_ino_t ino) {
  g_mutex_lock(&t->lock);
  FsInode *n = get_locked(t, ino);
  bool dir = n && n->is_dir;
  g_mutex_unlock(&t->lock);
  return dir;
}

void fs_inodes_remove(FsInodes *t, fuse_ino_t parent, const char *name) {
  g_mutex_lock(&t->lock);
  FsInode *n = find_locked(t, parent, name);
  if (n)
    unhash_locked(t, n);
  g_mutex_unlock(&t->lock);
}

void fs_inodes_rename(FsInodes *t, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname) {
  g_mutex_lock(&t->lock);
  FsInode *n = find_locked(t, parent, name);
  FsInode *target = find_locked(t, newparent, newname);
  FsInode *np = get_locked(t, newparent);
  if (target && target != n)
    unhash_locked(t, target);
  if (n && n != target) {
    unhash_locked(t, n);
    if (np) {
      FsInode *old_parent = n->parent;
      n->parent = np;
      np->nchildren++;
      g_free(n->name);
      n->name = g_strdup(newname);
      n->key = make_key(newparent, newname);
      g_hash_table_insert(t->by_name, n->key, n);
      old_parent->nchildren--;
      release_locked(t, old_parent);
    }
  }
  g_mutex_unlock(&t->lock);
}

unsigned fs_inodes_count(FsInodes *t) {
  g_mutex_lock(&t->lock);
  unsigned count = g_hash_table_size(t->by_ino);
  g_mutex_unlock(&t->lock);
  return count;
}
