/* fs_snapshot_files.c — the files of /virt/domains/NAME/snapshots/SNAP/:
 * the definition of that moment (config.xml, read-only), info, state and a
 * ctl with revert. mkdir takes a snapshot, rmdir deletes one; the work is
 * the QEMU driver's (qemu_snapshot.h). docs/domains.md documents each
 * entry. */
#include <errno.h>
#include <string.h>

#include "drivers/qemu/qemu_snapshot.h"
#include "fs/fs_common_files.h"
#include "fs/fs_files.h"
#include "objects/snapshot_def.h"

static int config_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  const SnapshotDef *def = obj->def;
  if (def->domain_xml)
    g_string_append(out, def->domain_xml);
  g_mutex_unlock(&obj->lock);
  return 0;
}

static int state_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  const SnapshotDef *def = obj->def;
  g_string_append_printf(out, "%s\n", snapshot_state_to_string(def->state));
  g_mutex_unlock(&obj->lock);
  return 0;
}

static int info_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autofree char *current = qemu_snapshot_current(ctx->qemu, obj->parent);
  g_autoptr(GPtrArray) siblings = registry_list(ctx->registry, OBJ_SNAPSHOT, obj->parent);
  g_autoptr(GString) children = g_string_new(NULL);
  g_autofree char *name = obj_dup_name(obj);
  for (guint i = 0; i < siblings->len; i++) {
    Obj *o = siblings->pdata[i];
    g_mutex_lock(&o->lock);
    if (g_strcmp0(((const SnapshotDef *)o->def)->parent, name) == 0)
      g_string_append_printf(children, "%s%s", children->len ? " " : "", o->name);
    g_mutex_unlock(&o->lock);
  }
  g_autofree char *domain = obj_dup_name(obj->parent);
  g_mutex_lock(&obj->lock);
  const SnapshotDef *def = obj->def;
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(def->created);
  g_autofree char *created = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("");
  g_autoptr(GString) disks = g_string_new(NULL), excluded = g_string_new(NULL);
  for (guint i = 0; i < def->disks->len; i++) {
    const SnapshotDisk *d = def->disks->pdata[i];
    GString *s = d->included ? disks : excluded;
    g_string_append_printf(s, "%s%s", s->len ? " " : "", d->target);
  }
  g_string_append_printf(out, "name: %s\n", def->name);
  g_string_append_printf(out, "domain: %s\n", domain);
  g_string_append_printf(out, "created: %s\n", created);
  g_string_append_printf(out, "parent: %s\n", def->parent ? def->parent : "");
  g_string_append_printf(out, "children: %s\n", children->str);
  g_string_append_printf(out, "current: %s\n", g_strcmp0(current, def->name) == 0 ? "yes" : "no");
  g_string_append_printf(out, "state: %s\n", snapshot_state_to_string(def->state));
  g_string_append_printf(out, "memory: %s\n", def->memory ? "yes" : "no");
  g_string_append_printf(out, "memory_bytes: %" G_GUINT64_FORMAT "\n", def->memory_size);
  g_string_append_printf(out, "disks: %s\n", disks->str);
  g_string_append_printf(out, "excluded: %s\n", excluded->str);
  g_string_append_printf(out, "rebuilt: %s\n", def->rebuilt ? "yes" : "no");
  g_mutex_unlock(&obj->lock);
  return 0;
}

/* The verbs of a snapshot's ctl, as docs/domains.md lists them. */
static const FsQemuVerb snapshot_verbs[] = {
  {"revert", qemu_snapshot_revert},
};

static int ctl_read(FsContext *ctx, Obj *obj, GString *out) {
  return fs_qemu_verbs_read(snapshot_verbs, G_N_ELEMENTS(snapshot_verbs), out);
}

static int ctl_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) {
  return fs_qemu_verbs_dispatch(ctx, obj, snapshot_verbs, G_N_ELEMENTS(snapshot_verbs), data,
                                ret_error);
}

static int snapshot_create(FsContext *ctx, Obj *domain, const char *name, char **ret_error) {
  if (!ctx->qemu) {
    *ret_error = g_strdup("the QEMU driver is not running");
    return -EOPNOTSUPP;
  }
  return qemu_snapshot_create(ctx->qemu, domain, name, ret_error);
}

static int snapshot_remove(FsContext *ctx, Obj *obj, char **ret_error) {
  return qemu_snapshot_delete(ctx->qemu, obj, ret_error);
}

static int snapshot_rename(FsContext *ctx, Obj *obj, const char *new_name, char **ret_error) {
  *ret_error = g_strdup("a snapshot cannot be renamed: its name is the tag inside the images; "
                        "take a new one under the new name and remove this one");
  return -EOPNOTSUPP;
}

static const FsFile snapshot_files[] = {
  {"config.xml", FS_FILE_DOCUMENT, 0444, config_read, NULL},
  {"info", FS_FILE_VALUE, 0444, info_read, NULL},
  {"state", FS_FILE_VALUE, 0444, state_read, NULL},
  {"ctl", FS_FILE_CTL, 0644, ctl_read, ctl_write},
  {"error", FS_FILE_VALUE, 0644, fs_error_read, fs_error_write},
};

const FsFileTable fs_snapshot_files = {
  .files = snapshot_files,
  .count = G_N_ELEMENTS(snapshot_files),
  .create = snapshot_create,
  .remove = snapshot_remove,
  .rename = snapshot_rename,
};
