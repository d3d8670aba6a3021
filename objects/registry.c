/* registry.c — objects by kind and name, their persistence and events; see
 * registry.h for the lock order. */
#include "objects/registry.h"

#include <errno.h>
#include <string.h>

#include "objects/history.h"
#include "objects/log.h"
#include "objects/names.h"

struct Registry {
  GMutex write_lock;
  GMutex lock;
  GHashTable *objects[OBJ_KIND_COUNT];  /* name -> Obj*, top-level kinds */
  GHashTable *corrupt[OBJ_KIND_COUNT];  /* names of unloadable stored files */
  uint64_t next_generation;
  Store *store;
  EventBus *events;
  History *history;                     /* NULL: no history kept */
};

Registry *registry_new(Store *store, EventBus *bus) {
  Registry *r = g_new0(Registry, 1);
  g_mutex_init(&r->write_lock);
  g_mutex_init(&r->lock);
  for (int k = 0; k < OBJ_KIND_COUNT; k++) {
    r->objects[k] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)obj_unref);
    r->corrupt[k] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  }
  r->next_generation = 1;
  r->store = store;
  r->events = bus;
  return r;
}

void registry_free(Registry *r) {
  if (!r)
    return;
  for (int k = 0; k < OBJ_KIND_COUNT; k++) {
    g_hash_table_unref(r->objects[k]);
    g_hash_table_unref(r->corrupt[k]);
  }
  store_free(r->store);
  history_free(r->history);
  event_bus_free(r->events);
  g_mutex_clear(&r->write_lock);
  g_mutex_clear(&r->lock);
  g_free(r);
}

Store *registry_store(Registry *r) {
  return r->store;
}

EventBus *registry_events(Registry *r) {
  return r->events;
}

void registry_set_history(Registry *r, History *history) {
  g_mutex_lock(&r->write_lock);
  history_free(r->history);
  r->history = history;
  g_mutex_unlock(&r->write_lock);
}

History *registry_history(Registry *r) {
  return r->history;
}

/* The history key of an object named `name` (its place in the tree). */
static char *history_key_named(Obj *obj, const char *name) {
  if (obj->parent) {
    g_autofree char *parent = obj_dup_name(obj->parent);
    return g_strdup_printf("%s/%s/%s/%s", obj->parent->type->dir_name, parent,
                           obj->type->dir_name, name);
  }
  return g_strdup_printf("%s/%s", obj->type->dir_name, name);
}

char *registry_history_key(Obj *obj) {
  g_autofree char *name = obj_dup_name(obj);
  return history_key_named(obj, name);
}

typedef struct {
  const ObjType *type;
  const char *name;
} RenameEdit;

/* A history entry under the object's new name (NULL when it does not
 * parse: it is kept as it was). */
static char *rename_entry(const char *xml, void *user_data) {
  RenameEdit *e = user_data;
  void *def = NULL;
  g_autofree char *error = NULL;
  if (e->type->parse(xml, strlen(xml), &def, &error) < 0)
    return NULL;
  e->type->set_name(def, e->name);
  char *out = e->type->format(def);
  e->type->free(def);
  return out;
}

/* Keeps `xml` as the newest history entry of obj (write_lock held). A
 * failure is the object's error but not the change's: the definition is
 * stored already. Returns the entry's file name to announce, or NULL. */
static char *record_history_locked(Registry *r, Obj *obj, const char *xml) {
  if (!r->history)
    return NULL;
  g_autofree char *key = registry_history_key(obj);
  g_autofree char *error = NULL;
  int64_t n = history_add(r->history, key, xml, &error);
  if (n < 0) {
    obj_set_error(obj, "%s", error);
    return NULL;
  }
  return n > 0 ? history_entry_name((uint64_t)n) : NULL;
}

static void announce_history(Registry *r, Obj *obj, char *entry) {
  if (entry)
    registry_emit(r, obj, "history", entry);
  g_free(entry);
}

void registry_record_history(Registry *r, Obj *obj) {
  g_mutex_lock(&r->write_lock);
  g_mutex_lock(&obj->lock);
  g_autofree char *xml = g_strdup(obj->def_xml);
  g_mutex_unlock(&obj->lock);
  char *entry = xml ? record_history_locked(r, obj, xml) : NULL;
  g_mutex_unlock(&r->write_lock);
  announce_history(r, obj, entry);
}

void registry_write_lock(Registry *r) {
  g_mutex_lock(&r->write_lock);
}

void registry_write_unlock(Registry *r) {
  g_mutex_unlock(&r->write_lock);
}

/* The name table holding objects of `kind` under `parent`. r->lock held. */
static GHashTable *table_locked(Registry *r, ObjKind kind, Obj *parent) {
  if (kind == OBJ_VOLUME || kind == OBJ_SNAPSHOT) {
    g_assert(parent && parent->children);
    return parent->children;
  }
  return r->objects[kind];
}

static const char *def_uuid(const ObjType *type, const void *def) {
  return type->get_uuid ? type->get_uuid(def) : NULL;
}

/* The object of the kind, other than `except`, whose UUID is `uuid`.
 * r->lock held. Borrowed pointer. */
static Obj *find_uuid_locked(Registry *r, ObjKind kind, const char *uuid, Obj *except) {
  if (!uuid)
    return NULL;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, r->objects[kind]);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Obj *o = value;
    if (o == except)
      continue;
    g_mutex_lock(&o->lock);
    bool same = g_strcmp0(def_uuid(o->type, o->def), uuid) == 0;
    g_mutex_unlock(&o->lock);
    if (same)
      return o;
  }
  return NULL;
}

typedef struct {
  Registry *r;
  ObjKind kind;
  int loaded;
} LoadContext;

static void load_one(const char *name, const char *xml, size_t len, bool autostart,
                     void *user_data) {
  LoadContext *ctx = user_data;
  Registry *r = ctx->r;
  const ObjType *type = obj_type_get(ctx->kind);
  g_autofree char *error = NULL;
  void *def = NULL;
  int res = type->parse(xml, len, &def, &error);
  if (res < 0) {
    log_error("stored %s '%s' does not parse (skipped, left in place): %s",
              obj_kind_to_string(ctx->kind), name, error);
    g_hash_table_add(r->corrupt[ctx->kind], g_strdup(name));
    return;
  }
  if (strcmp(type->get_name(def), name) != 0) {
    log_error("stored %s file '%s.xml' names '%s' (skipped, left in place)",
              obj_kind_to_string(ctx->kind), name, type->get_name(def));
    g_hash_table_add(r->corrupt[ctx->kind], g_strdup(name));
    type->free(def);
    return;
  }
  g_mutex_lock(&r->lock);
  Obj *twin = find_uuid_locked(r, ctx->kind, def_uuid(type, def), NULL);
  if (twin) {
    log_error("stored %s '%s' repeats the UUID of '%s' (skipped, left in place)",
              obj_kind_to_string(ctx->kind), name, twin->name);
    g_hash_table_add(r->corrupt[ctx->kind], g_strdup(name));
    g_mutex_unlock(&r->lock);
    type->free(def);
    return;
  }
  Obj *obj = obj_new(type, &def, NULL, r->next_generation++);
  obj->autostart = autostart;
  g_hash_table_insert(r->objects[ctx->kind], g_strdup(name), obj);
  g_mutex_unlock(&r->lock);
  ctx->loaded++;
  /* A definition stored before any history was kept starts it; one that
   * equals the newest entry adds nothing. */
  g_free(record_history_locked(r, obj, obj->def_xml));
}

int registry_load(Registry *r, ObjKind kind) {
  LoadContext ctx = {r, kind, 0};
  g_mutex_lock(&r->write_lock);
  store_load_all(r->store, kind, load_one, &ctx);
  g_mutex_unlock(&r->write_lock);
  return ctx.loaded;
}

bool registry_name_is_corrupt(Registry *r, ObjKind kind, const char *name) {
  g_mutex_lock(&r->lock);
  bool corrupt = g_hash_table_contains(r->corrupt[kind], name);
  g_mutex_unlock(&r->lock);
  return corrupt;
}

Obj *registry_lookup(Registry *r, ObjKind kind, Obj *parent, const char *name) {
  g_mutex_lock(&r->lock);
  Obj *o = g_hash_table_lookup(table_locked(r, kind, parent), name);
  if (o)
    obj_ref(o);
  g_mutex_unlock(&r->lock);
  return o;
}

Obj *registry_lookup_uuid(Registry *r, ObjKind kind, const char *uuid) {
  g_mutex_lock(&r->lock);
  Obj *o = find_uuid_locked(r, kind, uuid, NULL);
  if (o)
    obj_ref(o);
  g_mutex_unlock(&r->lock);
  return o;
}

static int compare_obj_names(gconstpointer a, gconstpointer b) {
  const Obj *x = *(Obj *const *)a, *y = *(Obj *const *)b;
  return strcmp(x->name, y->name);
}

GPtrArray *registry_list(Registry *r, ObjKind kind, Obj *parent) {
  g_mutex_lock(&r->lock);
  GHashTable *t = table_locked(r, kind, parent);
  GPtrArray *list = g_ptr_array_new_full(g_hash_table_size(t), (GDestroyNotify)obj_unref);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, NULL, &value))
    g_ptr_array_add(list, obj_ref(value));
  /* names change only under r->lock, which we hold */
  g_ptr_array_sort(list, compare_obj_names);
  g_mutex_unlock(&r->lock);
  return list;
}

guint registry_count(Registry *r, ObjKind kind, Obj *parent) {
  g_mutex_lock(&r->lock);
  guint n = g_hash_table_size(table_locked(r, kind, parent));
  g_mutex_unlock(&r->lock);
  return n;
}

static int fail(char **ret_error, int err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int fail(char **ret_error, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (ret_error)
    *ret_error = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  return err;
}

int registry_define(Registry *r, ObjKind kind, Obj *parent, void **def, Obj **ret_obj,
                    char **ret_error) {
  const ObjType *type = obj_type_get(kind);
  const char *name = type->get_name(*def);
  const char *kname = obj_kind_to_string(kind);
  int res = object_name_validate(name, ret_error);
  if (res < 0)
    return res;
  g_mutex_lock(&r->write_lock);
  g_mutex_lock(&r->lock);
  GHashTable *t = table_locked(r, kind, parent);
  if (g_hash_table_contains(t, name)) {
    res = fail(ret_error, -EEXIST, "a %s named '%s' exists already", kname, name);
  } else if (!obj_kind_is_child(kind) && g_hash_table_contains(r->corrupt[kind], name)) {
    res = fail(ret_error, -EEXIST,
               "the stored definition of %s '%s' could not be loaded; repair or remove it "
               "in the state directory first", kname, name);
  } else {
    Obj *twin = obj_kind_is_child(kind) ? NULL : find_uuid_locked(r, kind, def_uuid(type, *def), NULL);
    if (twin)
      res = fail(ret_error, -EEXIST, "%s '%s' has the same UUID %s", kname, twin->name,
                 def_uuid(type, *def));
  }
  g_mutex_unlock(&r->lock);
  if (res < 0) {
    g_mutex_unlock(&r->write_lock);
    return res;
  }
  g_autofree char *xml = type->format(*def);
  if (type->stored) {
    res = store_save(r->store, kind, name, xml, ret_error);
    if (res < 0) {
      g_mutex_unlock(&r->write_lock);
      return res;
    }
  }
  g_mutex_lock(&r->lock);
  Obj *obj = obj_new(type, def, parent, r->next_generation++);
  g_hash_table_insert(t, g_strdup(obj->name), obj_ref(obj));
  g_mutex_unlock(&r->lock);
  char *entry = record_history_locked(r, obj, xml);
  g_mutex_unlock(&r->write_lock);
  registry_emit(r, obj, "defined", NULL);
  announce_history(r, obj, entry);
  if (ret_obj)
    *ret_obj = obj;
  else
    obj_unref(obj);
  return 0;
}

int registry_update(Registry *r, Obj *obj, void **def, char **ret_error) {
  const ObjType *type = obj->type;
  const char *kname = obj_kind_to_string(obj->kind);
  g_autofree char *xml = type->format(*def);
  int res = 0;
  g_mutex_lock(&r->write_lock);
  g_mutex_lock(&r->lock);
  g_mutex_lock(&obj->lock);
  bool removed = obj->removed;
  bool same = g_strcmp0(obj->def_xml, xml) == 0;
  bool name_ok = strcmp(obj->name, type->get_name(*def)) == 0;
  g_autofree char *name = g_strdup(obj->name);
  g_mutex_unlock(&obj->lock);
  if (removed) {
    res = fail(ret_error, -ENOENT, "%s '%s' was removed", kname, name);
  } else if (!name_ok) {
    res = fail(ret_error, -EINVAL,
               "the XML names %s '%s' but this is '%s': rename the directory instead", kname,
               type->get_name(*def), name);
  } else if (!same && !obj_kind_is_child(obj->kind)) {
    Obj *twin = find_uuid_locked(r, obj->kind, def_uuid(type, *def), obj);
    if (twin)
      res = fail(ret_error, -EEXIST, "%s '%s' has the same UUID %s", kname, twin->name,
                 def_uuid(type, *def));
  }
  g_mutex_unlock(&r->lock);
  if (res < 0 || same) {
    g_mutex_unlock(&r->write_lock);
    if (same) {
      type->free(*def);
      *def = NULL;
    }
    return res;
  }
  if (type->stored && (res = store_save(r->store, obj->kind, name, xml, ret_error)) < 0) {
    g_mutex_unlock(&r->write_lock);
    return res;
  }
  g_mutex_lock(&obj->lock);
  obj_set_def_locked(obj, def);
  g_mutex_unlock(&obj->lock);
  char *entry = record_history_locked(r, obj, xml);
  g_mutex_unlock(&r->write_lock);
  registry_emit(r, obj, "defined", "updated");
  announce_history(r, obj, entry);
  return 0;
}

int registry_undefine(Registry *r, Obj *obj, char **ret_error) {
  const char *kname = obj_kind_to_string(obj->kind);
  int res = 0;
  g_mutex_lock(&r->write_lock);
  g_mutex_lock(&r->lock);
  g_mutex_lock(&obj->lock);
  g_autofree char *name = g_strdup(obj->name);
  if (obj->removed)
    res = fail(ret_error, -ENOENT, "%s '%s' was removed", kname, name);
  else if (obj->runtime)
    res = fail(ret_error, -EBUSY, "%s '%s' is active: stop it first", kname, name);
  else if (obj->children && g_hash_table_size(obj->children) > 0)
    res = fail(ret_error, -EBUSY, "%s '%s' still has %s: remove them first", kname, name,
               obj->kind == OBJ_DOMAIN ? "snapshots" : "volumes");
  g_mutex_unlock(&obj->lock);
  g_mutex_unlock(&r->lock);
  if (res == 0 && obj->type->stored)
    res = store_remove(r->store, obj->kind, name, ret_error);
  if (res == 0) {
    g_mutex_lock(&r->lock);
    g_mutex_lock(&obj->lock);
    obj->removed = true;
    g_mutex_unlock(&obj->lock);
    g_hash_table_remove(table_locked(r, obj->kind, obj->parent), name);
    g_mutex_unlock(&r->lock);
  }
  g_mutex_unlock(&r->write_lock);
  if (res == 0)
    registry_emit(r, obj, "undefined", NULL);
  return res;
}

/* An event about obj under `name` (a rename announces the old name). */
static void emit_named(Registry *r, Obj *obj, const char *name, const char *event,
                       const char *detail) {
  /* A child (a volume, a snapshot) is named PARENT/NAME. */
  if (obj_kind_is_child(obj->kind) && obj->parent) {
    g_autofree char *parent = obj_dup_name(obj->parent);
    g_autofree char *full = g_strdup_printf("%s/%s", parent, name);
    event_bus_emit(r->events, obj_kind_to_string(obj->kind), full, event, detail);
    return;
  }
  event_bus_emit(r->events, obj_kind_to_string(obj->kind), name, event, detail);
}

int registry_rename(Registry *r, Obj *obj, const char *new_name, char **ret_error) {
  const ObjType *type = obj->type;
  const char *kname = obj_kind_to_string(obj->kind);
  int res = object_name_validate(new_name, ret_error);
  if (res < 0)
    return res;
  g_mutex_lock(&r->write_lock);
  g_mutex_lock(&r->lock);
  GHashTable *t = table_locked(r, obj->kind, obj->parent);
  g_mutex_lock(&obj->lock);
  g_autofree char *old_name = g_strdup(obj->name);
  if (obj->removed)
    res = fail(ret_error, -ENOENT, "%s '%s' was removed", kname, old_name);
  else if (obj->runtime)
    res = fail(ret_error, -EBUSY, "%s '%s' is active: stop it before renaming", kname,
               old_name);
  g_mutex_unlock(&obj->lock);
  if (res == 0 && strcmp(old_name, new_name) == 0)
    res = 1; /* nothing to do */
  else if (res == 0 && g_hash_table_contains(t, new_name))
    res = fail(ret_error, -EEXIST, "a %s named '%s' exists already", kname, new_name);
  else if (res == 0 && !obj_kind_is_child(obj->kind) && g_hash_table_contains(r->corrupt[obj->kind], new_name))
    res = fail(ret_error, -EEXIST, "the name '%s' is held by a stored definition that could "
               "not be loaded", new_name);
  g_mutex_unlock(&r->lock);
  if (res != 0) {
    g_mutex_unlock(&r->write_lock);
    return res > 0 ? 0 : res;
  }
  g_mutex_lock(&obj->lock);
  void *def = type->copy(obj->def);
  g_mutex_unlock(&obj->lock);
  type->set_name(def, new_name);
  if (type->stored) {
    g_autofree char *xml = type->format(def);
    res = store_rename(r->store, obj->kind, old_name, new_name, xml, ret_error);
    if (res < 0) {
      type->free(def);
      g_mutex_unlock(&r->write_lock);
      return res;
    }
  }
  if (r->history) {
    g_autofree char *from = history_key_named(obj, old_name);
    g_autofree char *to = history_key_named(obj, new_name);
    g_autofree char *error = NULL;
    RenameEdit edit = {type, new_name};
    if (history_rename(r->history, from, to, &error) < 0 ||
        history_rewrite(r->history, to, rename_entry, &edit, &error) < 0)
      obj_set_error(obj, "%s", error);
  }
  g_mutex_lock(&r->lock);
  gpointer old_key = NULL;
  g_hash_table_steal_extended(t, old_name, &old_key, NULL);
  g_free(old_key);
  g_mutex_lock(&obj->lock);
  g_free(obj->name);
  obj->name = g_strdup(new_name);
  obj_set_def_locked(obj, &def);
  g_mutex_unlock(&obj->lock);
  g_hash_table_insert(t, g_strdup(new_name), obj);
  g_mutex_unlock(&r->lock);
  g_mutex_unlock(&r->write_lock);
  emit_named(r, obj, old_name, "renamed", new_name);
  return 0;
}

int registry_set_autostart(Registry *r, Obj *obj, bool autostart, char **ret_error) {
  int res = 0;
  g_mutex_lock(&r->write_lock);
  g_autofree char *name = obj_dup_name(obj);
  g_mutex_lock(&obj->lock);
  bool unchanged = obj->autostart == autostart;
  bool removed = obj->removed;
  g_mutex_unlock(&obj->lock);
  /* A handle opened before an rmdir may still write: the mark it would
   * leave on disk would make the next object of that name autostart. */
  if (removed)
    res = fail(ret_error, -ENOENT, "%s '%s' was removed", obj_kind_to_string(obj->kind), name);
  else if (!unchanged && obj->type->stored)
    res = store_set_autostart(r->store, obj->kind, name, autostart, ret_error);
  if (res == 0 && !unchanged) {
    g_mutex_lock(&obj->lock);
    obj->autostart = autostart;
    obj->mtime_us = obj_now_us();
    g_mutex_unlock(&obj->lock);
  }
  g_mutex_unlock(&r->write_lock);
  return res;
}

void registry_emit(Registry *r, Obj *obj, const char *event, const char *detail) {
  g_autofree char *name = obj_dup_name(obj);
  emit_named(r, obj, name, event, detail);
}
