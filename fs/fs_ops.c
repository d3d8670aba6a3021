/* fs_ops.c — the FUSE callbacks. Each resolves its path once (fs_path.c +
 * one registry lookup) into an FsNode, then acts through the kind's file
 * table (fs_files.h), the scratch files (fs_scratch.h) or the registry.
 * The rules of spec/filesystem.md and spec/clients.md that are about the
 * filesystem itself (scratch files, rename commits, hidden files, xattrs,
 * truncation) are implemented here; what a file means is in its table. */
#include "fs/fs_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <fuse.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs_handle.h"
#include "fs/fs_path.h"
#include "fs/fs_pending.h"
#include "fs/fs_scratch.h"
#include "objects/log.h"
#include "objects/names.h"

/* What a path names once looked up. */
typedef struct {
  FsPath path;
  Obj *obj;              /* OBJ_DIR, OBJ_ENTRY: the object; VOLUMES_DIR: the pool */
  const FsFile *file;    /* a table entry (OBJ_ENTRY, NODE_FILE, ROOT_FILE) */
  FsScratch *scratch;    /* OBJ_ENTRY naming a scratch file */
} FsNode;

static void fs_node_clear(FsNode *n) {
  fs_path_clear(&n->path);
  g_clear_pointer(&n->obj, obj_unref);
  g_clear_pointer(&n->scratch, fs_scratch_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(FsNode, fs_node_clear)

static FsContext *context(void) {
  return fuse_get_context()->private_data;
}

static int64_t start_time_us;
/* The largest read answered by splice; 0: none (set once in op_init). */
static size_t splice_read_max;

extern const FsFile fs_events_file;

static const FsFileTable *table_of(const FsNode *n) {
  if (n->path.type == FS_PATH_NODE_FILE || n->path.type == FS_PATH_NODE_DIR)
    return fs_files_of_node();
  return fs_files_of_kind(n->path.kind);
}

static bool file_visible(FsContext *ctx, Obj *obj, const FsFile *f) {
  if (!fs_file_present(ctx, obj, f))
    return false;
  return !obj || !fs_pending_is_hidden(obj, f->name);
}

static FsScratch *scratch_lookup(Obj *obj, const char *name) {
  g_mutex_lock(&obj->lock);
  FsScratch *s = obj->scratch ? g_hash_table_lookup(obj->scratch, name) : NULL;
  if (s)
    fs_scratch_ref(s);
  g_mutex_unlock(&obj->lock);
  return s;
}

/* Looks up the object of a parsed OBJ_DIR/OBJ_ENTRY/VOLUMES_DIR path. */
static Obj *lookup_object(FsContext *ctx, const FsPath *p) {
  if (p->type == FS_PATH_VOLUMES_DIR || p->kind == OBJ_VOLUME) {
    if (!obj_type_get(OBJ_POOL))
      return NULL;
    g_autoptr(Obj) pool = registry_lookup(ctx->registry, OBJ_POOL, NULL, p->pool);
    if (!pool || p->type == FS_PATH_VOLUMES_DIR)
      return g_steal_pointer(&pool);
    return registry_lookup(ctx->registry, OBJ_VOLUME, pool, p->name);
  }
  if (!obj_type_get(p->kind))
    return NULL;
  return registry_lookup(ctx->registry, p->kind, NULL, p->name);
}

/* Resolves path. With allow_missing, an OBJ_ENTRY naming nothing yet in an
 * existing object resolves with file == scratch == NULL (for create). */
static int resolve(FsContext *ctx, const char *path, FsNode *n, bool allow_missing) {
  int r = fs_path_parse(path, &n->path);
  if (r < 0)
    return r;
  switch (n->path.type) {
  case FS_PATH_ROOT:
  case FS_PATH_NODE_DIR:
    return 0;
  case FS_PATH_KIND_DIR:
    return 0;
  case FS_PATH_ROOT_FILE:
    n->file = &fs_events_file;
    return 0;
  case FS_PATH_NODE_FILE:
    n->file = fs_file_lookup(fs_files_of_node(), n->path.file);
    return n->file ? 0 : -ENOENT;
  case FS_PATH_VOLUMES_DIR:
  case FS_PATH_OBJ_DIR:
    n->obj = lookup_object(ctx, &n->path);
    return n->obj ? 0 : -ENOENT;
  case FS_PATH_OBJ_ENTRY: {
    n->obj = lookup_object(ctx, &n->path);
    if (!n->obj)
      return -ENOENT;
    bool in_dir;
    const FsFile *f = fs_file_lookup_path(ctx, table_of(n), n->path.file, &in_dir);
    if (!f && !in_dir && strchr(n->path.file, '/'))
      return -ENOENT;
    if (f && (f->kind != FS_FILE_DIR || f->dir) && file_visible(ctx, n->obj, f)) {
      n->file = f;
      return 0;
    }
    if (!f)
      n->scratch = scratch_lookup(n->obj, n->path.file);
    if (n->scratch || (allow_missing && (!f || f->kind != FS_FILE_DIR)))
      return 0;
    return -ENOENT;
  }
  }
  return -ENOENT;
}

/* Permission bits: the table's owner bits, copied to the group when a
 * --group may change things, and "other" as declared. */
static mode_t effective_mode(FsContext *ctx, mode_t mode) {
  mode_t owner = mode & 0700;
  mode_t group = ctx->group_writable ? owner >> 3 : (mode & 0050);
  return owner | group | (mode & 0007);
}

static void fill_common(FsContext *ctx, struct stat *st, int64_t mtime_us) {
  st->st_uid = ctx->owner_uid;
  st->st_gid = ctx->owner_gid;
  st->st_mtim.tv_sec = mtime_us / G_USEC_PER_SEC;
  st->st_mtim.tv_nsec = (mtime_us % G_USEC_PER_SEC) * 1000;
  st->st_ctim = st->st_mtim;
  st->st_atim = st->st_mtim;
  st->st_blksize = 4096;
}

static void dir_stat(FsContext *ctx, struct stat *st, mode_t mode, int64_t mtime_us) {
  memset(st, 0, sizeof(*st));
  st->st_mode = S_IFDIR | effective_mode(ctx, mode);
  st->st_nlink = 2;
  fill_common(ctx, st, mtime_us);
}

static int64_t obj_mtime(Obj *obj) {
  g_mutex_lock(&obj->lock);
  int64_t t = obj->mtime_us;
  g_mutex_unlock(&obj->lock);
  return t;
}

/* The stat of a table file: its true size is the length of what a read
 * would return now (clients.md 16). */
static int file_stat(FsContext *ctx, Obj *obj, const FsFile *f, struct stat *st) {
  memset(st, 0, sizeof(*st));
  if (f->kind == FS_FILE_DIR) {
    dir_stat(ctx, st, f->mode, obj ? obj_mtime(obj) : start_time_us);
    return 0;
  }
  st->st_mode = S_IFREG | effective_mode(ctx, f->mode);
  st->st_nlink = 1;
  fill_common(ctx, st, obj ? obj_mtime(obj) : start_time_us);
  if (f->kind == FS_FILE_STREAM && f->stream->stat)
    return f->stream->stat(ctx, obj, st);
  if (f->kind != FS_FILE_STREAM) {
    g_autoptr(GString) content = g_string_new(NULL);
    int r = fs_render(ctx, obj, f, content);
    if (r < 0)
      return r;
    st->st_size = (off_t)content->len;
    st->st_blocks = (blkcnt_t)((content->len + 511) / 512);
  }
  return 0;
}

static int node_stat(FsContext *ctx, FsNode *n, struct stat *st) {
  switch (n->path.type) {
  case FS_PATH_ROOT:
  case FS_PATH_KIND_DIR:
    dir_stat(ctx, st, 0755, start_time_us);
    return 0;
  case FS_PATH_NODE_DIR:
    dir_stat(ctx, st, 0555, start_time_us);
    return 0;
  case FS_PATH_VOLUMES_DIR:
  case FS_PATH_OBJ_DIR:
    dir_stat(ctx, st, 0755, obj_mtime(n->obj));
    return 0;
  case FS_PATH_ROOT_FILE:
  case FS_PATH_NODE_FILE:
    return file_stat(ctx, NULL, n->file, st);
  case FS_PATH_OBJ_ENTRY:
    if (n->scratch) {
      memset(st, 0, sizeof(*st));
      fs_scratch_stat(n->scratch, st);
      st->st_blksize = 4096;
      return 0;
    }
    return file_stat(ctx, n->obj, n->file, st);
  }
  return -ENOENT;
}

static bool obj_is_removed(Obj *obj) {
  g_mutex_lock(&obj->lock);
  bool removed = obj->removed;
  g_mutex_unlock(&obj->lock);
  return removed;
}

/* What an open handle points at, as a node. With nullpath_ok (op_init),
 * calls on open files come without a path: the handle is the truth. */
static int node_of_handle(struct fuse_file_info *fi, FsNode *n) {
  FsHandle *h = (FsHandle *)(uintptr_t)fi->fh;
  if (h->obj && obj_is_removed(h->obj))
    return -ENOENT;
  if (h->type == FS_HANDLE_SCRATCH) {
    n->path.type = FS_PATH_OBJ_ENTRY;
    n->obj = h->obj ? obj_ref(h->obj) : NULL;
    n->scratch = fs_scratch_ref(h->scratch);
    return 0;
  }
  n->path.type = h->obj ? FS_PATH_OBJ_ENTRY : FS_PATH_ROOT_FILE;
  n->obj = h->obj ? obj_ref(h->obj) : NULL;
  n->file = h->file;
  return 0;
}

/* Resolves from the handle when there is one, else from the path. */
static int resolve_any(FsContext *ctx, const char *path, struct fuse_file_info *fi, FsNode *n) {
  if (fi && fi->fh)
    return node_of_handle(fi, n);
  return resolve(ctx, path, n, false);
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve_any(ctx, path, fi, &n);
  if (r < 0)
    return r;
  return node_stat(ctx, &n, st);
}

/* ---- directories ---- */

static int add_entry(void *buf, fuse_fill_dir_t filler, const char *name, const struct stat *st) {
  return filler(buf, name, st, 0, st ? FUSE_FILL_DIR_PLUS : 0);
}

static void list_table(FsContext *ctx, Obj *obj, const FsFileTable *t, void *buf,
                       fuse_fill_dir_t filler) {
  for (size_t i = 0; i < t->count; i++)
    if (file_visible(ctx, obj, &t->files[i]))
      add_entry(buf, filler, t->files[i].name, NULL);
}

static void list_objects(FsContext *ctx, ObjKind kind, Obj *parent, void *buf,
                         fuse_fill_dir_t filler) {
  if (!obj_type_get(kind))
    return;
  g_autoptr(GPtrArray) list = registry_list(ctx->registry, kind, parent);
  struct stat st;
  for (guint i = 0; i < list->len; i++) {
    Obj *o = list->pdata[i];
    dir_stat(ctx, &st, 0755, obj_mtime(o));
    g_autofree char *name = obj_dup_name(o);
    if (add_entry(buf, filler, name, &st))
      break;
  }
}

/* Lets a kind bring its objects under `parent` in step with the host. */
static void before_list(FsContext *ctx, ObjKind kind, Obj *parent) {
  const FsFileTable *t = fs_files_of_kind(kind);
  if (t && t->before_list && obj_type_get(kind))
    t->before_list(ctx, parent);
}

/* Appends the names of obj's scratch files in its directory (dir NULL) or
 * in its data directory `dir` (their keys are "dir/name"). */
static void add_scratch_names(Obj *obj, const char *dir, GPtrArray *names) {
  size_t prefix = dir ? strlen(dir) + 1 : 0;
  g_mutex_lock(&obj->lock);
  if (obj->scratch) {
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, obj->scratch);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
      const char *name = key;
      if (dir && (strncmp(name, dir, prefix - 1) != 0 || name[prefix - 1] != '/'))
        continue;
      if (!strchr(name + prefix, '/'))
        g_ptr_array_add(names, g_strdup(name + prefix));
    }
  }
  g_mutex_unlock(&obj->lock);
}

/* Directories remember their path: with nullpath_ok, readdir comes
 * without one. */
static int op_opendir(const char *path, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, false);
  if (r < 0)
    return r;
  fi->fh = (uint64_t)(uintptr_t)g_strdup(path);
  return 0;
}

static int op_releasedir(const char *path, struct fuse_file_info *fi) {
  g_free((char *)(uintptr_t)fi->fh);
  return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  FsContext *ctx = context();
  if (!path && fi && fi->fh)
    path = (const char *)(uintptr_t)fi->fh;
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, false);
  if (r < 0)
    return r;
  filler(buf, ".", NULL, 0, 0);
  filler(buf, "..", NULL, 0, 0);
  switch (n.path.type) {
  case FS_PATH_ROOT:
    add_entry(buf, filler, "events", NULL);
    add_entry(buf, filler, "node", NULL);
    for (ObjKind k = OBJ_DOMAIN; k < OBJ_VOLUME; k++)
      add_entry(buf, filler, fs_kind_dir_name(k), NULL);
    return 0;
  case FS_PATH_NODE_DIR:
    list_table(ctx, NULL, fs_files_of_node(), buf, filler);
    return 0;
  case FS_PATH_KIND_DIR:
    before_list(ctx, n.path.kind, NULL);
    list_objects(ctx, n.path.kind, NULL, buf, filler);
    return 0;
  case FS_PATH_VOLUMES_DIR:
    before_list(ctx, OBJ_VOLUME, n.obj);
    list_objects(ctx, OBJ_VOLUME, n.obj, buf, filler);
    return 0;
  case FS_PATH_OBJ_DIR: {
    list_table(ctx, n.obj, fs_files_of_kind(n.path.kind), buf, filler);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    add_scratch_names(n.obj, NULL, names);
    for (guint i = 0; i < names->len; i++)
      add_entry(buf, filler, names->pdata[i], NULL);
    return 0;
  }
  case FS_PATH_OBJ_ENTRY:
    if (n.file && n.file->kind == FS_FILE_DIR && n.file->dir) {
      /* a data directory: its entries, then scratch files made in it */
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
      n.file->dir->list(ctx, n.obj, names);
      add_scratch_names(n.obj, n.file->name, names);
      for (guint i = 0; i < names->len; i++)
        add_entry(buf, filler, names->pdata[i], NULL);
      return 0;
    }
    return -ENOTDIR;
  default:
    return -ENOTDIR;
  }
}

static int op_mkdir(const char *path, mode_t mode) {
  FsContext *ctx = context();
  g_auto(FsPath) p = {0};
  int r = fs_path_parse(path, &p);
  if (r < 0)
    return r;
  if (p.type == FS_PATH_VOLUMES_DIR)
    return -EEXIST;
  if (p.type != FS_PATH_OBJ_DIR)
    return p.type == FS_PATH_OBJ_ENTRY ? -EACCES : -EEXIST;
  const FsFileTable *t = fs_files_of_kind(p.kind);
  if (!t || !t->create || !obj_type_get(p.kind)) {
    log_warning("mkdir %s: %s objects are not supported by this daemon", path,
                obj_kind_to_string(p.kind));
    return -EOPNOTSUPP;
  }
  g_autofree char *error = NULL;
  r = object_name_validate(p.name, &error);
  if (r < 0) {
    log_warning("mkdir %s: %s", path, error);
    return r;
  }
  g_autoptr(Obj) parent = NULL;
  if (p.kind == OBJ_VOLUME) {
    parent = registry_lookup(ctx->registry, OBJ_POOL, NULL, p.pool);
    if (!parent)
      return -ENOENT;
  }
  r = t->create(ctx, parent, p.name, &error);
  if (r < 0) {
    if (parent)
      obj_set_error(parent, "mkdir %s: %s", p.name, error ? error : g_strerror(-r));
    else
      log_warning("mkdir %s: %s", path, error ? error : g_strerror(-r));
  }
  return r;
}

static int op_rmdir(const char *path) {
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, false);
  if (r < 0)
    return r;
  if (n.path.type == FS_PATH_OBJ_ENTRY && n.file && n.file->dir)
    return 0; /* a data directory is part of its object: `rm -r` goes on to the object */
  if (n.path.type != FS_PATH_OBJ_DIR)
    return n.path.type == FS_PATH_OBJ_ENTRY ? -ENOTDIR : -EBUSY;
  const FsFileTable *t = fs_files_of_kind(n.path.kind);
  g_autofree char *error = NULL;
  r = t->remove ? t->remove(ctx, n.obj, &error)
                : registry_undefine(ctx->registry, n.obj, &error);
  if (r < 0)
    obj_set_error(n.obj, "rmdir: %s", error ? error : g_strerror(-r));
  return r;
}

/* ---- files ---- */

static FsHandle *handle_of(struct fuse_file_info *fi) {
  return (FsHandle *)(uintptr_t)fi->fh;
}

static int add_scratch(Obj *obj, const char *name, FsScratch *s) {
  int r = 0;
  g_mutex_lock(&obj->lock);
  if (!obj->scratch)
    obj->scratch = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)fs_scratch_unref);
  if (!g_hash_table_contains(obj->scratch, name) &&
      g_hash_table_size(obj->scratch) >= FS_SCRATCH_MAX_FILES)
    r = -ENOSPC;
  else
    g_hash_table_insert(obj->scratch, g_strdup(name), fs_scratch_ref(s));
  g_mutex_unlock(&obj->lock);
  return r;
}

static bool remove_scratch(Obj *obj, const char *name) {
  g_mutex_lock(&obj->lock);
  bool removed = obj->scratch && g_hash_table_remove(obj->scratch, name);
  g_mutex_unlock(&obj->lock);
  return removed;
}


/* Opens a table file of node n. */
static int open_table(FsContext *ctx, FsNode *n, struct fuse_file_info *fi, bool created) {
  const FsFile *f = n->file;
  int acc = fi->flags & O_ACCMODE;
  bool writable = acc != O_RDONLY;
  if (writable && !f->write && !(f->stream && (f->stream->write || f->stream->pwrite)))
    return -EACCES;
  FsHandle *h = fs_handle_new(f->kind == FS_FILE_STREAM ? FS_HANDLE_STREAM : FS_HANDLE_TABLE,
                              n->obj, f);
  h->writable = writable;
  int r = 0;
  if (f->kind == FS_FILE_STREAM) {
    r = f->stream->open(ctx, n->obj, h, fi->flags);
    fi->nonseekable = f->stream->pread == NULL;
  } else {
    off_t truncate_to = 0;
    bool truncated = n->obj && fs_pending_take(n->obj, f->name, &truncate_to);
    bool start_empty = f->kind == FS_FILE_CTL || (writable && (fi->flags & O_TRUNC)) || created;
    if (!start_empty || !writable) {
      r = fs_render(ctx, n->obj, f, h->buf);
      if (truncated && writable && (size_t)truncate_to < h->buf->len)
        g_string_truncate(h->buf, (gsize)truncate_to);
    }
    if (truncated && writable)
      h->dirty = true;
  }
  if (r < 0) {
    fs_handle_free(h);
    return r;
  }
  fi->direct_io = 1;
  fi->keep_cache = 0;
  fi->fh = (uint64_t)(uintptr_t)h;
  return 0;
}

static int open_scratch(FsNode *n, struct fuse_file_info *fi) {
  FsHandle *h = fs_handle_new(FS_HANDLE_SCRATCH, n->obj, NULL);
  h->scratch = fs_scratch_ref(n->scratch);
  h->writable = (fi->flags & O_ACCMODE) != O_RDONLY;
  if (h->writable && (fi->flags & O_TRUNC))
    fs_scratch_truncate(h->scratch, 0);
  fi->direct_io = 1;
  fi->fh = (uint64_t)(uintptr_t)h;
  return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, false);
  if (r < 0)
    return r;
  if (n.scratch)
    return open_scratch(&n, fi);
  if (!n.file || n.file->kind == FS_FILE_DIR)
    return -EISDIR;
  return open_table(ctx, &n, fi, false);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, true);
  if (r < 0)
    return r;
  if (n.path.type != FS_PATH_OBJ_ENTRY)
    return r == 0 && n.file ? open_table(ctx, &n, fi, false) : -EACCES;
  if (n.scratch) {
    if (fi->flags & O_EXCL)
      return -EEXIST;
    return open_scratch(&n, fi);
  }
  if (n.file) {
    if (fi->flags & O_EXCL)
      return -EEXIST;
    return open_table(ctx, &n, fi, false);
  }
  /* A table file that is hidden (unlinked or renamed away) comes back:
   * install, mv and vim create it anew to replace the content. */
  const FsFile *f = fs_file_lookup_path(ctx, table_of(&n), n.path.file, NULL);
  if (f) {
    fs_pending_take(n.obj, f->name, NULL);
    n.file = f;
    r = open_table(ctx, &n, fi, true);
    if (r == 0 && fs_file_entry_name(f))
      fs_pending_create(n.obj, f->name);
    return r;
  }
  if (strlen(n.path.file) > 255)
    return -ENAMETOOLONG;
  struct fuse_context *fc = fuse_get_context();
  g_autoptr(FsScratch) s = fs_scratch_new(mode & ~fc->umask, fc->uid, fc->gid);
  r = add_scratch(n.obj, n.path.file, s);
  if (r < 0)
    return r;
  n.scratch = g_steal_pointer(&s);
  return open_scratch(&n, fi);
}

static int op_read(const char *path, char *buf, size_t size, off_t offset,
                   struct fuse_file_info *fi) {
  FsHandle *h = handle_of(fi);
  switch (h->type) {
  case FS_HANDLE_SCRATCH:
    return fs_scratch_read(h->scratch, buf, size, offset);
  case FS_HANDLE_STREAM: {
    if (h->file->stream->pread)
      return (int)h->file->stream->pread(context(), h, buf, size, offset);
    /* A reader may ask for less than a whole line: bash's `read` takes one
     * byte at a time from a file it cannot seek. What does not fit waits
     * in h->buf for the next read instead of being lost. The stream's
     * read takes h->lock itself, so it is called without it. */
    g_mutex_lock(&h->lock);
    bool carried = h->buf->len > 0;
    g_mutex_unlock(&h->lock);
    if (!carried) {
      g_autoptr(GString) out = g_string_new(NULL);
      int r = h->file->stream->read(context(), h, size, out);
      if (r < 0)
        return r;
      g_mutex_lock(&h->lock);
      g_string_append_len(h->buf, out->str, (gssize)out->len);
      g_mutex_unlock(&h->lock);
    }
    g_mutex_lock(&h->lock);
    size_t n = MIN(h->buf->len, size);
    memcpy(buf, h->buf->str, n);
    g_string_erase(h->buf, 0, (gssize)n);
    g_mutex_unlock(&h->lock);
    return (int)n;
  }
  case FS_HANDLE_TABLE: {
    g_mutex_lock(&h->lock);
    size_t n = 0;
    if (offset >= 0 && (size_t)offset < h->buf->len) {
      n = MIN(size, h->buf->len - (size_t)offset);
      memcpy(buf, h->buf->str + offset, n);
    }
    g_mutex_unlock(&h->lock);
    return (int)n;
  }
  }
  return -EIO;
}

static int op_write(const char *path, const char *buf, size_t size, off_t offset,
                    struct fuse_file_info *fi) {
  FsHandle *h = handle_of(fi);
  switch (h->type) {
  case FS_HANDLE_SCRATCH:
    return fs_scratch_write(h->scratch, buf, size, offset);
  case FS_HANDLE_STREAM:
    if (h->file->stream->pwrite)
      return (int)h->file->stream->pwrite(context(), h, buf, size, offset);
    if (!h->file->stream->write)
      return -EACCES;
    return h->file->stream->write(context(), h, buf, size);
  case FS_HANDLE_TABLE:
    if (h->obj && obj_is_removed(h->obj))
      return -ENOENT;
    return fs_handle_write(context(), h, buf, size, offset);
  }
  return -EIO;
}

/* Reads of streams that name a descriptor are answered with it, so FUSE
 * splices the bytes (large volume downloads); everything else is read
 * into memory, as libfuse would do without this callback. */
static int op_read_buf(const char *path, struct fuse_bufvec **bufp, size_t size, off_t offset,
                       struct fuse_file_info *fi) {
  FsHandle *h = handle_of(fi);
  struct fuse_bufvec *bv = malloc(sizeof(*bv));
  if (!bv)
    return -ENOMEM;
  *bv = FUSE_BUFVEC_INIT(size);
  int fd = -1;
  if (h->type == FS_HANDLE_STREAM && h->file->stream->read_fd && size <= splice_read_max)
    fd = h->file->stream->read_fd(context(), h);
  if (fd >= 0) {
    bv->buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    bv->buf[0].fd = fd;
    bv->buf[0].pos = offset;
    *bufp = bv;
    return 0;
  }
  void *mem = malloc(size ? size : 1);
  if (!mem) {
    free(bv);
    return -ENOMEM;
  }
  int n = op_read(path, mem, size, offset, fi);
  if (n < 0) {
    free(mem);
    free(bv);
    return n;
  }
  bv->buf[0].mem = mem;
  bv->buf[0].size = (size_t)n;
  *bufp = bv;
  return 0;
}

/* Writes to streams that take FUSE buffers get them as they come (maybe
 * a pipe to splice from); everything else in memory, as libfuse would. */
static int op_write_buf(const char *path, struct fuse_bufvec *buf, off_t offset,
                        struct fuse_file_info *fi) {
  FsHandle *h = handle_of(fi);
  if (h->type == FS_HANDLE_STREAM && h->file->stream->pwrite_buf)
    return (int)h->file->stream->pwrite_buf(context(), h, buf, offset);
  size_t size = fuse_buf_size(buf);
  if (buf->count == 1 && !(buf->buf[0].flags & FUSE_BUF_IS_FD))
    return op_write(path, buf->buf[0].mem, size, offset, fi);
  void *mem = malloc(size ? size : 1);
  if (!mem)
    return -ENOMEM;
  struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
  dst.buf[0].mem = mem;
  ssize_t n = fuse_buf_copy(&dst, buf, 0);
  int r = n < 0 ? (int)n : op_write(path, mem, (size_t)n, offset, fi);
  free(mem);
  return r;
}

static int op_flush(const char *path, struct fuse_file_info *fi) {
  FsHandle *h = handle_of(fi);
  if (h->type == FS_HANDLE_STREAM && h->file->stream->flush)
    return h->file->stream->flush(context(), h);
  return fs_handle_commit(context(), h);
}

static int op_release(const char *path, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  FsHandle *h = handle_of(fi);
  fs_handle_commit(ctx, h);
  if (h->type == FS_HANDLE_STREAM && h->file->stream->release)
    h->file->stream->release(ctx, h);
  fs_handle_free(h);
  return 0;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  return 0;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  if (fi && fi->fh) {
    FsHandle *h = handle_of(fi);
    if (h->type == FS_HANDLE_SCRATCH)
      return fs_scratch_truncate(h->scratch, size);
    if (h->type == FS_HANDLE_TABLE && h->writable)
      return fs_handle_truncate(h, size);
    if (h->type == FS_HANDLE_STREAM && h->file->stream->truncate)
      return h->writable ? h->file->stream->truncate(context(), h, size) : -EACCES;
    return h->type == FS_HANDLE_STREAM ? 0 : -EACCES;
  }
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, false);
  if (r < 0)
    return r;
  if (n.scratch)
    return fs_scratch_truncate(n.scratch, size);
  if (!n.file || n.file->kind == FS_FILE_DIR)
    return -EISDIR;
  if (!n.file->write)
    return -EACCES;
  if (n.file->kind == FS_FILE_STREAM || n.file->kind == FS_FILE_CTL || !n.obj)
    return 0;
  /* By path: the next writer starts from the truncated content. */
  fs_pending_truncate(n.obj, n.file->name, size);
  return 0;
}

static int op_unlink(const char *path) {
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, false);
  if (r < 0)
    return r;
  if (n.path.type != FS_PATH_OBJ_ENTRY)
    return n.path.type == FS_PATH_OBJ_DIR ? -EISDIR : -EACCES;
  if (n.scratch)
    return remove_scratch(n.obj, n.path.file) ? 0 : -ENOENT;
  if (n.file->kind == FS_FILE_DIR)
    return -EISDIR;
  const char *entry = fs_file_entry_name(n.file);
  if (entry) {
    /* rm of a data entry removes what it stands for (a device) */
    g_autofree char *error = NULL;
    r = n.file->dir->remove(ctx, n.obj, entry, &error);
    if (r < 0)
      obj_set_error(n.obj, "%s", error ? error : g_strerror(-r));
    return r;
  }
  /* Removing a table file hides it for a moment so that the tool can create
   * it anew (install, mv); it never undefines anything (rmdir does). */
  fs_pending_hide(n.obj, n.file->name);
  return 0;
}

static int rename_object(FsContext *ctx, FsNode *src, FsPath *dst, unsigned flags) {
  if (dst->type != FS_PATH_OBJ_DIR || dst->kind != src->path.kind ||
      g_strcmp0(dst->pool, src->path.pool) != 0)
    return -EINVAL;
  g_autoptr(Obj) existing = lookup_object(ctx, dst);
  if (existing && existing != src->obj)
    return (flags & RENAME_NOREPLACE) ? -EEXIST : -ENOTEMPTY;
  if (flags & RENAME_EXCHANGE)
    return -EINVAL;
  const FsFileTable *t = fs_files_of_kind(src->path.kind);
  g_autofree char *error = NULL;
  int r = t->rename ? t->rename(ctx, src->obj, dst->name, &error)
                    : registry_rename(ctx->registry, src->obj, dst->name, &error);
  if (r < 0)
    obj_set_error(src->obj, "rename to '%s': %s", dst->name, error ? error : g_strerror(-r));
  return r;
}

static int op_rename(const char *from, const char *to, unsigned int flags) {
  FsContext *ctx = context();
  g_auto(FsNode) src = {0};
  int r = resolve(ctx, from, &src, false);
  if (r < 0)
    return r;
  if (src.path.type == FS_PATH_OBJ_DIR) {
    g_auto(FsPath) dst_path = {0};
    if ((r = fs_path_parse(to, &dst_path)) < 0)
      return r;
    return rename_object(ctx, &src, &dst_path, flags);
  }
  if (src.path.type != FS_PATH_OBJ_ENTRY)
    return -EACCES;
  g_auto(FsNode) dst = {0};
  r = resolve(ctx, to, &dst, true);
  if (r < 0)
    return r;
  if (dst.path.type != FS_PATH_OBJ_ENTRY)
    return -EACCES;
  if (flags & RENAME_EXCHANGE)
    return -EINVAL;
  bool dst_exists = dst.file || dst.scratch;
  if ((flags & RENAME_NOREPLACE) && dst_exists)
    return -EEXIST;
  const FsFile *dst_file = dst.file;
  if (!dst_file && !dst.scratch)
    dst_file = fs_file_lookup_path(ctx, table_of(&dst), dst.path.file, NULL); /* hidden or new */

  if (src.scratch && dst_file) {
    /* The commit of sed -i, rsync, Ansible, mv: apply the content as a
     * write+close would; on failure nothing changes and the scratch file
     * stays. */
    if (!dst_file->write || dst_file->kind == FS_FILE_STREAM)
      return -EACCES;
    g_autoptr(GBytes) content = fs_scratch_content(src.scratch);
    gsize len;
    const char *data = g_bytes_get_data(content, &len);
    r = fs_apply_content(ctx, dst.obj, dst_file, data ? data : "", len);
    if (r < 0)
      return r;
    fs_pending_take(dst.obj, dst_file->name, NULL);
    remove_scratch(src.obj, src.path.file);
    return 0;
  }
  if (src.scratch) {
    /* scratch -> scratch, possibly into another object's directory */
    if (strlen(dst.path.file) > 255)
      return -ENAMETOOLONG;
    if ((r = add_scratch(dst.obj, dst.path.file, src.scratch)) < 0)
      return r;
    if (src.obj != dst.obj || strcmp(src.path.file, dst.path.file) != 0)
      remove_scratch(src.obj, src.path.file);
    return 0;
  }
  if (src.file && !dst_file) {
    /* vim's backup: config.xml -> config.xml~. The content moves to a
     * scratch file and config.xml is hidden until it is written again. */
    if (src.obj != dst.obj || src.file->kind == FS_FILE_STREAM)
      return -EACCES;
    struct fuse_context *fc = fuse_get_context();
    g_autoptr(FsScratch) s = fs_scratch_new(0644, fc->uid, fc->gid);
    g_autoptr(GString) content = g_string_new(NULL);
    if ((r = fs_render(ctx, src.obj, src.file, content)) < 0)
      return r;
    fs_scratch_write(s, content->str, content->len, 0);
    if (dst.scratch)
      remove_scratch(dst.obj, dst.path.file);
    if ((r = add_scratch(dst.obj, dst.path.file, s)) < 0)
      return r;
    fs_pending_hide(src.obj, src.file->name);
    return 0;
  }
  return -EINVAL;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve_any(ctx, path, fi, &n);
  if (r < 0)
    return r;
  if (n.scratch) {
    g_mutex_lock(&n.scratch->lock);
    n.scratch->mode = mode & 07777;
    clock_gettime(CLOCK_REALTIME, &n.scratch->ctime);
    g_mutex_unlock(&n.scratch->lock);
  }
  return 0; /* table files and directories keep their modes; tools need success */
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve_any(ctx, path, fi, &n);
  if (r < 0)
    return r;
  if (n.scratch) {
    g_mutex_lock(&n.scratch->lock);
    if (uid != (uid_t)-1)
      n.scratch->uid = uid;
    if (gid != (gid_t)-1)
      n.scratch->gid = gid;
    g_mutex_unlock(&n.scratch->lock);
  }
  return 0;
}

static void set_time(struct timespec *dst, const struct timespec *src) {
  if (src->tv_nsec == UTIME_OMIT)
    return;
  if (src->tv_nsec == UTIME_NOW)
    clock_gettime(CLOCK_REALTIME, dst);
  else
    *dst = *src;
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  FsContext *ctx = context();
  g_auto(FsNode) n = {0};
  int r = resolve_any(ctx, path, fi, &n);
  if (r < 0)
    return r;
  if (n.scratch) {
    g_mutex_lock(&n.scratch->lock);
    if (tv) {
      set_time(&n.scratch->atime, &tv[0]);
      set_time(&n.scratch->mtime, &tv[1]);
    } else {
      clock_gettime(CLOCK_REALTIME, &n.scratch->mtime);
      n.scratch->atime = n.scratch->mtime;
    }
    g_mutex_unlock(&n.scratch->lock);
  }
  return 0;
}

static int op_statfs(const char *path, struct statvfs *st) {
  memset(st, 0, sizeof(*st));
  st->f_bsize = 4096;
  st->f_frsize = 4096;
  st->f_namemax = 255;
  return 0;
}

/* Extended attributes are left unimplemented on purpose: libfuse answers
 * ENOSYS, after which the kernel answers EOPNOTSUPP to every xattr call by
 * itself (clients.md 13, 14) instead of asking the daemon three times per
 * file for `ls -l` (security.selinux, system.posix_acl_access). */

static int op_ioctl(const char *path, unsigned int cmd, void *arg, struct fuse_file_info *fi,
                    unsigned int flags, void *data) {
  return -ENOTTY;
}

static ssize_t op_copy_file_range(const char *path_in, struct fuse_file_info *fi_in,
                                  off_t offset_in, const char *path_out,
                                  struct fuse_file_info *fi_out, off_t offset_out, size_t size,
                                  int flags) {
  return -EOPNOTSUPP;
}

static int op_poll(const char *path, struct fuse_file_info *fi, struct fuse_pollhandle *ph,
                   unsigned *reventsp) {
  FsHandle *h = handle_of(fi);
  if (h->type != FS_HANDLE_STREAM || !h->file->stream->poll) {
    if (ph)
      fuse_pollhandle_destroy(ph);
    *reventsp = POLLIN | POLLOUT;
    return 0;
  }
  g_mutex_lock(&h->lock);
  if (ph) {
    if (h->poll_handle)
      fuse_pollhandle_destroy(h->poll_handle);
    h->poll_handle = ph;
  }
  bool carried = h->buf->len > 0; /* the rest of a partly read line */
  g_mutex_unlock(&h->lock);
  *reventsp = h->file->stream->poll(context(), h) | (carried ? POLLIN : 0);
  return 0;
}

/* Interrupted requests are signalled to their worker thread with SIGUSR1. */
static void interrupt_signal_handler(int sig) {
}

/* libfuse before 3.17 installs the handler for the interrupt signal only
 * when `intr` was set before fuse_new, which no option can do any more; set
 * in init, an interrupted request (a writer killed by Ctrl-C) would kill
 * the daemon with SIGUSR1 (libfuse pull request 958). */
static void install_interrupt_handler(int sig) {
  struct sigaction old;
  if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
    struct sigaction sa = {.sa_handler = interrupt_signal_handler};
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
  }
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  FsContext *ctx = fuse_get_context()->private_data;
  /* Content changes behind the kernel's back (state, stats): never cache
   * attributes or data; names are cached briefly, every change of a name
   * goes through this mount and invalidates them. */
  cfg->use_ino = 0;
  cfg->hard_remove = 1;
  cfg->attr_timeout = 0;
  cfg->entry_timeout = 1;
  cfg->negative_timeout = 0;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  /* Calls on open files (read, write, flush, release, poll, fgetattr...)
   * come without a path, so libfuse holds no lock on the path while they
   * run: a read of `console` or `events` that blocks must not block a
   * rename or unlink elsewhere in the tree (libfuse queues path users
   * behind a writer). */
  cfg->nullpath_ok = 1;
  /* Interrupted requests (a reader of events or console hit Ctrl-C) get
   * SIGUSR1 on their worker thread; main.c installs a handler that does
   * nothing, and the blocking reads check fuse_interrupted(). */
  cfg->intr = 1;
  cfg->intr_signal = SIGUSR1;
  install_interrupt_handler(cfg->intr_signal);
  conn->want &= ~FUSE_CAP_ASYNC_READ;
  conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  /* Reads answered with a descriptor (read_buf) are spliced, when the
   * kernel can take spliced replies, up to the size whose reply fits the
   * largest pipe libfuse may make (pipe-max-size, with room for its
   * header pages); larger reads go through memory, which is faster than
   * libfuse's fallback for a pipe too small. */
  if (conn->capable & FUSE_CAP_SPLICE_WRITE) {
    g_autofree char *text = NULL;
    long page = sysconf(_SC_PAGESIZE);
    long pipe_max = g_file_get_contents("/proc/sys/fs/pipe-max-size", &text, NULL, NULL)
                        ? strtol(text, NULL, 10) : 0;
    if (pipe_max > 8 * page) {
      conn->want |= FUSE_CAP_SPLICE_WRITE;
      splice_read_max = (size_t)(pipe_max - 4 * page);
    }
  }
  start_time_us = g_get_real_time();
  return ctx;
}

const struct fuse_operations fs_operations = {
  .init = op_init,
  .getattr = op_getattr,
  .opendir = op_opendir,
  .readdir = op_readdir,
  .releasedir = op_releasedir,
  .mkdir = op_mkdir,
  .rmdir = op_rmdir,
  .rename = op_rename,
  .unlink = op_unlink,
  .open = op_open,
  .create = op_create,
  .read = op_read,
  .write = op_write,
  .read_buf = op_read_buf,
  .write_buf = op_write_buf,
  .flush = op_flush,
  .release = op_release,
  .fsync = op_fsync,
  .truncate = op_truncate,
  .chmod = op_chmod,
  .chown = op_chown,
  .utimens = op_utimens,
  .statfs = op_statfs,
  .ioctl = op_ioctl,
  .poll = op_poll,
  .copy_file_range = op_copy_file_range,
};
