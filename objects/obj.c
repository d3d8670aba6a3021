/* obj.c — reference counting, definition replacement and error sentences of
 * managed objects; see obj.h. */
#include "objects/obj.h"

#include <stdarg.h>

#include "objects/log.h"

ENUM_TABLE_IMPL(obj_kind, ObjKind, "domain", "network", "pool", "volume", "snapshot")

static const ObjType *types[OBJ_KIND_COUNT];

const ObjType *obj_type_get(ObjKind kind) {
  return (unsigned)kind < OBJ_KIND_COUNT ? types[kind] : NULL;
}

void obj_type_register(const ObjType *type) {
  types[type->kind] = type;
}

int64_t obj_now_us(void) {
  return g_get_real_time();
}

Obj *obj_new(const ObjType *type, void **def, Obj *parent, uint64_t generation) {
  Obj *obj = g_new0(Obj, 1);
  obj->refcount = 1;
  obj->kind = type->kind;
  obj->type = type;
  obj->generation = generation;
  obj->parent = parent ? obj_ref(parent) : NULL;
  g_mutex_init(&obj->lock);
  obj->name = g_strdup(type->get_name(*def));
  obj_set_def_locked(obj, def);
  obj->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (type->kind == OBJ_POOL || type->kind == OBJ_DOMAIN)
    obj->children = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)obj_unref);
  return obj;
}

Obj *obj_ref(Obj *obj) {
  g_atomic_int_inc(&obj->refcount);
  return obj;
}

void obj_unref(Obj *obj) {
  if (!obj || !g_atomic_int_dec_and_test(&obj->refcount))
    return;
  g_assert(obj->runtime == NULL);
  obj->type->free(obj->def);
  g_free(obj->def_xml);
  g_free(obj->name);
  g_free(obj->error);
  if (obj->scratch)
    g_hash_table_unref(obj->scratch);
  g_hash_table_unref(obj->pending);
  if (obj->children)
    g_hash_table_unref(obj->children);
  if (obj->parent)
    obj_unref(obj->parent);
  g_mutex_clear(&obj->lock);
  g_free(obj);
}

void obj_set_def_locked(Obj *obj, void **def) {
  if (obj->def)
    obj->type->free(obj->def);
  obj->def = g_steal_pointer(def);
  g_free(obj->def_xml);
  obj->def_xml = obj->type->format(obj->def);
  obj->mtime_us = obj_now_us();
}

void obj_set_error(Obj *obj, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *stamp = g_date_time_format_iso8601(now);
  g_mutex_lock(&obj->lock);
  g_free(obj->error);
  obj->error = g_strdup_printf("%s %s", stamp, text);
  log_warning("%s '%s': %s", obj_kind_to_string(obj->kind), obj->name, text);
  g_mutex_unlock(&obj->lock);
}

void obj_clear_error(Obj *obj) {
  g_mutex_lock(&obj->lock);
  g_clear_pointer(&obj->error, g_free);
  g_mutex_unlock(&obj->lock);
}

char *obj_dup_name(Obj *obj) {
  g_mutex_lock(&obj->lock);
  char *name = g_strdup(obj->name);
  g_mutex_unlock(&obj->lock);
  return name;
}
