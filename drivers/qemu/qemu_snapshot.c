/* qemu_snapshot.c — snapshots as internal qcow2 snapshots: which disks
 * form the set, taking, reverting and deleting them through QMP jobs on a
 * running domain or qemu-img on a shut-off one, and their records. See
 * qemu_snapshot.h for the contract. */
#include "drivers/qemu/qemu_snapshot.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "drivers/qemu/qemu_driver_priv.h"
#include "drivers/qemu/qemu_firmware.h"
#include "drivers/qemu/qemu_save.h"
#include "drivers/qemu/qemu_tool.h"
#include "objects/log.h"
#include "objects/names.h"
#include "objects/snapshot_def.h"
#include "objects/store.h"

#define SNAPSHOT_JOB_ID "virtfs-snapshot"
#define QEMU_IMG "qemu-img"

/* One image of the snapshot set. */
typedef struct {
  char *target;  /* "vda" */
  char *path;    /* the image */
  char *node;    /* its format node in a running QEMU: "disk<i>-format" */
} SnapTarget;

static void snap_target_free(gpointer p) {
  SnapTarget *t = p;
  g_free(t->target);
  g_free(t->path);
  g_free(t->node);
  g_free(t);
}

static char *records_dir(QemuDriver *d, const char *uuid) {
  return g_build_filename(d->state_dir, "snapshots", uuid, NULL);
}

static char *dom_uuid(Obj *dom) {
  g_mutex_lock(&dom->lock);
  char *uuid = g_strdup(((const DomainDef *)dom->def)->uuid);
  g_mutex_unlock(&dom->lock);
  return uuid;
}

/* ---- qemu-img ---- */

/* qemu-img snapshot -OP NAME on one image (OP: c, a, d). */
static int image_snapshot(const char *op, const char *name, const char *path, char **ret_error) {
  g_autofree char *flag = g_strdup_printf("-%s", op);
  /* qemu-img snapshot has no -f: --image-opts names the format, so a raw
   * image is never probed as something else (commas doubled). */
  g_autoptr(GString) opts = g_string_new("driver=qcow2,file.driver=file,file.filename=");
  for (const char *p = path; *p; p++) {
    g_string_append_c(opts, *p);
    if (*p == ',')
      g_string_append_c(opts, ',');
  }
  const char *argv[] = {QEMU_IMG, "snapshot", "-q", "--image-opts", flag, name, opts->str, NULL};
  return qemu_tool_run(argv, NULL, ret_error);
}

int qemu_img_snapshots_parse(const char *json, size_t len, GPtrArray **ret_snapshots,
                             char **ret_error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) gerr = NULL;
  if (!json_parser_load_from_data(parser, json, (gssize)len, &gerr)) {
    *ret_error = g_strdup_printf("qemu-img info printed no JSON: %s", gerr->message);
    return -EPROTO;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    *ret_error = g_strdup("qemu-img info printed no JSON object");
    return -EPROTO;
  }
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
  JsonObject *o = json_node_get_object(root);
  JsonNode *snaps = json_object_get_member(o, "snapshots");
  if (snaps && JSON_NODE_HOLDS_ARRAY(snaps)) {
    JsonArray *a = json_node_get_array(snaps);
    for (guint i = 0; i < json_array_get_length(a); i++) {
      JsonNode *e = json_array_get_element(a, i);
      if (!JSON_NODE_HOLDS_OBJECT(e))
        continue;
      JsonObject *so = json_node_get_object(e);
      if (!json_object_has_member(so, "name"))
        continue;
      QemuImgSnapshot *s = g_new0(QemuImgSnapshot, 1);
      g_strlcpy(s->name, json_object_get_string_member(so, "name"), sizeof(s->name));
      s->vm_state_size = json_object_has_member(so, "vm-state-size")
                             ? (uint64_t)json_object_get_int_member(so, "vm-state-size") : 0;
      s->date_sec = json_object_has_member(so, "date-sec")
                        ? json_object_get_int_member(so, "date-sec") : 0;
      g_ptr_array_add(list, s);
    }
  }
  *ret_snapshots = g_steal_pointer(&list);
  return 0;
}

/* The internal snapshots of an image (QemuImgSnapshot*), read with -U so a
 * running QEMU's lock does not stop it. */
static int image_snapshots(const char *path, GPtrArray **ret_snapshots, char **ret_error) {
  const char *argv[] = {QEMU_IMG, "info", "-U", "--output=json", "-f", "qcow2", path, NULL};
  g_autofree char *out = NULL;
  int r = qemu_tool_run(argv, &out, ret_error);
  if (r < 0)
    return r;
  return qemu_img_snapshots_parse(out, strlen(out), ret_snapshots, ret_error);
}

/* ---- the snapshot set ---- */

static int disk_path(QemuDriver *d, const DomainDisk *disk, char **ret_path, char **ret_error) {
  if (disk->type != DISK_TYPE_VOLUME) {
    *ret_path = g_strdup(disk->source);
    return 0;
  }
  if (!d->hooks.resolve_volume) {
    *ret_error = g_strdup("storage volumes are not available in this daemon");
    return -EOPNOTSUPP;
  }
  bool is_block = false;
  return d->hooks.resolve_volume(d->hooks.user_data, disk->source_pool, disk->source_volume,
                                 ret_path, &is_block, ret_error);
}

/* The name another domain than `uuid` has for an image at `path` (or the
 * same volume), or NULL. */
static char *image_user(QemuDriver *d, const char *uuid, const DomainDisk *disk,
                        const char *path) {
  g_autoptr(GPtrArray) list = registry_list(d->registry, OBJ_DOMAIN, NULL);
  for (guint i = 0; i < list->len; i++) {
    Obj *o = list->pdata[i];
    g_mutex_lock(&o->lock);
    const DomainDef *def = o->def;
    bool used = false;
    if (strcmp(def->uuid, uuid) != 0)
      for (guint j = 0; j < def->disks->len && !used; j++) {
        const DomainDisk *other = def->disks->pdata[j];
        if (disk->type == DISK_TYPE_VOLUME && other->type == DISK_TYPE_VOLUME)
          used = g_strcmp0(other->source_pool, disk->source_pool) == 0 &&
                 g_strcmp0(other->source_volume, disk->source_volume) == 0;
        else if (other->type != DISK_TYPE_VOLUME)
          used = g_strcmp0(other->source, path) == 0;
      }
    char *name = used ? g_strdup(o->name) : NULL;
    g_mutex_unlock(&o->lock);
    if (name)
      return name;
  }
  return NULL;
}

/* The images of the snapshot set of `def` (SnapTarget*), and the targets
 * left out on purpose (CD-ROMs, empty floppy drives, snapshot='no'). With `strict`, a disk that
 * cannot be part of an internal snapshot fails the whole set with
 * -EOPNOTSUPP naming it; without, it is skipped (listing images). */
static int snapshot_targets(QemuDriver *d, const DomainDef *def, bool strict,
                            GPtrArray **ret_targets, GPtrArray **ret_excluded,
                            char **ret_error) {
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(snap_target_free);
  g_autoptr(GPtrArray) excluded = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < def->disks->len; i++) {
    const DomainDisk *disk = def->disks->pdata[i];
    bool empty_floppy = disk->device == DISK_DEVICE_FLOPPY && disk->type != DISK_TYPE_VOLUME &&
                        !disk->source;
    if (disk->device == DISK_DEVICE_CDROM || empty_floppy || disk->snapshot_excluded) {
      g_ptr_array_add(excluded, g_strdup(disk->target_dev));
      continue;
    }
    const char *why = NULL;
    if (disk->format != DISK_FORMAT_QCOW2)
      why = "is raw, and only qcow2 images hold internal snapshots: convert it (qemu-img "
            "convert -O qcow2) and point the disk at the copy";
    else if (disk->readonly)
      why = "is read-only, so its image cannot take a snapshot";
    else if (disk->shareable)
      why = "is shareable: another VM may write it, so a snapshot of it would not be "
            "consistent";
    g_autofree char *path = NULL;
    g_autofree char *user = NULL;
    if (!why) {
      g_autofree char *error = NULL;
      int r = disk_path(d, disk, &path, &error);
      if (r < 0) {
        if (!strict)
          continue;
        *ret_error = g_strdup_printf("disk %s: %s", disk->target_dev, error);
        return r;
      }
      if ((user = image_user(d, def->uuid, disk, path)))
        why = "uses an image that another domain uses too";
    }
    if (why) {
      if (!strict)
        continue;
      *ret_error = g_strdup_printf("disk %s (%s) %s%s%s%s; or leave it out of snapshots "
                                   "with <disk snapshot='no'> in the definition",
                                   disk->target_dev,
                                   disk->type == DISK_TYPE_VOLUME ? disk->source_volume
                                                                  : disk->source,
                                   why, user ? " (domain " : "", user ? user : "",
                                   user ? ")" : "");
      return -EOPNOTSUPP;
    }
    SnapTarget *t = g_new0(SnapTarget, 1);
    t->target = g_strdup(disk->target_dev);
    t->path = g_steal_pointer(&path);
    t->node = g_strdup_printf("disk%u-format", i);
    g_ptr_array_add(targets, t);
  }
  if (strict && targets->len == 0) {
    *ret_error = g_strdup("the domain has no qcow2 disk to hold a snapshot (CD-ROMs and disks "
                          "with snapshot='no' are left out)");
    return -EOPNOTSUPP;
  }
  /* A UEFI guest's NVRAM is a qcow2 pflash: it belongs to the set, so a
   * revert brings back the variables of that moment. */
  if (qemu_firmware_wanted(def)) {
    g_autofree char *path = NULL, *format = NULL;
    qemu_firmware_nvram(def, d->state_dir, &path, &format);
    if (strcmp(format, "qcow2") != 0) {
      if (strict && g_str_has_prefix(path, d->state_dir)) {
        *ret_error = g_strdup_printf("the UEFI variables (NVRAM %s) were kept raw by an "
                                     "earlier virtfs: start the domain once and virtfs "
                                     "converts them to qcow2, which snapshots include", path);
        return -EOPNOTSUPP;
      }
      if (strict) {
        *ret_error = g_strdup_printf(
            "the UEFI variables (NVRAM %s) are %s, and only qcow2 holds snapshots: convert "
            "it (qemu-img convert -O qcow2) and name the copy in <nvram format='qcow2'>, or "
            "leave <nvram> out so that virtfs keeps a qcow2 one",
            path, format);
        return -EOPNOTSUPP;
      }
    } else if (g_file_test(path, G_FILE_TEST_EXISTS)) { /* none before the first start */
      SnapTarget *t = g_new0(SnapTarget, 1);
      t->target = g_strdup("nvram");
      t->path = g_steal_pointer(&path);
      t->node = g_strdup("pflash1-format");
      g_ptr_array_add(targets, t);
    }
  }
  *ret_targets = g_steal_pointer(&targets);
  if (ret_excluded)
    *ret_excluded = g_steal_pointer(&excluded);
  return 0;
}

static const SnapTarget *find_target(GPtrArray *targets, const char *target) {
  for (guint i = 0; i < targets->len; i++) {
    const SnapTarget *t = targets->pdata[i];
    if (strcmp(t->target, target) == 0)
      return t;
  }
  return NULL;
}

/* The images of `def` that hold snapshot `snap` (SnapTarget*). */
static int snapshot_images(QemuDriver *d, const DomainDef *def, const SnapshotDef *snap,
                           GPtrArray **ret_images, char **ret_error) {
  g_autoptr(GPtrArray) targets = NULL;
  int r = snapshot_targets(d, def, false, &targets, NULL, ret_error);
  if (r < 0)
    return r;
  GPtrArray *images = g_ptr_array_new_with_free_func(snap_target_free);
  for (guint i = 0; i < snap->disks->len; i++) {
    const SnapshotDisk *sd = snap->disks->pdata[i];
    for (guint j = 0; sd->included && j < targets->len; j++)
      if (strcmp(((SnapTarget *)targets->pdata[j])->target, sd->target) == 0)
        g_ptr_array_add(images, g_ptr_array_steal_index(targets, j--));
  }
  *ret_images = images;
  return 0;
}

/* The format nodes of the snapshot's disks among `targets`, NULL-ended. */
static GPtrArray *nodes_of(const SnapshotDef *snap, GPtrArray *targets) {
  GPtrArray *nodes = g_ptr_array_new();
  for (guint i = 0; i < snap->disks->len; i++) {
    const SnapshotDisk *sd = snap->disks->pdata[i];
    const SnapTarget *t = sd->included ? find_target(targets, sd->target) : NULL;
    if (t)
      g_ptr_array_add(nodes, t->node);
  }
  g_ptr_array_add(nodes, NULL);
  return nodes;
}

/* ---- records ---- */

static int write_record(QemuDriver *d, const char *uuid, const SnapshotDef *def,
                        char **ret_error) {
  g_autofree char *dir = records_dir(d, uuid);
  if (g_mkdir_with_parents(dir, 0700) < 0) {
    *ret_error = g_strdup_printf("cannot create %s: %s", dir, g_strerror(errno));
    return -errno;
  }
  g_autofree char *xml = snapshot_def_format(def);
  g_autofree char *file = g_strdup_printf("%s.xml", def->name);
  return store_write_file_atomic(dir, file, xml, ret_error);
}

static void remove_record(QemuDriver *d, const char *uuid, const char *name) {
  g_autofree char *dir = records_dir(d, uuid);
  g_autofree char *file = g_strdup_printf("%s/%s.xml", dir, name);
  g_unlink(file);
}

static void set_current(QemuDriver *d, const char *uuid, const char *name) {
  g_autofree char *dir = records_dir(d, uuid);
  g_autofree char *error = NULL;
  if (!name) {
    g_autofree char *file = g_build_filename(dir, "current", NULL);
    g_unlink(file);
    return;
  }
  g_mkdir_with_parents(dir, 0700);
  g_autofree char *text = g_strdup_printf("%s\n", name);
  if (store_write_file_atomic(dir, "current", text, &error) < 0)
    log_warning("cannot record the current snapshot: %s", error);
}

static char *read_current(QemuDriver *d, const char *uuid) {
  g_autofree char *dir = records_dir(d, uuid);
  g_autofree char *file = g_build_filename(dir, "current", NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(file, &text, NULL, NULL))
    return NULL;
  g_strstrip(text);
  return *text ? g_steal_pointer(&text) : NULL;
}

char *qemu_snapshot_current(QemuDriver *d, Obj *dom) {
  g_autofree char *uuid = dom_uuid(dom);
  g_autofree char *name = read_current(d, uuid);
  if (!name)
    return NULL;
  g_autoptr(Obj) snap = registry_lookup(d->registry, OBJ_SNAPSHOT, dom, name);
  return snap ? g_steal_pointer(&name) : NULL;
}

/* ---- loading and rebuilding ---- */

static gint by_created(gconstpointer a, gconstpointer b) {
  const SnapshotDef *x = *(SnapshotDef *const *)a, *y = *(SnapshotDef *const *)b;
  return x->created < y->created ? -1 : x->created > y->created;
}

static int load_domain(QemuDriver *d, Obj *dom) {
  g_mutex_lock(&dom->lock);
  g_autoptr(DomainDef) def = domain_def_copy(dom->def);
  g_autofree char *def_xml = g_strdup(dom->def_xml);
  g_mutex_unlock(&dom->lock);
  g_autofree char *dir = records_dir(d, def->uuid);
  g_autoptr(GHashTable) defs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                     (GDestroyNotify)snapshot_def_free);
  g_autoptr(GDir) gd = g_dir_open(dir, 0, NULL);
  const char *entry;
  while (gd && (entry = g_dir_read_name(gd))) {
    if (!g_str_has_suffix(entry, ".xml") || entry[0] == '.')
      continue;
    g_autofree char *path = g_build_filename(dir, entry, NULL);
    g_autofree char *xml = NULL;
    gsize len = 0;
    g_autofree char *error = NULL;
    SnapshotDef *s = NULL;
    if (!g_file_get_contents(path, &xml, &len, NULL) ||
        snapshot_def_parse(xml, len, &s, &error) < 0) {
      log_error("domain '%s': snapshot record %s is unreadable (left in place): %s",
                def->name, path, error ? error : "cannot read it");
      continue;
    }
    g_hash_table_insert(defs, s->name, s);
  }
  /* What the images hold that no record describes: rebuild it. */
  g_autoptr(GPtrArray) targets = NULL;
  g_autofree char *error = NULL;
  g_autoptr(GPtrArray) rebuilt = g_ptr_array_new();
  if (snapshot_targets(d, def, false, &targets, NULL, &error) == 0) {
    for (guint i = 0; i < targets->len; i++) {
      const SnapTarget *t = targets->pdata[i];
      g_autoptr(GPtrArray) snaps = NULL;
      g_clear_pointer(&error, g_free);
      if (image_snapshots(t->path, &snaps, &error) < 0) {
        log_warning("domain '%s': cannot list the snapshots of %s: %s", def->name, t->path,
                    error);
        continue;
      }
      for (guint j = 0; j < snaps->len; j++) {
        const QemuImgSnapshot *is = snaps->pdata[j];
        SnapshotDef *s = g_hash_table_lookup(defs, is->name);
        if (s && !s->rebuilt)
          continue;
        if (!object_name_is_valid(is->name)) {
          log_warning("domain '%s': image %s has a snapshot '%s' whose name virtfs cannot "
                      "show (left alone)", def->name, t->path, is->name);
          continue;
        }
        if (!s) {
          s = snapshot_def_new(is->name);
          s->rebuilt = true;
          s->created = is->date_sec;
          s->domain_xml = g_strdup(def_xml);
          s->state = SNAPSHOT_STATE_SHUTOFF;
          g_hash_table_insert(defs, s->name, s);
          g_ptr_array_add(rebuilt, s);
        }
        snapshot_def_add_disk(s, t->target, true);
        if (is->vm_state_size > 0) {
          s->memory = true;
          s->memory_size = is->vm_state_size;
          s->state = SNAPSHOT_STATE_RUNNING;
        }
      }
    }
  }
  if (rebuilt->len) {
    /* Parents: the tree is lost with the records; the best guess is a
     * chain in the order the snapshots were taken. */
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    GHashTableIter vi;
    gpointer v;
    g_hash_table_iter_init(&vi, defs);
    while (g_hash_table_iter_next(&vi, NULL, &v))
      g_ptr_array_add(all, v);
    g_ptr_array_sort(all, by_created);
    for (guint i = 0; i < rebuilt->len; i++) {
      SnapshotDef *s = rebuilt->pdata[i];
      for (guint j = 0; j < all->len; j++) {
        SnapshotDef *o = all->pdata[j];
        if (o != s && o->created <= s->created)
          g_free(s->parent), s->parent = g_strdup(o->name);
      }
      g_clear_pointer(&error, g_free);
      if (write_record(d, def->uuid, s, &error) < 0)
        log_warning("domain '%s': %s", def->name, error);
      log_info("domain '%s': snapshot '%s' rebuilt from its images", def->name, s->name);
    }
  }
  GHashTableIter it;
  gpointer value;
  int n = 0;
  g_hash_table_iter_init(&it, defs);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    SnapshotDef *s = snapshot_def_copy(value);
    g_clear_pointer(&error, g_free);
    if (registry_define(d->registry, OBJ_SNAPSHOT, dom, (void **)&s, NULL, &error) < 0)
      log_warning("domain '%s': snapshot: %s", def->name, error);
    else
      n++;
    snapshot_def_free(s);
  }
  return n;
}

int qemu_snapshot_load_all(QemuDriver *d) {
  g_autoptr(GPtrArray) list = registry_list(d->registry, OBJ_DOMAIN, NULL);
  int n = 0;
  for (guint i = 0; i < list->len; i++)
    n += load_domain(d, list->pdata[i]);
  return n;
}

/* ---- taking ---- */

/* Refuses what a snapshot, revert or delete cannot act on now. */
static int check_domain_state(QemuDriver *d, Obj *dom, DomainState *ret_state,
                              char **ret_error) {
  DomainState s = qemu_domain_get_state(d, dom, NULL);
  if (s == DOMAIN_STATE_CRASHED) {
    *ret_error = g_strdup("the domain crashed: destroy it first (echo destroy > ctl)");
    return -EBUSY;
  }
  if (s == DOMAIN_STATE_SAVED) {
    *ret_error = g_strdup("the domain is saved: its disks belong to the saved memory; start "
                          "it, or discard the saved state (echo discard-saved > ctl)");
    return -EBUSY;
  }
  if (s == DOMAIN_STATE_INCOMING) {
    /* Its disks are the source's until the guest arrived. */
    *ret_error = g_strdup("the domain waits for a migration: its disks are in use on the "
                          "source host");
    return -EBUSY;
  }
  *ret_state = s;
  return 0;
}

static DomainDef *copy_def(Obj *dom) {
  g_mutex_lock(&dom->lock);
  DomainDef *def = domain_def_copy(dom->def);
  g_mutex_unlock(&dom->lock);
  return def;
}

static SnapshotDef *copy_snapshot(Obj *snap_obj) {
  g_mutex_lock(&snap_obj->lock);
  SnapshotDef *snap = snapshot_def_copy(snap_obj->def);
  g_mutex_unlock(&snap_obj->lock);
  return snap;
}

/* The runtime of an active dom and the snapshot set of what it runs. */
static int active_targets(QemuDriver *d, Obj *dom, QemuDomain **ret_qd, GPtrArray **ret_targets,
                          char **ret_error) {
  g_autoptr(QemuDomain) qd = NULL;
  int r = qemu_get_active(dom, &qd, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&dom->lock);
  g_autoptr(DomainDef) live = domain_def_copy(qd->live_def);
  g_mutex_unlock(&dom->lock);
  if ((r = snapshot_targets(d, live, false, ret_targets, NULL, ret_error)) < 0)
    return r;
  *ret_qd = g_steal_pointer(&qd);
  return 0;
}

static SnapshotState snapshot_state_of(DomainState s) {
  return s == DOMAIN_STATE_RUNNING ? SNAPSHOT_STATE_RUNNING
         : s == DOMAIN_STATE_PAUSED ? SNAPSHOT_STATE_PAUSED
                                    : SNAPSHOT_STATE_SHUTOFF;
}

static int take(QemuDriver *d, Obj *dom, const char *name, SnapshotDef **ret_snap,
                char **ret_error) {
  DomainState state;
  int r = check_domain_state(d, dom, &state, ret_error);
  if (r < 0)
    return r;
  g_autoptr(QemuDomain) qd = NULL;
  g_autoptr(DomainDef) def = NULL;
  bool active = state == DOMAIN_STATE_RUNNING || state == DOMAIN_STATE_PAUSED;
  if (active) {
    if ((r = qemu_get_active(dom, &qd, ret_error)) < 0)
      return r;
    g_mutex_lock(&dom->lock);
    def = domain_def_copy(qd->live_def);
    g_mutex_unlock(&dom->lock);
  } else {
    def = copy_def(dom);
  }
  g_autoptr(GPtrArray) targets = NULL, excluded = NULL;
  if ((r = snapshot_targets(d, def, true, &targets, &excluded, ret_error)) < 0)
    return r;
  g_autoptr(SnapshotDef) snap = snapshot_def_new(name);
  snap->created = g_get_real_time() / G_USEC_PER_SEC;
  snap->state = snapshot_state_of(state);
  snap->memory = active;
  snap->domain_xml = domain_def_format(def, false, -1);
  snap->parent = qemu_snapshot_current(d, dom);
  for (guint i = 0; i < targets->len; i++)
    snapshot_def_add_disk(snap, ((SnapTarget *)targets->pdata[i])->target, true);
  for (guint i = 0; i < excluded->len; i++)
    snapshot_def_add_disk(snap, excluded->pdata[i], false);
  if (active) {
    g_autoptr(GPtrArray) nodes = nodes_of(snap, targets);
    JsonNode *args = NULL;
    qmp_args_snapshot_job(SNAPSHOT_JOB_ID, name, nodes->pdata[0],
                          (const char *const *)nodes->pdata, &args);
    if ((r = qemu_job_run_qmp(qd, "snapshot-save", args, SNAPSHOT_JOB_ID, ret_error)) < 0)
      return r;
    g_autoptr(GPtrArray) snaps = NULL;
    g_autofree char *error = NULL;
    const SnapTarget *first = targets->pdata[0];
    if (image_snapshots(first->path, &snaps, &error) == 0)
      for (guint i = 0; i < snaps->len; i++) {
        const QemuImgSnapshot *is = snaps->pdata[i];
        if (strcmp(is->name, name) == 0)
          snap->memory_size = is->vm_state_size;
      }
  } else {
    for (guint i = 0; i < targets->len; i++) {
      const SnapTarget *t = targets->pdata[i];
      if ((r = image_snapshot("c", name, t->path, ret_error)) < 0) {
        /* All or nothing: take back what the other images got. */
        for (guint j = 0; j < i; j++) {
          g_autofree char *e = NULL;
          image_snapshot("d", name, ((SnapTarget *)targets->pdata[j])->path, &e);
        }
        return r;
      }
    }
  }
  *ret_snap = g_steal_pointer(&snap);
  return 0;
}

int qemu_snapshot_create(QemuDriver *d, Obj *dom, const char *name, char **ret_error) {
  g_autoptr(Obj) existing = registry_lookup(d->registry, OBJ_SNAPSHOT, dom, name);
  if (existing) {
    *ret_error = g_strdup_printf("snapshot '%s' exists", name);
    return -EEXIST;
  }
  g_autofree char *uuid = dom_uuid(dom);
  int r = qemu_job_begin(d, uuid, "snapshot", ret_error);
  if (r < 0)
    return r;
  g_autoptr(SnapshotDef) snap = NULL;
  int64_t t0 = g_get_monotonic_time();
  r = take(d, dom, name, &snap, ret_error);
  if (r == 0 && (r = write_record(d, uuid, snap, ret_error)) == 0) {
    bool memory = snap->memory;
    Obj *obj = NULL;
    r = registry_define(d->registry, OBJ_SNAPSHOT, dom, (void **)&snap, &obj, ret_error);
    if (r == 0) {
      set_current(d, uuid, name);
      g_autofree char *detail = g_strdup_printf(
          "%s %" G_GINT64_FORMAT "ms", memory ? "memory" : "disk-only",
          (g_get_monotonic_time() - t0) / 1000);
      registry_emit(d->registry, obj, "created", detail);
      obj_unref(obj);
    }
  }
  qemu_job_end(d, uuid);
  return r;
}

/* ---- reverting ---- */

static bool same_definition(QemuDomain *qd, const char *xml) {
  g_mutex_lock(&qd->obj->lock);
  g_autofree char *live = domain_def_format(qd->live_def, false, -1);
  g_mutex_unlock(&qd->obj->lock);
  return g_strcmp0(live, xml) == 0;
}

/* Loads the snapshot's memory and disks into the running QEMU of dom. */
static int load_memory(QemuDriver *d, Obj *dom, const SnapshotDef *snap, char **ret_error) {
  g_autoptr(QemuDomain) qd = NULL;
  g_autoptr(GPtrArray) targets = NULL;
  int r = active_targets(d, dom, &qd, &targets, ret_error);
  if (r < 0)
    return r;
  g_autoptr(GPtrArray) nodes = nodes_of(snap, targets);
  if (nodes->len < 2) {
    *ret_error = g_strdup("none of the snapshot's disks is in the domain any more");
    return -ENOENT;
  }
  JsonNode *args = NULL;
  qmp_args_snapshot_job(SNAPSHOT_JOB_ID, snap->name, nodes->pdata[0],
                        (const char *const *)nodes->pdata, &args);
  return qemu_job_run_qmp(qd, "snapshot-load", args, SNAPSHOT_JOB_ID, ret_error);
}

static int revert(QemuDriver *d, Obj *dom, const SnapshotDef *snap, char **ret_error) {
  DomainState state;
  int r = check_domain_state(d, dom, &state, ret_error);
  if (r < 0)
    return r;
  if (!snap->domain_xml) {
    *ret_error = g_strdup("the snapshot has no definition");
    return -EINVAL;
  }
  g_autoptr(DomainDef) def = NULL;
  g_autofree char *error = NULL;
  if ((r = domain_def_parse(snap->domain_xml, strlen(snap->domain_xml), &def, &error)) < 0) {
    *ret_error = g_strdup_printf("the snapshot's definition does not parse any more: %s", error);
    return r;
  }
  g_autoptr(DomainDef) current = copy_def(dom);
  /* The domain may have been renamed since: the name is not part of what
   * goes back. */
  g_free(def->name);
  def->name = g_strdup(current->name);
  bool active = qemu_domain_is_active(dom);
  bool in_place = false;
  if (active && snap->memory) {
    g_autoptr(QemuDomain) qd = NULL;
    if (qemu_get_active(dom, &qd, ret_error) == 0)
      in_place = same_definition(qd, snap->domain_xml);
    g_clear_pointer(ret_error, g_free);
  }
  if (active && !in_place && (r = qemu_domain_destroy(d, dom, ret_error)) < 0)
    return r;
  if (!in_place) {
    DomainDef *update = domain_def_copy(def);
    if ((r = registry_update(d->registry, dom, (void **)&update, ret_error)) < 0) {
      domain_def_free(update);
      return r;
    }
  }
  if (!snap->memory) {
    g_autoptr(GPtrArray) images = NULL;
    if ((r = snapshot_images(d, def, snap, &images, ret_error)) < 0)
      return r;
    for (guint i = 0; i < images->len; i++)
      if ((r = image_snapshot("a", snap->name, ((SnapTarget *)images->pdata[i])->path,
                              ret_error)) < 0)
        return r;
    return 0;
  }
  if (!in_place && (r = qemu_domain_start(d, dom, true, ret_error)) < 0)
    return r;
  if ((r = load_memory(d, dom, snap, ret_error)) < 0)
    return r;
  DomainState now = qemu_domain_get_state(d, dom, NULL);
  if (snap->state == SNAPSHOT_STATE_RUNNING && now != DOMAIN_STATE_RUNNING)
    return qemu_domain_resume(d, dom, ret_error);
  if (snap->state == SNAPSHOT_STATE_PAUSED && now == DOMAIN_STATE_RUNNING)
    return qemu_domain_suspend(d, dom, ret_error);
  return 0;
}

int qemu_snapshot_revert(QemuDriver *d, Obj *snap_obj, char **ret_error) {
  Obj *dom = snap_obj->parent;
  g_autoptr(SnapshotDef) snap = copy_snapshot(snap_obj);
  g_autofree char *uuid = dom_uuid(dom);
  int r = qemu_job_begin(d, uuid, "revert", ret_error);
  if (r < 0)
    return r;
  int64_t t0 = g_get_monotonic_time();
  r = revert(d, dom, snap, ret_error);
  qemu_job_end(d, uuid);
  if (r == 0) {
    set_current(d, uuid, snap->name);
    g_autofree char *detail = g_strdup_printf("%" G_GINT64_FORMAT "ms",
                                              (g_get_monotonic_time() - t0) / 1000);
    registry_emit(d->registry, snap_obj, "reverted", detail);
  }
  return r;
}

/* ---- deleting ---- */

static int delete_from_images(QemuDriver *d, Obj *dom, const SnapshotDef *snap,
                              char **ret_error) {
  int r;
  if (qemu_domain_is_active(dom)) {
    g_autoptr(QemuDomain) qd = NULL;
    g_autoptr(GPtrArray) targets = NULL;
    if ((r = active_targets(d, dom, &qd, &targets, ret_error)) < 0)
      return r;
    g_autoptr(GPtrArray) nodes = nodes_of(snap, targets);
    if (nodes->len < 2)
      return 0;
    JsonNode *args = NULL;
    qmp_args_snapshot_job(SNAPSHOT_JOB_ID, snap->name, NULL, (const char *const *)nodes->pdata,
                          &args);
    return qemu_job_run_qmp(qd, "snapshot-delete", args, SNAPSHOT_JOB_ID, ret_error);
  }
  g_autoptr(DomainDef) def = copy_def(dom);
  g_autoptr(GPtrArray) images = NULL;
  if ((r = snapshot_images(d, def, snap, &images, ret_error)) < 0)
    return r;
  for (guint i = 0; i < images->len; i++) {
    const SnapTarget *t = images->pdata[i];
    g_autoptr(GPtrArray) present = NULL;
    g_autofree char *e = NULL;
    bool has = false;
    if (image_snapshots(t->path, &present, &e) == 0)
      for (guint j = 0; j < present->len; j++)
        has = has || strcmp(((QemuImgSnapshot *)present->pdata[j])->name, snap->name) == 0;
    if (has && (r = image_snapshot("d", snap->name, t->path, ret_error)) < 0)
      return r;
  }
  return 0;
}

int qemu_snapshot_delete(QemuDriver *d, Obj *snap_obj, char **ret_error) {
  Obj *dom = snap_obj->parent;
  g_autoptr(SnapshotDef) snap = copy_snapshot(snap_obj);
  g_autofree char *uuid = dom_uuid(dom);
  DomainState state;
  int r = check_domain_state(d, dom, &state, ret_error);
  if (r < 0 || (r = qemu_job_begin(d, uuid, "snapshot-delete", ret_error)) < 0)
    return r;
  r = delete_from_images(d, dom, snap, ret_error);
  if (r == 0) {
    /* The children now hang from the deleted one's parent: internal
     * snapshots are whole on their own, only the tree changes. */
    g_autoptr(GPtrArray) all = registry_list(d->registry, OBJ_SNAPSHOT, dom);
    for (guint i = 0; i < all->len; i++) {
      Obj *child = all->pdata[i];
      g_mutex_lock(&child->lock);
      bool is_child = g_strcmp0(((SnapshotDef *)child->def)->parent, snap->name) == 0;
      SnapshotDef *cd = is_child ? snapshot_def_copy(child->def) : NULL;
      g_mutex_unlock(&child->lock);
      if (!cd)
        continue;
      g_free(cd->parent);
      cd->parent = g_strdup(snap->parent);
      g_autofree char *e = NULL;
      if (write_record(d, uuid, cd, &e) < 0 ||
          registry_update(d->registry, child, (void **)&cd, &e) < 0)
        log_warning("snapshot '%s': cannot take its new parent: %s", child->name, e);
      snapshot_def_free(cd);
    }
    g_autofree char *current = read_current(d, uuid);
    if (g_strcmp0(current, snap->name) == 0)
      set_current(d, uuid, snap->parent);
    remove_record(d, uuid, snap->name);
    r = registry_undefine(d->registry, snap_obj, ret_error);
  }
  qemu_job_end(d, uuid);
  return r;
}
