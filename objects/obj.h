/* obj.h — one managed object (a domain, network, pool, volume or snapshot) as the
 * registry holds it: its persistent definition, its runtime state and its
 * last error sentence.
 *
 * The persistent definition is what config.xml shows at all times; a running
 * domain's live definition belongs to its runtime (the driver's state).
 *
 * The per-kind behaviour that is pure (parse, format, names, UUIDs) comes
 * from an ObjType table, so the registry, the store and the FUSE layer treat
 * every kind alike.
 *
 * Locking: `lock` protects every mutable field below it. Lock order is
 * registry lock, then object lock; never wait for QEMU, the kernel or a
 * helper program while holding either (take a reference, unlock, act).
 * Objects are reference-counted; obj_unref() frees at zero. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "objects/enum_table.h"

typedef enum {
  OBJ_DOMAIN,
  OBJ_NETWORK,
  OBJ_POOL,
  OBJ_VOLUME,
  OBJ_SNAPSHOT,
  OBJ_KIND_COUNT,
} ObjKind;
ENUM_TABLE_DECL(obj_kind, ObjKind)

/* Kinds whose objects live under a parent object (volumes in a pool,
 * snapshots in a domain) rather than at the top of the registry. */
static inline bool obj_kind_is_child(ObjKind kind) {
  return kind == OBJ_VOLUME || kind == OBJ_SNAPSHOT;
}

/* Pure per-kind operations on definitions (void * is the kind's *Def). */
typedef struct ObjType {
  ObjKind kind;
  const char *dir_name;    /* "domains": the directory in the tree and state dir */
  bool stored;             /* definitions persisted by the store (not volumes) */
  /* Parses XML; 0 or -EINVAL/-EFBIG with a sentence. */
  int (*parse)(const char *xml, size_t len, void **ret_def, char **ret_error);
  /* Canonical XML of the persistent definition, newly allocated. */
  char *(*format)(const void *def);
  void *(*copy)(const void *def);
  void (*free)(void *def);
  const char *(*get_name)(const void *def);
  /* Renames the definition in place (the name is validated by the caller). */
  void (*set_name)(void *def, const char *name);
  /* NULL for kinds without UUIDs (volumes). */
  const char *(*get_uuid)(const void *def);
  /* Optional (NULL: nothing to keep). Called on a freshly parsed
   * definition that replaces `old_def`, before it is applied: copies into
   * new_def what the parser had to invent (UUID, MACs) from old_def, so a
   * definition written without them keeps the object's identity. Pure and
   * quick: the caller may hold old_def's object lock. */
  void (*inherit)(void *new_def, const void *old_def);
} ObjType;

/* The ObjType adapters every kind with a `name` and a `uuid[37]`/`char *uuid`
 * member and PREFIX_def_parse/copy/free functions shares: defines static
 * functions PREFIX_obj_parse, _copy, _free, _get_name, _set_name, _get_uuid
 * for the kind's ObjType (format differs per kind and is written by hand). */
#define OBJ_TYPE_ADAPTERS(prefix, Type)                                          \
  static int prefix##_obj_parse(const char *xml, size_t len, void **ret_def,    \
                                char **ret_error) {                              \
    Type *def = NULL;                                                            \
    int r = prefix##_def_parse(xml, len, &def, ret_error);                       \
    if (r >= 0)                                                                  \
      *ret_def = def;                                                            \
    return r;                                                                    \
  }                                                                              \
  static void *prefix##_obj_copy(const void *def) {                              \
    return prefix##_def_copy(def);                                               \
  }                                                                              \
  static void prefix##_obj_free(void *def) {                                     \
    prefix##_def_free(def);                                                      \
  }                                                                              \
  static const char *prefix##_obj_get_name(const void *def) {                    \
    return ((const Type *)def)->name;                                            \
  }                                                                              \
  static void prefix##_obj_set_name(void *def, const char *name) {              \
    Type *d = def;                                                               \
    g_free(d->name);                                                             \
    d->name = g_strdup(name);                                                    \
  }                                                                              \
  static const char *prefix##_obj_get_uuid(const void *def) {                    \
    return ((const Type *)def)->uuid;                                            \
  }

/* The type table of a kind; NULL for a kind not built in. */
const ObjType *obj_type_get(ObjKind kind);
/* Registers the type table of a kind (done once at start-up). */
void obj_type_register(const ObjType *type);

typedef struct Obj Obj;

struct Obj {
  gint refcount;
  ObjKind kind;
  const ObjType *type;
  uint64_t generation;     /* unique per creation; handles compare it */
  Obj *parent;             /* the pool of a volume, the domain of a snapshot
                              (a reference), else NULL */

  GMutex lock;             /* protects everything below */
  char *name;              /* also changed under the registry lock (rename) */
  void *def;               /* persistent definition, never NULL */
  char *def_xml;           /* canonical XML of def, kept in step with it */
  bool autostart;
  bool removed;            /* undefined: handles to it fail with ENOENT */
  char *error;             /* last error sentence with timestamp, or NULL */
  int64_t mtime_us;        /* last change of definition or state (real time) */
  void *runtime;           /* owned by the driver of the kind */
  GHashTable *scratch;     /* name -> FsScratch*, owned by fs/ (opaque here) */
  GHashTable *pending;     /* file name -> FsPending*, owned by fs/: table
                              files unlinked, renamed away or truncated by
                              path, waiting to be written again */
  GHashTable *children;    /* name -> Obj*: volumes of a pool, snapshots of a
                              domain */
};

/* Creates an object owning `def` (consumed: *def is cleared). Returns a new
 * reference. */
Obj *obj_new(const ObjType *type, void **def, Obj *parent, uint64_t generation);
Obj *obj_ref(Obj *obj);
void obj_unref(Obj *obj);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Obj, obj_unref)

/* Replaces the definition (consumed) and refreshes def_xml. Call with
 * obj->lock held. */
void obj_set_def_locked(Obj *obj, void **def);

/* Stores "TIMESTAMP sentence" as the object's error and logs it once with
 * the object's name. Takes obj->lock. */
void obj_set_error(Obj *obj, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void obj_clear_error(Obj *obj);

/* A copy of the object's name (takes the lock). */
char *obj_dup_name(Obj *obj);

/* Current real time in microseconds (for mtimes). */
int64_t obj_now_us(void);
