/* fs_files.c — which table serves which kind; see fs_files.h. */
#include "fs/fs_files.h"

#include <errno.h>
#include <string.h>

#include "fs/fs_pending.h"

const FsFileTable *fs_files_of_kind(ObjKind kind) {
  switch (kind) {
  case OBJ_DOMAIN:
    return &fs_domain_files;
  case OBJ_NETWORK:
    return &fs_network_files;
  case OBJ_POOL:
    return &fs_pool_files;
  case OBJ_VOLUME:
    return &fs_volume_files;
  case OBJ_SNAPSHOT:
    return &fs_snapshot_files;
  default:
    return NULL;
  }
}

const FsFileTable *fs_files_of_node(void) {
  return &fs_node_files;
}

/* The root's files; docs/events.md and docs/metrics.md document them. */
static const FsFile root_files[] = {
  {"events", FS_FILE_STREAM, 0444, NULL, NULL, &fs_events_ops},
  {"events.log", FS_FILE_STREAM, 0444, NULL, NULL, &fs_events_log_ops},
  {"metrics", FS_FILE_STREAM, 0444, NULL, NULL, &fs_metrics_ops},
};

static const FsFileTable root_table = {
  .files = root_files,
  .count = G_N_ELEMENTS(root_files),
};

const FsFileTable *fs_files_of_root(void) {
  return &root_table;
}

const FsFile *fs_file_lookup(const FsFileTable *table, const char *name) {
  if (!table)
    return NULL;
  for (size_t i = 0; i < table->count; i++)
    if (strcmp(table->files[i].name, name) == 0)
      return &table->files[i];
  return NULL;
}

/* Entries of data directories are made once per name and kept: handles
 * point at them. Their names are bounded by the directory's entry_kind,
 * and their number by this cap (past it, new names are not served). */
#define FS_DIR_ENTRIES_MAX 4096

typedef struct {
  FsFile file;
  char *name;
} FsDirEntry;

static void dir_entry_free(gpointer p) {
  FsDirEntry *e = p;
  g_free(e->name);
  g_free(e);
}

/* Never called: fs_render and fs_apply_content give entries to their
 * directory's handlers. It marks the entry writable for the generic checks. */
static int dir_entry_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                           char **ret_error) {
  return -EIO;
}

const FsFile *fs_file_lookup_path(FsContext *ctx, const FsFileTable *table, const char *name,
                                  bool *ret_in_dir) {
  const char *slash = strchr(name, '/');
  if (ret_in_dir)
    *ret_in_dir = false;
  if (!slash)
    return fs_file_lookup(table, name);
  g_autofree char *dir_name = g_strndup(name, (gsize)(slash - name));
  const FsFile *dir = fs_file_lookup(table, dir_name);
  if (!dir || dir->kind != FS_FILE_DIR || !dir->data_dir || strchr(slash + 1, '/'))
    return NULL;
  if (ret_in_dir)
    *ret_in_dir = true;
  int kind = dir->data_dir->entry_kind(slash + 1);
  if (kind < 0)
    return NULL;
  g_mutex_lock(&ctx->entries_lock);
  if (!ctx->entries)
    ctx->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, dir_entry_free);
  FsDirEntry *e = g_hash_table_lookup(ctx->entries, name);
  if (!e && g_hash_table_size(ctx->entries) < FS_DIR_ENTRIES_MAX) {
    e = g_new0(FsDirEntry, 1);
    e->name = g_strdup(name);
    e->file = (FsFile){.name = e->name, .kind = (FsFileKind)kind, .mode = 0644,
                       .write = dir_entry_write, .data_dir = dir->data_dir};
    g_hash_table_insert(ctx->entries, e->name, e);
  }
  g_mutex_unlock(&ctx->entries_lock);
  return e ? &e->file : NULL;
}

const char *fs_file_entry_name(const FsFile *file) {
  if (!file->data_dir || file->kind == FS_FILE_DIR)
    return NULL;
  const char *slash = strchr(file->name, '/');
  return slash ? slash + 1 : NULL;
}

bool fs_file_present(FsContext *ctx, Obj *obj, const FsFile *file) {
  const char *entry = fs_file_entry_name(file);
  if (entry)
    return obj && (file->data_dir->exists(ctx, obj, entry) || fs_pending_is_creating(obj, file->name));
  return !file->present || file->present(ctx, obj);
}

void fs_files_cleanup(FsContext *ctx) {
  g_clear_pointer(&ctx->entries, g_hash_table_unref);
}
