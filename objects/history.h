/* history.h — every accepted definition of an object, kept as numbered
 * files under the state dir:
 *   STATE/history/KEY/0001.xml, 0002.xml, ...
 * where KEY is the object's place in the tree ("domains/web",
 * "pools/p/volumes/v"). Numbers only grow; the oldest entries beyond the
 * bound are removed; an entry's mtime is when it was accepted.
 *
 * Writers (add, rename) are serialized by the registry's write lock; readers
 * (list, read) may run at any time: entries are written atomically (temp
 * file, fsync, rename), so a reader sees a whole entry or none. The
 * directory is not synced: a power loss may lose the newest entry, never
 * tear one. Functions
 * return 0 (or a count) or -errno with a sentence in *ret_error. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define HISTORY_DEFAULT_MAX 50
#define HISTORY_MAX_MAX 100000

typedef struct History History;

/* Creates STATE/history if missing. max_entries: the bound per object;
 * 0 keeps no history at all. */
int history_open(const char *state_dir, unsigned max_entries, History **ret_history,
                 char **ret_error);
void history_free(History *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(History, history_free)

unsigned history_max(const History *h);

/* Pure: "0007.xml" for 7; and back (-EINVAL for any other name). */
char *history_entry_name(uint64_t number);
int history_entry_parse(const char *name, uint64_t *ret_number);

/* Adds `xml` as the newest entry of `key` unless it equals the newest one,
 * then removes the oldest beyond the bound. Returns the new entry's number,
 * 0 when nothing was added (same content, or history disabled). */
int64_t history_add(History *h, const char *key, const char *xml, char **ret_error);

/* The entry numbers of key, ascending (empty when there is none). */
GArray *history_list(History *h, const char *key);

/* The content and mtime (µs since the epoch) of entry `name` ("0007.xml")
 * of key. -ENOENT when there is no such entry. */
int history_read(History *h, const char *key, const char *name, GString *out,
                 int64_t *ret_mtime_us);

/* Replaces each entry of key by what `edit` makes of it (NULL: keeps it),
 * keeping the entries' numbers and mtimes: a renamed object's entries
 * name it by its new name, so they can be copied back. */
typedef char *(*HistoryEditFunc)(const char *xml, void *user_data);
int history_rewrite(History *h, const char *key, HistoryEditFunc edit, void *user_data,
                    char **ret_error);

/* Moves the history of old_key to new_key (a rename keeps it). Entries
 * left at new_key by an object that was removed are replaced. Nothing to
 * move is not an error. */
int history_rename(History *h, const char *old_key, const char *new_key, char **ret_error);
