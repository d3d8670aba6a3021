/* store.h — persistence of definitions under the state dir:
 *   STATE/domains/NAME.xml        the definition (canonical XML)
 *   STATE/domains/NAME.autostart  present when autostart is set
 *   STATE/domains/NAME.cloud-init/FILE  the domain's cloud-init files
 * (likewise networks/ and pools/; volumes live in their pools as real files).
 *
 * Writes are atomic: a temporary file in the same directory, fsync, rename
 * over the target, fsync of the directory. A crash leaves the old or the new
 * content, never a torn file. Loading reports unreadable files and skips
 * them; it never deletes or rewrites them. Not thread-safe: the registry
 * serializes writers. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "objects/obj.h"

typedef struct Store Store;

/* Creates the directories if missing. 0 or -errno with a sentence. */
int store_open(const char *state_dir, Store **ret_store, char **ret_error);
void store_free(Store *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Store, store_free)

const char *store_state_dir(const Store *store);

/* Atomically writes NAME.xml. -errno (ENOSPC, EIO, EROFS, ...) with a
 * sentence; the previous file is untouched on failure. */
int store_save(Store *store, ObjKind kind, const char *name, const char *xml, char **ret_error);

/* Removes NAME.xml, NAME.autostart and NAME.cloud-init/. Missing files are not an error. */
int store_remove(Store *store, ObjKind kind, const char *name, char **ret_error);

/* Writes the definition under the new name, then removes the old files and
 * carries the autostart marker over. */
int store_rename(Store *store, ObjKind kind, const char *old_name, const char *new_name,
                 const char *new_xml, char **ret_error);

/* The files kept with a definition in NAME.cloud-init/ (cloud_init.h):
 * the content of FILE in *ret_content (NULL when absent), 0 or -errno. */
int store_extra_read(Store *store, ObjKind kind, const char *name, const char *file,
                     char **ret_content, char **ret_error);
/* Writes FILE atomically (content NULL: removes it). */
int store_extra_write(Store *store, ObjKind kind, const char *name, const char *file,
                      const char *content, char **ret_error);
/* The directory of those files (may not exist). */
char *store_extra_dir(Store *store, ObjKind kind, const char *name);

int store_set_autostart(Store *store, ObjKind kind, const char *name, bool autostart,
                        char **ret_error);

/* Atomically writes DIR/FILE (temporary file, fsync, rename, fsync of the
 * directory) for state kept beside the definitions (snapshot metadata,
 * saved-state records). DIR must exist. 0 or -errno with a sentence. */
int store_write_file_atomic(const char *dir, const char *file, const char *content,
                            char **ret_error);

/* Called for each stored definition, in name order. */
typedef void (*StoreLoadFunc)(const char *name, const char *xml, size_t len,
                              bool autostart, void *user_data);
/* Calls `fn` for every NAME.xml of the kind; a file that cannot be read is
 * logged and skipped. Returns the number of files passed to fn. */
int store_load_all(Store *store, ObjKind kind, StoreLoadFunc fn, void *user_data);

/* Writes `content` to FILE in the directory dir_fd atomically: through
 * .FILE.tmp, fsync, rename, and with sync_dir an fsync of the directory
 * (without it a power loss may undo the rename, never tear the file).
 * Also used by the history (history.h). */
int store_write_at(int dir_fd, const char *file, const char *content, bool sync_dir,
                   char **ret_error);
