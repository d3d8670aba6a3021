/* registry.h — the one shared mutable state of the daemon: every object by
 * kind and name, the store that persists them and the event bus. Given to
 * FUSE as private data; passed to whoever needs it, never global.
 *
 * Locks, in this order (never the reverse):
 *   1. write_lock — serializes every change of the set of objects or of a
 *      stored definition (define, update, rename, undefine, autostart),
 *      including its fsyncs, so readers never wait for the disk;
 *   2. lock — protects the name tables; held only for lookups and inserts;
 *   3. Obj.lock — protects one object's fields.
 * Nothing waits for QEMU, the kernel or a helper program under any of them.
 *
 * Every function returns 0 or -errno with a sentence in *ret_error (caller
 * frees); outputs are written only on success. Returned Obj* are new
 * references. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "objects/events.h"
#include "objects/obj.h"
#include "objects/store.h"

typedef struct Registry Registry;

/* Takes ownership of store and bus. */
Registry *registry_new(Store *store, EventBus *bus);
void registry_free(Registry *r);

Store *registry_store(Registry *r);
EventBus *registry_events(Registry *r);

/* Keeps every accepted definition in `history` (taken over; NULL: none is
 * kept): define, update and the first load of a stored definition add an
 * entry (announced as the event "history ENTRY"), rename moves them,
 * undefine leaves them in place (docs/history.md). Call before loading. */
typedef struct History History;
void registry_set_history(Registry *r, History *history);
/* The history, or NULL; valid while the registry lives. */
History *registry_history(Registry *r);
/* The key of obj's history: its place in the tree ("domains/web",
 * "pools/p/volumes/v"). */
char *registry_history_key(Obj *obj);

/* Loads every stored definition of a kind. A file that does not parse, names
 * another object than its file name, or repeats a UUID is logged and
 * skipped (left on disk, and its name stays reserved so nothing overwrites
 * it). Returns the number of objects loaded. */
int registry_load(Registry *r, ObjKind kind);

/* Whether a name of the kind is reserved by a stored file that could not be
 * loaded. */
bool registry_name_is_corrupt(Registry *r, ObjKind kind, const char *name);

/* `parent` is the pool for volumes and NULL for other kinds. */
Obj *registry_lookup(Registry *r, ObjKind kind, Obj *parent, const char *name);
Obj *registry_lookup_uuid(Registry *r, ObjKind kind, const char *uuid);

/* A snapshot of the objects of a kind sorted by name (array of references;
 * free with g_ptr_array_unref). */
GPtrArray *registry_list(Registry *r, ObjKind kind, Obj *parent);
guint registry_count(Registry *r, ObjKind kind, Obj *parent);

/* Adds a new object owning *def (consumed). Persists it for stored kinds.
 * -EEXIST when the name or the UUID is taken. Emits "defined". */
int registry_define(Registry *r, ObjKind kind, Obj *parent, void **def, Obj **ret_obj,
                    char **ret_error);

/* Replaces the definition of obj with *def (consumed) after checking that it
 * names the same object (-EINVAL) and that its UUID is not another object's
 * (-EEXIST). A definition whose canonical XML equals the current one changes
 * nothing and returns 0. Persists first; the object changes only once the
 * store succeeded. Emits "defined updated". */
int registry_update(Registry *r, Obj *obj, void **def, char **ret_error);

/* Removes the object and its stored files. -EBUSY while it is active (has a
 * runtime) or, for a pool, while it has volumes. Emits "undefined". */
int registry_undefine(Registry *r, Obj *obj, char **ret_error);

/* -EBUSY while active, -EEXIST if the new name is taken, -EINVAL for a bad
 * name. Emits "renamed" with the new name as detail. */
int registry_rename(Registry *r, Obj *obj, const char *new_name, char **ret_error);

int registry_set_autostart(Registry *r, Obj *obj, bool autostart, char **ret_error);

/* Emits an event about obj ("KIND NAME EVENT DETAIL"). */
void registry_emit(Registry *r, Obj *obj, const char *event, const char *detail);

/* Locks out every change of objects (write_lock): used by drivers that
 * must check something across objects before acting, e.g. network subnet
 * conflicts. Keep the critical section short and free of waits. */
/* Keeps obj's current definition as its newest history entry (nothing
 * when it equals the newest) and announces it with a `history` event, but
 * no `defined` one: for a definition that changed as a consequence of
 * something already announced (a volume's path after its rename). */
void registry_record_history(Registry *r, Obj *obj);
void registry_write_lock(Registry *r);
void registry_write_unlock(Registry *r);
