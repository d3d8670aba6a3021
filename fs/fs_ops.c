/* fs_ops.c — the FUSE callbacks, on libfuse's low-level API. The kernel
 * names things by inode numbers (fs_inode.h); each callback turns its
 * inode back into a path, resolves the path once (fs_path.c + one registry
 * lookup) into an FsNode, then acts through the kind's file table
 * (fs_files.h), the scratch files (fs_scratch.h) or the registry.
 *
 * Caching (docs/filesystem.md, "Caching"): names and directories'
 * attributes are cached by the kernel for FS_NAME_CACHE_S/FS_DIR_CACHE_S;
 * every name the daemon changes by itself (an object undefined, renamed or
 * found gone on the host) is invalidated from a thread of our own that
 * follows the event bus, never from inside a request. Files' attributes
 * and content are never cached: they are asked for at every open and
 * stat, so a change is visible on the very next read.
 * The rules of spec/filesystem.md and spec/clients.md that are about the
 * filesystem itself (scratch files, rename commits, hidden files, xattrs,
 * truncation) are implemented here; what a file means is in its table. */
#include "fs/fs_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs_handle.h"
#include "fs/fs_inode.h"
#include "fs/fs_path.h"
#include "fs/fs_pending.h"
#include "fs/fs_request.h"
#include "fs/fs_scratch.h"
#include "objects/log.h"
#include "objects/names.h"

/* What a path names once looked up. */
typedef struct {
  FsPath path;
  Obj *obj;              /* OBJ_DIR, OBJ_ENTRY: the object; VOLUMES_DIR: the parent */
  const FsFile *file;    /* a table entry (OBJ_ENTRY, NODE_FILE, ROOT_FILE) */
  FsScratch *scratch;    /* OBJ_ENTRY naming a scratch file */
} FsNode;

static void fs_node_clear(FsNode *n) {
  fs_path_clear(&n->path);
  g_clear_pointer(&n->obj, obj_unref);
  g_clear_pointer(&n->scratch, fs_scratch_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(FsNode, fs_node_clear)

/* How long the kernel may keep a name, and a directory's attributes
 * (docs/filesystem.md). A file's attributes are never kept: with
 * default_permissions the kernel then asks for them (GETATTR) at every
 * open, where a file that went away answers ENOENT. */
#define FS_NAME_CACHE_S 1.0
#define FS_DIR_CACHE_S 1.0

/* The inode number of a name listed without a lookup (as libfuse's
 * high-level API reports it). */
#define FS_UNKNOWN_INO 0xffffffffu

struct FsAdapter {
  FsInodes *inodes;
  GThread *inval_thread;   /* follows the event bus: invalidate_thread() */
  gint stopping;
};

/* The request the calling worker thread is answering (fs_request.h). */
static __thread fuse_req_t current_req;

static FsContext *context(void) {
  return fuse_req_userdata(current_req);
}

bool fs_request_interrupted(FsContext *ctx) {
  if (current_req && fuse_req_interrupted(current_req))
    return true;
  return ctx->session && fuse_session_exited(ctx->session);
}

pid_t fs_request_pid(void) {
  return current_req ? fuse_req_ctx(current_req)->pid : 0;
}

static int64_t start_time_us;
/* The largest read answered by splice; 0: none (set once in op_init). */
static size_t splice_read_max;

static const FsFileTable *table_of(const FsNode *n) {
  if (n->path.type == FS_PATH_NODE_FILE || n->path.type == FS_PATH_NODE_DIR)
    return fs_files_of_node();
  if (n->path.type == FS_PATH_ROOT_FILE || n->path.type == FS_PATH_ROOT)
    return fs_files_of_root();
  return fs_files_of_kind(n->path.kind);
}

/* A subdirectory of an object whose entries come from FsDirOps. */
static bool is_listing_dir(const FsFile *f) {
  return f && f->kind == FS_FILE_DIR && f->dir;
}

/* A subdirectory whose files are entries of the table itself, named
 * "DIR/FILE" (a domain's cloud-init/). */
static bool is_table_dir(const FsFileTable *t, const FsFile *f) {
  if (!f || f->kind != FS_FILE_DIR || f->dir)
    return false;
  size_t n = strlen(f->name);
  for (size_t i = 0; i < t->count; i++)
    if (strncmp(t->files[i].name, f->name, n) == 0 && t->files[i].name[n] == '/')
      return true;
  return false;
}

/* Counts a request for /virt/metrics. */
static void count_request(FsContext *ctx, FsRequestKind kind) {
  __atomic_fetch_add(&ctx->requests[kind], 1, __ATOMIC_RELAXED);
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
  if (p->type == FS_PATH_VOLUMES_DIR || obj_kind_is_child(p->kind)) {
    ObjKind parent_kind = p->type == FS_PATH_VOLUMES_DIR ? p->kind : fs_path_parent_kind(p->kind);
    ObjKind child_kind = fs_path_child_kind(parent_kind);
    if (!obj_type_get(parent_kind) || !obj_type_get(child_kind))
      return NULL;
    g_autoptr(Obj) parent = registry_lookup(ctx->registry, parent_kind, NULL, p->pool);
    if (!parent || p->type == FS_PATH_VOLUMES_DIR)
      return g_steal_pointer(&parent);
    return registry_lookup(ctx->registry, child_kind, parent, p->name);
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
    n->file = fs_file_lookup(fs_files_of_root(), n->path.file);
    return n->file ? 0 : -ENOENT;
  case FS_PATH_NODE_FILE:
    n->file = fs_file_lookup(fs_files_of_node(), n->path.file);
    return n->file ? 0 : -ENOENT;
  case FS_PATH_VOLUMES_DIR:
  case FS_PATH_OBJ_DIR:
    n->obj = lookup_object(ctx, &n->path);
    return n->obj ? 0 : -ENOENT;
  case FS_PATH_OBJ_ENTRY: {
  entry:
    n->obj = lookup_object(ctx, &n->path);
    if (!n->obj)
      return -ENOENT;
    const FsFileTable *t = table_of(n);
    bool in_dir = false;
    const FsFile *f = fs_file_lookup_path(ctx, t, n->path.file, &in_dir);
    const char *slash = strchr(n->path.file, '/');
    if (slash && !in_dir) { /* in a table subdirectory: it must be there */
      g_autofree char *dir = g_strndup(n->path.file, (gsize)(slash - n->path.file));
      const FsFile *d = fs_file_lookup(t, dir);
      if (!is_table_dir(t, d) || !file_visible(ctx, n->obj, d))
        return -ENOENT;
      f = fs_file_lookup(t, n->path.file);
    }
    if (f && (f->kind != FS_FILE_DIR || f->dir || f->data_dir || is_table_dir(t, f)) &&
        file_visible(ctx, n->obj, f)) {
      n->file = f;
      return 0;
    }
    if (!f)
      n->scratch = scratch_lookup(n->obj, n->path.file);
    if (n->scratch || (allow_missing && (!f || f->kind != FS_FILE_DIR)))
      return 0;
    return -ENOENT;
  }
  case FS_PATH_OBJ_SUBENTRY: {
    const FsFile *d = fs_file_lookup(table_of(n), n->path.file);
    if (is_table_dir(table_of(n), d) || (d && d->data_dir)) {
      /* DIR/FILE of a table subdirectory (the table's entry "DIR/FILE") or
       * of a data directory (devices/vda.xml): an entry of the object */
      char *joined = g_strdup_printf("%s/%s", n->path.file, n->path.sub);
      g_free(n->path.file);
      g_clear_pointer(&n->path.sub, g_free);
      n->path.file = joined;
      n->path.type = FS_PATH_OBJ_ENTRY;
      goto entry;
    }
    n->obj = lookup_object(ctx, &n->path);
    if (!n->obj)
      return -ENOENT;
    n->file = d;
    if (!is_listing_dir(n->file))
      return -ENOENT;
    g_autoptr(GString) content = g_string_new(NULL);
    r = n->file->dir->read(ctx, n->obj, n->path.sub, content, NULL);
    /* Nothing can be created in such a directory. */
    return r == -ENOENT && allow_missing ? -EACCES : r;
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

/* An entry of a listing directory: read-only, its size the content's. */
static int subentry_stat(FsContext *ctx, FsNode *n, struct stat *st) {
  g_autoptr(GString) content = g_string_new(NULL);
  int64_t mtime_us = 0;
  int r = n->file->dir->read(ctx, n->obj, n->path.sub, content, &mtime_us);
  if (r < 0)
    return r;
  memset(st, 0, sizeof(*st));
  st->st_mode = S_IFREG | effective_mode(ctx, 0444);
  st->st_nlink = 1;
  fill_common(ctx, st, mtime_us);
  st->st_size = (off_t)content->len;
  st->st_blocks = (blkcnt_t)((content->len + 511) / 512);
  return 0;
}

static int node_stat(FsContext *ctx, FsNode *n, struct stat *st) {
  switch (n->path.type) {
  case FS_PATH_OBJ_SUBENTRY:
    return subentry_stat(ctx, n, st);
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
  if (h->entry) {
    n->path.type = FS_PATH_OBJ_SUBENTRY;
    n->path.sub = g_strdup(h->entry);
  }
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
  count_request(ctx, FS_REQUEST_GETATTR);
  g_auto(FsNode) n = {0};
  int r = resolve_any(ctx, path, fi, &n);
  if (r < 0)
    return r;
  return node_stat(ctx, &n, st);
}

/* ---- directories ---- */

/* One name of a listing. `st` is filled when known without resolving the
 * name (the objects of a kind directory). */
typedef struct {
  char *name;
  mode_t type;      /* S_IFDIR or S_IFREG */
  bool has_stat;
  struct stat st;
} FsDirEntry;

/* An open directory: the listing taken when it is read from its start,
 * served by offset (entry i has offset i + 1). */
typedef struct {
  GArray *entries;  /* FsDirEntry */
} FsDir;

static void dir_entry_clear(gpointer p) {
  g_free(((FsDirEntry *)p)->name);
}

static void list_add(GArray *list, const char *name, mode_t type, const struct stat *st) {
  FsDirEntry e = {.name = g_strdup(name), .type = type, .has_stat = st != NULL};
  if (st)
    e.st = *st;
  g_array_append_val(list, e);
}

/* The entry of `name` in directory `dir` ("" for the object's own, else
 * a table subdirectory such as "cloud-init"): its last component, or NULL. */
static const char *entry_in(const char *name, const char *dir) {
  size_t n = strlen(dir);
  if (n == 0)
    return strchr(name, '/') ? NULL : name;
  if (strncmp(name, dir, n) != 0 || name[n] != '/' || strchr(name + n + 1, '/'))
    return NULL;
  return name + n + 1;
}

static void list_table(FsContext *ctx, Obj *obj, const FsFileTable *t, const char *dir,
                       GArray *list) {
  for (size_t i = 0; i < t->count; i++) {
    const char *e = entry_in(t->files[i].name, dir);
    if (e && file_visible(ctx, obj, &t->files[i]))
      list_add(list, e, t->files[i].kind == FS_FILE_DIR ? S_IFDIR : S_IFREG, NULL);
  }
}

static void list_objects(FsContext *ctx, ObjKind kind, Obj *parent, GArray *list) {
  if (!obj_type_get(kind))
    return;
  g_autoptr(GPtrArray) objs = registry_list(ctx->registry, kind, parent);
  struct stat st;
  for (guint i = 0; i < objs->len; i++) {
    Obj *o = objs->pdata[i];
    dir_stat(ctx, &st, 0755, obj_mtime(o));
    g_autofree char *name = obj_dup_name(o);
    list_add(list, name, S_IFDIR, &st);
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

/* The names in directory `path`, "." and ".." first. */
static int list_dir(FsContext *ctx, const char *path, GArray *list) {
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, false);
  if (r < 0)
    return r;
  list_add(list, ".", S_IFDIR, NULL);
  list_add(list, "..", S_IFDIR, NULL);
  switch (n.path.type) {
  case FS_PATH_ROOT:
    list_table(ctx, NULL, fs_files_of_root(), "", list);
    list_add(list, "node", S_IFDIR, NULL);
    for (ObjKind k = OBJ_DOMAIN; k < OBJ_VOLUME; k++)
      list_add(list, fs_kind_dir_name(k), S_IFDIR, NULL);
    return 0;
  case FS_PATH_NODE_DIR:
    list_table(ctx, NULL, fs_files_of_node(), "", list);
    return 0;
  case FS_PATH_KIND_DIR:
    before_list(ctx, n.path.kind, NULL);
    list_objects(ctx, n.path.kind, NULL, list);
    return 0;
  case FS_PATH_VOLUMES_DIR:
    before_list(ctx, fs_path_child_kind(n.path.kind), n.obj);
    list_objects(ctx, fs_path_child_kind(n.path.kind), n.obj, list);
    return 0;
  case FS_PATH_OBJ_ENTRY:
    if (is_listing_dir(n.file)) {
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
      if ((r = n.file->dir->list(ctx, n.obj, names)) < 0)
        return r;
      for (guint i = 0; i < names->len; i++)
        list_add(list, names->pdata[i], S_IFREG, NULL);
      return 0;
    }
    if (n.file && n.file->data_dir) {
      /* a data directory: its entries, then scratch files made in it */
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
      n.file->data_dir->list(ctx, n.obj, names);
      add_scratch_names(n.obj, n.file->name, names);
      for (guint i = 0; i < names->len; i++)
        list_add(list, names->pdata[i], S_IFREG, NULL);
      return 0;
    }
    if (!n.file || !is_table_dir(fs_files_of_kind(n.path.kind), n.file))
      return -ENOTDIR;
    /* a table subdirectory lists like the object's own */
    __attribute__((fallthrough));
  case FS_PATH_OBJ_DIR: {
    const char *dir = n.path.type == FS_PATH_OBJ_ENTRY ? n.file->name : "";
    list_table(ctx, n.obj, fs_files_of_kind(n.path.kind), dir, list);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    add_scratch_names(n.obj, NULL, names);
    for (guint i = 0; i < names->len; i++) {
      const char *e = entry_in(names->pdata[i], dir);
      if (e)
        list_add(list, e, S_IFREG, NULL);
    }
    return 0;
  }
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
  if (p.type != FS_PATH_OBJ_DIR) {
    g_auto(FsNode) n = {0};
    if (p.type == FS_PATH_OBJ_ENTRY && resolve(ctx, path, &n, false) == 0 && n.file &&
        n.file->kind == FS_FILE_DIR)
      return -EEXIST;
    return p.type == FS_PATH_OBJ_ENTRY || p.type == FS_PATH_OBJ_SUBENTRY ? -EACCES : -EEXIST;
  }
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
  if (obj_kind_is_child(p.kind)) {
    parent = registry_lookup(ctx->registry, fs_path_parent_kind(p.kind), NULL, p.pool);
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
  /* A domain's snapshots/ is part of the domain: `rm -r` of the domain
   * empties it and then removes it, which must succeed so that rm goes on
   * to undefine the domain. */
  if (n.path.type == FS_PATH_VOLUMES_DIR && n.path.kind == OBJ_DOMAIN)
    return registry_count(ctx->registry, OBJ_SNAPSHOT, n.obj) ? -ENOTEMPTY : 0;
  /* history/ stays, but `rm -r` of the object's directory must get to
   * the rmdir of the object itself. */
  if (n.path.type == FS_PATH_OBJ_ENTRY && is_listing_dir(n.file))
    return 0;
  if (n.path.type == FS_PATH_OBJ_ENTRY && is_table_dir(table_of(&n), n.file)) {
    /* rm -r of the object (cloud-init/): hidden like its files, back if
     * the rmdir of the object fails. */
    fs_pending_hide(n.obj, n.file->name);
    return 0;
  }
  if (n.path.type == FS_PATH_OBJ_ENTRY && n.file && n.file->data_dir)
    return 0; /* a data directory is part of its object: `rm -r` goes on to the object */
  if (n.path.type != FS_PATH_OBJ_DIR)
    return n.path.type == FS_PATH_OBJ_ENTRY ? -ENOTDIR : -EBUSY;
  const FsFileTable *t = fs_files_of_kind(n.path.kind);
  g_autofree char *error = NULL;
  r = t->remove ? t->remove(ctx, n.obj, &error)
                : registry_undefine(ctx->registry, n.obj, &error);
  if (r < 0) {
    obj_set_error(n.obj, "rmdir: %s", error ? error : g_strerror(-r));
    fs_pending_reveal_all(n.obj); /* rm -r unlinked its files first */
  }
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
    if (writable && (fi->flags & O_TRUNC) && f->empty_applies && n->obj)
      r = fs_apply_content(ctx, n->obj, f, "", 0);
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

/* Opens an entry of a listing directory: a read-only snapshot. */
static int open_subentry(FsContext *ctx, FsNode *n, struct fuse_file_info *fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY)
    return -EACCES;
  FsHandle *h = fs_handle_new(FS_HANDLE_TABLE, n->obj, n->file);
  h->entry = g_strdup(n->path.sub);
  int r = n->file->dir->read(ctx, n->obj, n->path.sub, h->buf, NULL);
  if (r < 0) {
    fs_handle_free(h);
    return r;
  }
  fi->direct_io = 1;
  fi->fh = (uint64_t)(uintptr_t)h;
  return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  count_request(ctx, FS_REQUEST_OPEN);
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, false);
  if (r < 0)
    return r;
  if (n.path.type == FS_PATH_OBJ_SUBENTRY)
    return open_subentry(ctx, &n, fi);
  if (n.scratch)
    return open_scratch(&n, fi);
  if (!n.file || n.file->kind == FS_FILE_DIR)
    return -EISDIR;
  return open_table(ctx, &n, fi, false);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  count_request(ctx, FS_REQUEST_OPEN);
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, true);
  if (r < 0)
    return r;
  if (n.path.type == FS_PATH_OBJ_SUBENTRY)
    return -EACCES;
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
  const struct fuse_ctx *fc = fuse_req_ctx(current_req);
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
 * into memory. */
static void reply_read(fuse_req_t req, size_t size, off_t offset, struct fuse_file_info *fi) {
  FsHandle *h = handle_of(fi);
  count_request(context(), FS_REQUEST_READ);
  int fd = -1;
  if (h->type == FS_HANDLE_STREAM && h->file->stream->read_fd && size <= splice_read_max)
    fd = h->file->stream->read_fd(context(), h);
  if (fd >= 0) {
    struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
    bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    bv.buf[0].fd = fd;
    bv.buf[0].pos = offset;
    fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
    return;
  }
  char *mem = g_try_malloc(size ? size : 1);
  if (!mem) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  int n = op_read(NULL, mem, size, offset, fi);
  if (n < 0)
    fuse_reply_err(req, -n);
  else
    fuse_reply_buf(req, mem, (size_t)n);
  g_free(mem);
}

/* Writes to streams that take FUSE buffers get them as they come (maybe
 * a pipe to splice from); everything else in memory, as libfuse would. */
static int op_write_buf(const char *path, struct fuse_bufvec *buf, off_t offset,
                        struct fuse_file_info *fi) {
  FsHandle *h = handle_of(fi);
  count_request(context(), FS_REQUEST_WRITE);
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
  return fs_handle_commit(context(), h, false);
}

static int op_release(const char *path, struct fuse_file_info *fi) {
  FsContext *ctx = context();
  FsHandle *h = handle_of(fi);
  fs_handle_commit(ctx, h, true);
  if (h->type == FS_HANDLE_STREAM && h->file->stream->release)
    h->file->stream->release(ctx, h);
  fs_handle_free(h);
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
  if (n.path.type == FS_PATH_OBJ_SUBENTRY)
    return -EACCES;
  if (!n.file || n.file->kind == FS_FILE_DIR)
    return -EISDIR;
  if (!n.file->write)
    return -EACCES;
  if (n.file->kind == FS_FILE_STREAM || n.file->kind == FS_FILE_CTL || !n.obj)
    return 0;
  if (n.file->empty_applies && size == 0)
    return fs_apply_content(ctx, n.obj, n.file, "", 0);
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
  if (n.path.type == FS_PATH_OBJ_SUBENTRY)
    return 0; /* entries stay (history.md); rm -r of the object goes on */
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
    r = n.file->data_dir->remove(ctx, n.obj, entry, &error);
    if (r < 0)
      obj_set_error(n.obj, "%s", error ? error : g_strerror(-r));
    return r;
  }
  if (n.file->remove) {
    g_autofree char *error = NULL;
    r = n.file->remove(ctx, n.obj, &error);
    if (r < 0) {
      obj_set_error(n.obj, "rm %s: %s", n.file->name, error ? error : g_strerror(-r));
      /* rm -r stops here without the rmdir that would show the files it
       * already unlinked again: show them now. */
      fs_pending_reveal_all(n.obj);
    }
    if (r != FS_REMOVE_HIDE)
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
  if (src.path.type != FS_PATH_OBJ_ENTRY || (src.file && src.file->kind == FS_FILE_DIR))
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
    const struct fuse_ctx *fc = fuse_req_ctx(current_req);
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

/* ---- the low-level callbacks: inode numbers to paths ---- */

/* Every callback starts here: the worker thread now answers `req`. */
static FsContext *begin(fuse_req_t req) {
  current_req = req;
  return fuse_req_userdata(req);
}

static void reply_err(fuse_req_t req, int r) {
  fuse_reply_err(req, r < 0 ? -r : 0);
  current_req = NULL;
}

static FsInodes *inodes(FsContext *ctx) {
  return ctx->adapter->inodes;
}

static double timeout_of(const struct stat *st) {
  return S_ISDIR(st->st_mode) ? FS_DIR_CACHE_S : 0;
}

static void set_timeouts(struct fuse_entry_param *e) {
  e->attr_timeout = timeout_of(&e->attr);
  e->entry_timeout = FS_NAME_CACHE_S;
}

/* Resolves `name` in `parent`, counts one lookup of its inode and fills e. */
static int make_entry(FsContext *ctx, fuse_ino_t parent, const char *name,
                      struct fuse_entry_param *e) {
  if (strlen(name) > 255)
    return -ENAMETOOLONG;
  g_autofree char *path = fs_inodes_child_path(inodes(ctx), parent, name);
  if (!path)
    return -ENOENT;
  g_auto(FsNode) n = {0};
  int r = resolve(ctx, path, &n, false);
  if (r < 0)
    return r;
  memset(e, 0, sizeof(*e));
  r = node_stat(ctx, &n, &e->attr);
  if (r < 0)
    return r;
  e->ino = fs_inodes_lookup(inodes(ctx), parent, name, S_ISDIR(e->attr.st_mode));
  if (!e->ino)
    return -ENOENT;
  e->attr.st_ino = e->ino;
  set_timeouts(e);
  return 0;
}

static void reply_entry(fuse_req_t req, FsContext *ctx, fuse_ino_t parent, const char *name) {
  struct fuse_entry_param e;
  int r = make_entry(ctx, parent, name, &e);
  if (r < 0) {
    reply_err(req, r);
    return;
  }
  if (fuse_reply_entry(req, &e) != 0)
    fs_inodes_forget(inodes(ctx), e.ino, 1);
  current_req = NULL;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  reply_entry(req, begin(req), parent, name);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  FsContext *ctx = fuse_req_userdata(req);
  fs_inodes_forget(inodes(ctx), ino, nlookup);
  fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  FsContext *ctx = fuse_req_userdata(req);
  for (size_t i = 0; i < count; i++)
    fs_inodes_forget(inodes(ctx), forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

/* The handle of an open regular file, when the kernel names one (fstat,
 * ftruncate, fchmod...); directories' handles are FsDir, never used here. */
static struct fuse_file_info *file_fi(FsContext *ctx, fuse_ino_t ino, struct fuse_file_info *fi) {
  return fi && fi->fh && !fs_inodes_is_dir(inodes(ctx), ino) ? fi : NULL;
}

static int stat_ino(FsContext *ctx, fuse_ino_t ino, struct fuse_file_info *fi, struct stat *st) {
  g_autofree char *path = fi ? NULL : fs_inodes_path(inodes(ctx), ino);
  if (!fi && !path)
    return -ENOENT;
  int r = op_getattr(path, st, fi);
  if (r < 0)
    return r;
  st->st_ino = ino;
  return 0;
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  FsContext *ctx = begin(req);
  struct stat st;
  int r = stat_ino(ctx, ino, file_fi(ctx, ino, fi), &st);
  if (r < 0) {
    reply_err(req, r);
    return;
  }
  fuse_reply_attr(req, &st, timeout_of(&st));
  current_req = NULL;
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi) {
  FsContext *ctx = begin(req);
  fi = file_fi(ctx, ino, fi);
  g_autofree char *path = fi ? NULL : fs_inodes_path(inodes(ctx), ino);
  if (!fi && !path) {
    reply_err(req, -ENOENT);
    return;
  }
  int r = 0;
  if (to_set & FUSE_SET_ATTR_MODE)
    r = op_chmod(path, attr->st_mode, fi);
  if (r == 0 && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
    r = op_chown(path, (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1,
                 (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1, fi);
  if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE))
    r = op_truncate(path, attr->st_size, fi);
  if (r == 0 && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
    struct timespec tv[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
    if (to_set & FUSE_SET_ATTR_ATIME_NOW)
      tv[0].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_ATIME)
      tv[0] = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW)
      tv[1].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_MTIME)
      tv[1] = attr->st_mtim;
    r = op_utimens(path, tv, fi);
  }
  struct stat st;
  if (r == 0)
    r = stat_ino(ctx, ino, fi, &st);
  if (r < 0) {
    reply_err(req, r);
    return;
  }
  fuse_reply_attr(req, &st, timeout_of(&st));
  current_req = NULL;
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  FsContext *ctx = begin(req);
  g_autofree char *path = fs_inodes_child_path(inodes(ctx), parent, name);
  int r = path ? op_mkdir(path, mode) : -ENOENT;
  if (r < 0)
    reply_err(req, r);
  else
    reply_entry(req, ctx, parent, name);
}

/* unlink and rmdir: on success the name no longer leads to its inode. */
static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name,
                        int (*op)(const char *path)) {
  FsContext *ctx = begin(req);
  g_autofree char *path = fs_inodes_child_path(inodes(ctx), parent, name);
  int r = path ? op(path) : -ENOENT;
  if (r == 0)
    fs_inodes_remove(inodes(ctx), parent, name);
  reply_err(req, r);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  remove_name(req, parent, name, op_unlink);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  remove_name(req, parent, name, op_rmdir);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags) {
  FsContext *ctx = begin(req);
  g_autofree char *from = fs_inodes_child_path(inodes(ctx), parent, name);
  g_autofree char *to = fs_inodes_child_path(inodes(ctx), newparent, newname);
  int r = from && to ? op_rename(from, to, flags) : -ENOENT;
  if (r == 0)
    fs_inodes_rename(inodes(ctx), parent, name, newparent, newname);
  reply_err(req, r);
}

/* Drops a handle the kernel never got (the open's reply failed). */
static void drop_handle(FsContext *ctx, struct fuse_file_info *fi) {
  FsHandle *h = handle_of(fi);
  if (h->type == FS_HANDLE_STREAM && h->file->stream->release)
    h->file->stream->release(ctx, h);
  fs_handle_free(h);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  FsContext *ctx = begin(req);
  g_autofree char *path = fs_inodes_path(inodes(ctx), ino);
  int r = path ? op_open(path, fi) : -ENOENT;
  if (r < 0) {
    reply_err(req, r);
    return;
  }
  if (fuse_reply_open(req, fi) != 0)
    drop_handle(ctx, fi);
  current_req = NULL;
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi) {
  FsContext *ctx = begin(req);
  g_autofree char *path = fs_inodes_child_path(inodes(ctx), parent, name);
  int r = path ? op_create(path, mode, fi) : -ENOENT;
  if (r < 0) {
    reply_err(req, r);
    return;
  }
  struct fuse_entry_param e;
  r = make_entry(ctx, parent, name, &e);
  if (r < 0) {
    drop_handle(ctx, fi);
    reply_err(req, r);
    return;
  }
  if (fuse_reply_create(req, &e, fi) != 0) {
    drop_handle(ctx, fi);
    fs_inodes_forget(inodes(ctx), e.ino, 1);
  }
  current_req = NULL;
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  begin(req);
  reply_read(req, size, off, fi);
  current_req = NULL;
}

static void ll_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv, off_t off,
                         struct fuse_file_info *fi) {
  begin(req);
  int r = op_write_buf(NULL, bufv, off, fi);
  if (r < 0) {
    reply_err(req, r);
    return;
  }
  fuse_reply_write(req, (size_t)r);
  current_req = NULL;
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  begin(req);
  reply_err(req, op_flush(NULL, fi));
}

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  begin(req);
  reply_err(req, op_release(NULL, fi));
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  fuse_reply_err(req, 0);
}

/* Directories remember their listing, taken when read from the start. */
static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  FsContext *ctx = begin(req);
  g_autofree char *path = fs_inodes_path(inodes(ctx), ino);
  g_auto(FsNode) n = {0};
  int r = path ? resolve(ctx, path, &n, false) : -ENOENT;
  /* An entry is a directory only when its table says so (history/,
   * devices/, cloud-init/); a scratch file never is. */
  if (r == 0 && n.path.type == FS_PATH_OBJ_ENTRY &&
      (!n.file || n.file->kind != FS_FILE_DIR))
    r = -ENOTDIR;
  if (r < 0) {
    reply_err(req, r);
    return;
  }
  FsDir *d = g_new0(FsDir, 1);
  fi->fh = (uint64_t)(uintptr_t)d;
  if (fuse_reply_open(req, fi) != 0)
    g_free(d);
  current_req = NULL;
}

static void dir_clear_entries(FsDir *d) {
  g_clear_pointer(&d->entries, g_array_unref);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  FsDir *d = (FsDir *)(uintptr_t)fi->fh;
  dir_clear_entries(d);
  g_free(d);
  fuse_reply_err(req, 0);
}

/* readdir and readdirplus. With plus, each name comes with its attributes
 * and counts a lookup of its inode, so `ls -l` needs no request per name;
 * a name that no longer resolves is left out. */
static void reply_listing(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                          struct fuse_file_info *fi, bool plus) {
  FsContext *ctx = begin(req);
  FsDir *d = (FsDir *)(uintptr_t)fi->fh;
  g_autofree char *path = fs_inodes_path(inodes(ctx), ino);
  if (!path) {
    reply_err(req, -ENOENT);
    return;
  }
  if (off == 0 || !d->entries) {
    dir_clear_entries(d);
    d->entries = g_array_new(FALSE, FALSE, sizeof(FsDirEntry));
    g_array_set_clear_func(d->entries, dir_entry_clear);
    int r = list_dir(ctx, path, d->entries);
    if (r < 0) {
      dir_clear_entries(d);
      reply_err(req, r);
      return;
    }
  }
  g_autofree char *buf = g_malloc(size);
  size_t used = 0;
  for (size_t i = (size_t)off; i < d->entries->len; i++) {
    FsDirEntry *de = &g_array_index(d->entries, FsDirEntry, i);
    size_t room = size - used, need;
    if (!plus) {
      struct stat st = {.st_ino = FS_UNKNOWN_INO, .st_mode = de->type};
      need = fuse_add_direntry(req, buf + used, room, de->name, &st, (off_t)i + 1);
      if (need > room)
        break;
      used += need;
      continue;
    }
    struct fuse_entry_param e = {0};
    if (strcmp(de->name, ".") == 0 || strcmp(de->name, "..") == 0) {
      e.attr.st_ino = strcmp(de->name, ".") == 0 ? ino : FS_UNKNOWN_INO;
      e.attr.st_mode = S_IFDIR;
    } else if (de->has_stat) {
      e.attr = de->st;
      e.ino = fs_inodes_lookup(inodes(ctx), ino, de->name, S_ISDIR(e.attr.st_mode));
      e.attr.st_ino = e.ino;
      set_timeouts(&e);
    } else if (make_entry(ctx, ino, de->name, &e) < 0) {
      continue;
    }
    need = fuse_add_direntry_plus(req, buf + used, room, de->name, &e, (off_t)i + 1);
    if (need > room) {
      if (e.ino)
        fs_inodes_forget(inodes(ctx), e.ino, 1);
      break;
    }
    used += need;
  }
  fuse_reply_buf(req, buf, used);
  current_req = NULL;
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi) {
  reply_listing(req, ino, size, off, fi, false);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi) {
  reply_listing(req, ino, size, off, fi, true);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino) {
  struct statvfs st;
  op_statfs(NULL, &st);
  fuse_reply_statfs(req, &st);
}

/* Extended attributes are left unimplemented on purpose: libfuse answers
 * ENOSYS, after which the kernel answers EOPNOTSUPP to every xattr call by
 * itself (clients.md 13, 14) instead of asking the daemon three times per
 * file for `ls -l` (security.selinux, system.posix_acl_access). */

static void ll_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
                     struct fuse_file_info *fi, unsigned flags, const void *in_buf,
                     size_t in_bufsz, size_t out_bufsz) {
  fuse_reply_err(req, ENOTTY);
}

static void ll_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
                    struct fuse_pollhandle *ph) {
  begin(req);
  unsigned revents = 0;
  op_poll(NULL, fi, ph, &revents);
  fuse_reply_poll(req, revents);
  current_req = NULL;
}

static void ll_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                               struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
                               struct fuse_file_info *fi_out, size_t len, int flags) {
  fuse_reply_err(req, EOPNOTSUPP);
}

/* ---- names the daemon changes by itself ---- */

/* Undoes the escaping of names in event lines (events.h). */
static char *unescape_field(const char *s) {
  GString *out = g_string_new(NULL);
  for (const char *p = s; *p; p++) {
    if (p[0] == '\\' && p[1] == '\\') {
      g_string_append_c(out, '\\');
      p++;
    } else if (p[0] == '\\' && p[1] == 'x' && g_ascii_isxdigit(p[2]) && g_ascii_isxdigit(p[3])) {
      g_string_append_c(out, (char)(g_ascii_xdigit_value(p[2]) * 16 + g_ascii_xdigit_value(p[3])));
      p += 3;
    } else {
      g_string_append_c(out, *p);
    }
  }
  return g_string_free(out, FALSE);
}

/* One event line "TIMESTAMP KIND NAME EVENT [DETAIL]": the object's name
 * leaves the kernel's cache when it was undefined or renamed, and its
 * directory's attributes (mtime) after any other event. */
static void invalidate_event(FsContext *ctx, const char *line) {
  g_auto(GStrv) f = g_strsplit(line, " ", 5);
  if (g_strv_length(f) < 4)
    return;
  g_autofree char *name = unescape_field(f[2]);
  FsInodes *t = inodes(ctx);
  fuse_ino_t dir = 0;
  const char *leaf = name;
  if (strcmp(f[1], "volume") == 0) {
    char *slash = strchr(name, '/');
    if (!slash)
      return;
    *slash = '\0';
    leaf = slash + 1;
    fuse_ino_t pools = fs_inodes_find(t, FUSE_ROOT_ID, "pools");
    fuse_ino_t pool = pools ? fs_inodes_find(t, pools, name) : 0;
    dir = pool ? fs_inodes_find(t, pool, "volumes") : 0;
  } else {
    ObjKind kind;
    if (obj_kind_from_string(f[1], &kind) < 0 || !fs_kind_dir_name(kind))
      return;
    dir = fs_inodes_find(t, FUSE_ROOT_ID, fs_kind_dir_name(kind));
  }
  if (!dir)
    return;  /* the kernel never looked there */
  if (strcmp(f[3], "undefined") == 0 || strcmp(f[3], "renamed") == 0) {
    fuse_lowlevel_notify_inval_entry(ctx->session, dir, leaf, strlen(leaf));
    return;
  }
  fuse_ino_t ino = fs_inodes_find(t, dir, leaf);
  if (ino)
    fuse_lowlevel_notify_inval_inode(ctx->session, ino, -1, 0);
}

/* Follows the event bus and tells the kernel what changed. Never called
 * from a request: a notification waits for the directory's lock in the
 * kernel, which a request about the same directory may hold. */
static gpointer invalidate_thread(gpointer data) {
  FsContext *ctx = data;
  EventBus *bus = registry_events(ctx->registry);
  uint64_t seq = event_bus_next_seq(bus);
  g_autoptr(GString) lines = g_string_new(NULL);
  while (!g_atomic_int_get(&ctx->adapter->stopping)) {
    g_string_truncate(lines, 0);
    if (event_bus_read(bus, &seq, lines, 64 * 1024, 200 * 1000) <= 0)
      continue;
    g_auto(GStrv) split = g_strsplit(lines->str, "\n", -1);
    for (char **l = split; *l; l++)
      if (**l)
        invalidate_event(ctx, *l);
  }
  return NULL;
}

static void ll_init(void *userdata, struct fuse_conn_info *conn) {
  FsContext *ctx = userdata;
  conn->want &= ~FUSE_CAP_ASYNC_READ;
  conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  /* readdirplus for every listing (not only the first page), so `ls -l`
   * of many objects is one pass */
  if (conn->capable & FUSE_CAP_READDIRPLUS)
    conn->want |= FUSE_CAP_READDIRPLUS;
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  /* Reads answered with a descriptor are spliced, when the kernel can take
   * spliced replies, up to the size whose reply fits the largest pipe
   * libfuse may make (pipe-max-size, with room for its header pages);
   * larger reads go through memory, which is faster than libfuse's
   * fallback for a pipe too small. */
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
  ctx->adapter = g_new0(FsAdapter, 1);
  ctx->adapter->inodes = fs_inodes_new();
  ctx->adapter->inval_thread = g_thread_new("virtfs-inval", invalidate_thread, ctx);
}

static void ll_destroy(void *userdata) {
  FsContext *ctx = userdata;
  if (!ctx->adapter)
    return;
  g_atomic_int_set(&ctx->adapter->stopping, 1);
  g_thread_join(ctx->adapter->inval_thread);
  fs_inodes_free(ctx->adapter->inodes);
  g_clear_pointer(&ctx->adapter, g_free);
}

const struct fuse_lowlevel_ops fs_operations = {
  .init = ll_init,
  .destroy = ll_destroy,
  .lookup = ll_lookup,
  .forget = ll_forget,
  .forget_multi = ll_forget_multi,
  .getattr = ll_getattr,
  .setattr = ll_setattr,
  .mkdir = ll_mkdir,
  .unlink = ll_unlink,
  .rmdir = ll_rmdir,
  .rename = ll_rename,
  .open = ll_open,
  .create = ll_create,
  .read = ll_read,
  .write_buf = ll_write_buf,
  .flush = ll_flush,
  .release = ll_release,
  .fsync = ll_fsync,
  .opendir = ll_opendir,
  .readdir = ll_readdir,
  .readdirplus = ll_readdirplus,
  .releasedir = ll_releasedir,
  .statfs = ll_statfs,
  .ioctl = ll_ioctl,
  .poll = ll_poll,
  .copy_file_range = ll_copy_file_range,
};
