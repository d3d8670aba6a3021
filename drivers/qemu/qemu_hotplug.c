/* qemu_hotplug.c — disks plugged into and out of a running domain over QMP
 * (blockdev-add + device_add; device_del, wait until the device is gone,
 * blockdev-del), and CD-ROM media (blockdev-change-medium, eject). The
 * arguments come from qemu_hotplug_args.c.
 *
 * QEMU ids. Disks present at start are disk<i> (qemu_argv.h), i their
 * index in the definition QEMU was started with; hot-plugged ones are
 * dev-TARGET. Since hot plug reorders the live definition, the id of each
 * target is kept in RUN/domains/UUID/devices ("TARGET ID" lines), written
 * on the first hot plug from the start-time order and after every change,
 * so a restarted daemon finds the ids again.
 *
 * Every operation changes QEMU first, then the live definition; a failure
 * part way undoes what QEMU had already done. Operations of one driver are
 * serialized (hotplug_lock) so two plugs never pick the same PCI slot. */
#include "drivers/qemu/qemu_driver_priv.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "drivers/qemu/qemu_hotplug_args.h"
#include "objects/domain_device.h"
#include "objects/fault.h"
#include "objects/log.h"

/* How long the guest has to let go of an unplugged device. */
#define QEMU_UNPLUG_TIMEOUT_MS 10000
#define QEMU_UNPLUG_POLL_MS 100

static char *ids_path(QemuDomain *dom) {
  return g_build_filename(dom->dir, "devices", NULL);
}

/* The key of an interface in the ids table. */
static char *mac_key(const char *mac) {
  return g_ascii_strdown(mac, -1);
}

/* TARGET -> QEMU id of every disk, MAC -> "DEVICE NETDEV" of every
 * interface of the running domain. */
static GHashTable *load_ids(QemuDomain *dom) {
  GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *path = ids_path(dom);
  g_autofree char *text = NULL;
  if (g_file_get_contents(path, &text, NULL, NULL)) {
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
      g_auto(GStrv) w = g_strsplit(lines[i], " ", 2);
      if (w[0] && w[1] && *w[0] && *w[1])
        g_hash_table_insert(ids, g_strdup(w[0]), g_strdup(w[1]));
    }
    return ids;
  }
  /* No hot plug yet since start: the live definition is in start order. */
  g_mutex_lock(&dom->obj->lock);
  for (guint i = 0; i < dom->live_def->disks->len; i++) {
    const DomainDisk *d = dom->live_def->disks->pdata[i];
    g_hash_table_insert(ids, g_strdup(d->target_dev), g_strdup_printf("disk%u", i));
  }
  for (guint i = 0; i < dom->live_def->interfaces->len; i++) {
    const DomainInterface *n = dom->live_def->interfaces->pdata[i];
    g_hash_table_insert(ids, mac_key(n->mac), g_strdup_printf("nic%u net%u", i, i));
  }
  g_mutex_unlock(&dom->obj->lock);
  return ids;
}

static void save_ids(QemuDomain *dom, GHashTable *ids) {
  GString *out = g_string_new(NULL);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, ids);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_string_append_printf(out, "%s %s\n", (char *)k, (char *)v);
  g_autofree char *path = ids_path(dom);
  g_autoptr(GError) err = NULL;
  if (!g_file_set_contents(path, out->str, (gssize)out->len, &err))
    log_warning("cannot save the device ids of a running domain: %s", err->message);
  g_string_free(out, TRUE);
}

/* ---- the journal: one operation in flight ----
 *
 * RUN/domains/UUID/hotplug holds "plug|unplug disk|nic KEY ID" (KEY: the
 * target or MAC) from before the first command that changes QEMU until
 * the definition has the outcome (qemu_domain_hotplug_commit), or the
 * operation failed and undid itself. A daemon killed in between finds it
 * at reattach (qemu_hotplug_recover). */

static char *journal_path(QemuDomain *dom) {
  return g_build_filename(dom->dir, "hotplug", NULL);
}

static void journal_write(QemuDomain *dom, const char *op, const char *kind, const char *key,
                          const char *id) {
  g_autofree char *path = journal_path(dom);
  g_autofree char *line = g_strdup_printf("%s %s %s %s\n", op, kind, key, id);
  g_autoptr(GError) err = NULL;
  if (!g_file_set_contents(path, line, -1, &err))
    log_warning("cannot write the hot plug journal: %s", err->message);
}

static void journal_clear(QemuDomain *dom) {
  g_autofree char *path = journal_path(dom);
  g_unlink(path);
}

static int disk_path(QemuDriver *d, const DomainDisk *disk, char **ret_path, bool *ret_block,
                     char **ret_error) {
  if (disk->type != DISK_TYPE_VOLUME) {
    *ret_path = g_strdup(disk->source);
    *ret_block = disk->type == DISK_TYPE_BLOCK;
    return 0;
  }
  if (!disk->source_pool || !disk->source_volume) {
    *ret_path = NULL;
    *ret_block = false;
    return 0;
  }
  if (!d->hooks.resolve_volume) {
    *ret_error = g_strdup("volume disks are not supported by this daemon");
    return -EOPNOTSUPP;
  }
  return d->hooks.resolve_volume(d->hooks.user_data, disk->source_pool, disk->source_volume,
                                 ret_path, ret_block, ret_error);
}

/* Best effort: QEMU drops the nodes; errors are logged only. A device that
 * just left the QOM tree may still hold its drive until QEMU finalizes it,
 * so "in use" is retried for a moment. */
static void del_nodes_quiet(QemuDomain *dom, const char *id, bool quiet);
static int device_present(QemuDomain *dom, const char *id);
static int unplug_device(QemuDomain *dom, const char *id, const char *what, char **ret_error);

static void del_nodes(QemuDomain *dom, const char *id) {
  del_nodes_quiet(dom, id, false);
}

static void del_nodes_quiet(QemuDomain *dom, const char *id, bool quiet) {
  static const char *const suffixes[] = {"format", "file"};
  for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
    g_autofree char *node = g_strdup_printf("%s-%s", id, suffixes[i]);
    for (int attempt = 0;; attempt++) {
      g_autofree char *error = NULL;
      if (qemu_qmp_sync(dom, "blockdev-del", qemu_hotplug_blockdev_del_args(node), NULL,
                        &error) >= 0)
        break;
      if (!error || !strstr(error, "in use") || attempt >= 50) {
        if (!quiet)
          log_warning("blockdev-del %s: %s", node, error);
        break;
      }
      g_usleep(QEMU_UNPLUG_POLL_MS * 1000);
    }
  }
}

/* dev: the DomainDisk or DomainInterface to plug or change; key: the
 * target or MAC of the one to unplug. */
typedef int (*HotplugOp)(QemuDriver *d, QemuDomain *dom, void *dev, const char *key,
                         char **ret_error);

/* Runs op on the active runtime of obj, one operation of the driver at a
 * time. */
static int run_op(QemuDriver *d, Obj *obj, void *dev, const char *key, HotplugOp op,
                  char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&d->hotplug_lock);
  r = op(d, dom, dev, key, ret_error);
  if (r < 0)
    journal_clear(dom); /* the operation undid what it had done */
  g_mutex_unlock(&d->hotplug_lock);
  return r;
}

void qemu_domain_hotplug_commit(QemuDriver *d, Obj *obj) {
  g_autoptr(QemuDomain) dom = NULL;
  if (qemu_get_active(obj, &dom, NULL) < 0)
    return;
  g_mutex_lock(&d->hotplug_lock);
  journal_clear(dom);
  g_mutex_unlock(&d->hotplug_lock);
}

/* The lowest free slot of PCI bus 0, asked from QEMU (query-pci). */
static int pick_slot(QemuDomain *dom, int *ret_slot, char **ret_error) {
  JsonNode *value = NULL;
  guint32 used = 0;
  int r = qemu_qmp_sync(dom, "query-pci", NULL, &value, ret_error);
  if (r < 0)
    return r;
  r = qemu_hotplug_parse_pci_slots(value, &used);
  json_node_unref(value);
  int slot = r < 0 ? r : qemu_hotplug_pick_slot(used);
  if (slot < 0) {
    *ret_error = g_strdup(r < 0 ? "QEMU's answer to query-pci was not understood"
                                : "no PCI slot is left on bus 0 for hot plug");
    return r < 0 ? -EIO : -ENOSPC;
  }
  *ret_slot = slot;
  return 0;
}

/* Where a PCI device without an <address> goes: on pc, the lowest free
 * slot of bus 0; on q35 (whose root bus takes no hot plug), slot 0 behind
 * the first pcie-root-port of the definition that has nothing behind it. */
static int place_pci(QemuDomain *dom, DeviceAddress *ret_where, char **ret_error) {
  g_autoptr(GArray) ports = g_array_new(FALSE, FALSE, sizeof(unsigned));
  g_mutex_lock(&dom->obj->lock);
  const DomainDef *def = dom->live_def;
  bool q35 = def->os.machine && strstr(def->os.machine, "q35");
  for (guint i = 0; q35 && i < def->controllers->len; i++) {
    const DomainController *c = def->controllers->pdata[i];
    if (c->type == CONTROLLER_PCI && g_strcmp0(c->model, "pcie-root-port") == 0)
      g_array_append_val(ports, c->index);
  }
  g_mutex_unlock(&dom->obj->lock);
  if (!q35) {
    int slot = 0, r = pick_slot(dom, &slot, ret_error);
    if (r == 0)
      *ret_where = (DeviceAddress){.type = DEVICE_ADDRESS_PCI, .slot = (unsigned)slot};
    return r;
  }
  JsonNode *value = NULL;
  int r = qemu_qmp_sync(dom, "query-pci", NULL, &value, ret_error);
  if (r < 0)
    return r;
  int bus = -1;
  r = qemu_hotplug_parse_free_buses(value, ports, &bus);
  json_node_unref(value);
  if (r == -ENOSPC) {
    *ret_error = g_strdup_printf("no free pcie-root-port is left for hot plug (the definition "
                                 "has %u, all in use): add <controller type='pci' "
                                 "model='pcie-root-port'/> to the definition, which counts "
                                 "from the next start", ports->len);
    return r;
  }
  if (r < 0) {
    *ret_error = g_strdup("QEMU's answer to query-pci was not understood");
    return -EIO;
  }
  *ret_where = (DeviceAddress){.type = DEVICE_ADDRESS_PCI, .bus = (unsigned)bus};
  return 0;
}

static int attach_locked_op(QemuDriver *d, QemuDomain *dom, void *dev, const char *key,
                            char **ret_error) {
  DomainDisk *disk = dev;
  g_autoptr(GHashTable) ids = load_ids(dom);
  if (g_hash_table_contains(ids, disk->target_dev)) {
    *ret_error = g_strdup_printf("the running domain already has a disk %s", disk->target_dev);
    return -EEXIST;
  }
  g_autofree char *path = NULL;
  bool is_block = false;
  int r = disk_path(d, disk, &path, &is_block, ret_error);
  if (r < 0)
    return r;
  DeviceAddress where = disk->address;
  if (disk->target_bus == DISK_BUS_VIRTIO && disk->address.type != DEVICE_ADDRESS_PCI &&
      (r = place_pci(dom, &where, ret_error)) < 0)
    return r;
  g_autofree char *id = qemu_hotplug_disk_id(disk->target_dev);
  JsonNode *file = NULL, *format = NULL, *device = NULL;
  DeviceAddress given = disk->address;
  disk->address = where;
  r = qemu_hotplug_disk_args(disk, path, is_block, id, 0, &file, &format, &device, ret_error);
  disk->address = given;
  if (r < 0)
    return r;
  g_autoptr(JsonNode) format_owned = format;
  g_autoptr(JsonNode) device_owned = device;
  g_autofree char *file_node = g_strdup_printf("%s-file", id);
  /* A daemon killed in the middle of an earlier plug of this target may
   * have left its device or nodes in QEMU, unknown to the definition and
   * to the ids file: the definition is the truth, so they go first. */
  if (device_present(dom, id) == 1) {
    g_autofree char *what = g_strdup_printf("the leftover of an unfinished plug of %s",
                                            disk->target_dev);
    if ((r = unplug_device(dom, id, what, ret_error)) < 0) {
      json_node_unref(file);
      return r;
    }
  }
  del_nodes_quiet(dom, id, true);
  journal_write(dom, "plug", "disk", disk->target_dev, id);
  if ((r = qemu_qmp_sync(dom, "blockdev-add", file, NULL, ret_error)) < 0)
    return r;
  if ((r = qemu_qmp_sync(dom, "blockdev-add", g_steal_pointer(&format_owned), NULL,
                         ret_error)) < 0) {
    g_autofree char *e = NULL;
    qemu_qmp_sync(dom, "blockdev-del", qemu_hotplug_blockdev_del_args(file_node), NULL, &e);
    return r;
  }
  if ((r = qemu_qmp_sync(dom, "device_add", g_steal_pointer(&device_owned), NULL,
                         ret_error)) < 0) {
    del_nodes(dom, id);
    return r;
  }
  fault_point("hotplug-plugged");
  if (disk->target_bus == DISK_BUS_VIRTIO)
    disk->address = where;
  g_hash_table_insert(ids, g_strdup(disk->target_dev), g_strdup(id));
  save_ids(dom, ids);
  g_mutex_lock(&dom->obj->lock);
  g_ptr_array_add(dom->live_def->disks, domain_disk_copy(disk));
  g_mutex_unlock(&dom->obj->lock);
  qemu_save_live(dom);
  return 0;
}

int qemu_domain_attach_disk(QemuDriver *d, Obj *obj, DomainDisk *disk, char **ret_error) {
  return run_op(d, obj, disk, NULL, attach_locked_op, ret_error);
}

/* Whether QEMU still has the device `id` (-errno when it cannot say). */
static int device_present(QemuDomain *dom, const char *id) {
  JsonNode *args = json_node_new(JSON_NODE_OBJECT);
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "path", "/machine/peripheral");
  json_node_take_object(args, o);
  JsonNode *value = NULL;
  g_autofree char *error = NULL;
  int r = qemu_qmp_sync(dom, "qom-list", args, &value, &error);
  if (r < 0)
    return r;
  bool has = qemu_hotplug_qom_list_has(value, id);
  json_node_unref(value);
  return has ? 1 : 0;
}

/* device_del, then waits until the guest let go of the device: it
 * acknowledges the ACPI eject, QEMU deletes the device, sends
 * DEVICE_DELETED, and the device leaves /machine/peripheral. */
static int unplug_device(QemuDomain *dom, const char *id, const char *what, char **ret_error) {
  JsonNode *args = NULL;
  int r = qmp_args_device_del(id, &args);
  if (r < 0 || (r = qemu_qmp_sync(dom, "device_del", args, NULL, ret_error)) < 0)
    return r;
  int64_t deadline = g_get_monotonic_time() + QEMU_UNPLUG_TIMEOUT_MS * 1000LL;
  while ((r = device_present(dom, id)) == 1 && g_get_monotonic_time() < deadline)
    g_usleep(QEMU_UNPLUG_POLL_MS * 1000);
  if (r < 0) {
    *ret_error = g_strdup_printf("QEMU stopped answering while the guest released %s", what);
    return r;
  }
  if (r == 1) {
    *ret_error = g_strdup_printf("the guest did not release %s within %d s; it stays "
                                 "(the request may still complete later)", what,
                                 QEMU_UNPLUG_TIMEOUT_MS / 1000);
    return -ETIMEDOUT;
  }
  return 0;
}

static int detach_locked_op(QemuDriver *d, QemuDomain *dom, void *dev, const char *target,
                            char **ret_error) {
  g_autoptr(GHashTable) ids = load_ids(dom);
  const char *id = g_hash_table_lookup(ids, target);
  g_mutex_lock(&dom->obj->lock);
  int index = -1;
  for (guint i = 0; i < dom->live_def->disks->len; i++)
    if (strcmp(((DomainDisk *)dom->live_def->disks->pdata[i])->target_dev, target) == 0)
      index = (int)i;
  DiskBus bus = index >= 0 ? ((DomainDisk *)dom->live_def->disks->pdata[index])->target_bus
                           : DISK_BUS_VIRTIO;
  g_mutex_unlock(&dom->obj->lock);
  if (!id || index < 0) {
    *ret_error = g_strdup_printf("the running domain has no disk %s", target);
    return -ENOENT;
  }
  if (bus == DISK_BUS_IDE || bus == DISK_BUS_SATA) {
    *ret_error = g_strdup_printf("disk %s is on the %s bus, which cannot be hot-unplugged; "
                                 "shut the domain off to remove it", target,
                                 disk_bus_to_string(bus));
    return -EOPNOTSUPP;
  }
  g_autofree char *id_copy = g_strdup(id);
  int r;
  g_autofree char *what = g_strdup_printf("disk %s", target);
  journal_write(dom, "unplug", "disk", target, id_copy);
  if ((r = unplug_device(dom, id_copy, what, ret_error)) < 0)
    return r;
  fault_point("hotplug-unplugged");
  del_nodes(dom, id_copy);
  g_hash_table_remove(ids, target);
  save_ids(dom, ids);
  g_mutex_lock(&dom->obj->lock);
  for (guint i = 0; i < dom->live_def->disks->len; i++)
    if (strcmp(((DomainDisk *)dom->live_def->disks->pdata[i])->target_dev, target) == 0) {
      g_ptr_array_remove_index(dom->live_def->disks, i);
      break;
    }
  g_mutex_unlock(&dom->obj->lock);
  qemu_save_live(dom);
  return 0;
}

int qemu_domain_detach_disk(QemuDriver *d, Obj *obj, const char *target, char **ret_error) {
  return run_op(d, obj, NULL, target, detach_locked_op, ret_error);
}

/* Whether a and b differ at most in their source (a medium change). */
static bool only_source_differs(const DomainDisk *a, const DomainDisk *b) {
  g_autoptr(DomainDisk) x = domain_disk_copy(a);
  g_autoptr(DomainDisk) y = domain_disk_copy(b);
  DomainDisk *both[] = {x, y};
  for (int i = 0; i < 2; i++) {
    g_clear_pointer(&both[i]->source, g_free);
    g_clear_pointer(&both[i]->source_pool, g_free);
    g_clear_pointer(&both[i]->source_volume, g_free);
    both[i]->type = DISK_TYPE_FILE;
  }
  if (y->address.type == DEVICE_ADDRESS_NONE)
    y->address = x->address;
  g_autofree char *ta = domain_device_format_disk(x);
  g_autofree char *tb = domain_device_format_disk(y);
  return strcmp(ta, tb) == 0;
}

static int update_locked_op(QemuDriver *d, QemuDomain *dom, void *dev, const char *key,
                            char **ret_error) {
  DomainDisk *disk = dev;
  g_autoptr(GHashTable) ids = load_ids(dom);
  const char *id = g_hash_table_lookup(ids, disk->target_dev);
  g_mutex_lock(&dom->obj->lock);
  DomainDisk *live = NULL;
  for (guint i = 0; i < dom->live_def->disks->len; i++)
    if (strcmp(((DomainDisk *)dom->live_def->disks->pdata[i])->target_dev,
               disk->target_dev) == 0)
      live = dom->live_def->disks->pdata[i];
  g_autoptr(DomainDisk) old = live ? domain_disk_copy(live) : NULL;
  g_mutex_unlock(&dom->obj->lock);
  if (!old || !id) {
    *ret_error = g_strdup_printf("the running domain has no disk %s", disk->target_dev);
    return -ENOENT;
  }
  if (old->device != DISK_DEVICE_CDROM || disk->device != DISK_DEVICE_CDROM ||
      !only_source_differs(old, disk)) {
    *ret_error = g_strdup_printf("disk %s of a running domain can only change its medium "
                                 "(a CD-ROM's source); remove it and add it again", disk->target_dev);
    return -EBUSY;
  }
  g_autofree char *path = NULL;
  bool is_block = false;
  int r = disk_path(d, disk, &path, &is_block, ret_error);
  if (r < 0)
    return r;
  g_autofree char *id_copy = g_strdup(id);
  if (path) {
    JsonNode *args = NULL;
    if ((r = qemu_hotplug_change_medium_args(id_copy, disk, path, &args, ret_error)) < 0)
      return r;
    r = qemu_qmp_sync(dom, "blockdev-change-medium", args, NULL, ret_error);
  } else {
    r = qemu_qmp_sync(dom, "eject", qemu_hotplug_eject_args(id_copy, false), NULL, ret_error);
  }
  if (r < 0) {
    /* A guest that locked the tray refuses both; QEMU asks it to open. */
    if (*ret_error && strstr(*ret_error, "locked"))
      return -EBUSY;
    return r;
  }
  disk->address = old->address;
  g_mutex_lock(&dom->obj->lock);
  for (guint i = 0; i < dom->live_def->disks->len; i++)
    if (dom->live_def->disks->pdata[i] == live) {
      domain_disk_free(live);
      dom->live_def->disks->pdata[i] = domain_disk_copy(disk);
    }
  g_mutex_unlock(&dom->obj->lock);
  qemu_save_live(dom);
  return 0;
}

int qemu_domain_update_disk(QemuDriver *d, Obj *obj, DomainDisk *disk, char **ret_error) {
  return run_op(d, obj, disk, NULL, update_locked_op, ret_error);
}

/* ---- interfaces ---- */

/* A network or bridge interface: the bridge driver makes its tap and puts
 * it on the bridge (as at start), QEMU gets the descriptor with getfd
 * under `fdname`; iface->target_dev names the tap. */
static int pass_tap(QemuDriver *d, QemuDomain *dom, DomainInterface *iface, const char *fdname,
                    char **ret_error) {
  if (!d->hooks.open_tap) {
    *ret_error = g_strdup("network interfaces are not available in this daemon");
    return -EOPNOTSUPP;
  }
  g_mutex_lock(&dom->obj->lock);
  g_autoptr(DomainDef) live = domain_def_copy(dom->live_def);
  g_mutex_unlock(&dom->obj->lock);
  int fd = -1;
  int r = d->hooks.open_tap(d->hooks.user_data, live, live->interfaces->len, iface, &fd,
                            ret_error);
  if (r < 0)
    return r;
  g_autofree char *ignored = NULL;
  qemu_qmp_sync(dom, "closefd", qemu_hotplug_fdname_args(fdname), NULL, &ignored);
  r = qemu_qmp_sync_fd(dom, "getfd", qemu_hotplug_fdname_args(fdname), fd,
                       d->qmp_timeout_ms, NULL, ret_error);
  close(fd);
  if (r < 0 && d->hooks.close_tap)
    d->hooks.close_tap(d->hooks.user_data, iface->target_dev);
  return r;
}

/* Undoes pass_tap after a failed plug. */
static void drop_tap(QemuDriver *d, QemuDomain *dom, DomainInterface *iface, const char *fdname) {
  if (!fdname)
    return;
  g_autofree char *ignored = NULL;
  qemu_qmp_sync(dom, "closefd", qemu_hotplug_fdname_args(fdname), NULL, &ignored);
  if (iface->target_dev && d->hooks.close_tap)
    d->hooks.close_tap(d->hooks.user_data, iface->target_dev);
}

/* After an unplug: the tap of the interface with `mac` goes. */
static void close_tap_of(QemuDriver *d, QemuDomain *dom, const char *mac) {
  g_autofree char *tap = NULL;
  g_mutex_lock(&dom->obj->lock);
  for (guint i = 0; i < dom->live_def->interfaces->len; i++) {
    const DomainInterface *n = dom->live_def->interfaces->pdata[i];
    if (g_ascii_strcasecmp(n->mac, mac) == 0 && n->target_dev)
      tap = g_strdup(n->target_dev);
  }
  for (guint i = 0; tap && i < dom->taps->len; i++)
    if (strcmp(dom->taps->pdata[i], tap) == 0)
      g_ptr_array_remove_index(dom->taps, i--);
  g_mutex_unlock(&dom->obj->lock);
  if (tap && d->hooks.close_tap)
    d->hooks.close_tap(d->hooks.user_data, tap);
}

static int attach_nic_op(QemuDriver *d, QemuDomain *dom, void *dev, const char *key,
                         char **ret_error) {
  DomainInterface *iface = dev;
  g_autoptr(GHashTable) ids = load_ids(dom);
  g_autofree char *mkey = mac_key(iface->mac);
  if (g_hash_table_contains(ids, mkey)) {
    *ret_error = g_strdup_printf("the running domain already has an interface with MAC %s",
                                 iface->mac);
    return -EEXIST;
  }
  int r;
  DeviceAddress where = iface->address;
  if (iface->address.type != DEVICE_ADDRESS_PCI && (r = place_pci(dom, &where, ret_error)) < 0)
    return r;
  g_autofree char *hex = g_strdelimit(g_strdup(mkey), ":", '-');
  g_autofree char *id = g_strdup_printf("dev-nic-%s", hex);
  g_autofree char *netdev_id = g_strdup_printf("dev-net-%s", hex);
  g_autofree char *fdname = iface->type != INTERFACE_USER ? g_strdup_printf("fd-%s", hex) : NULL;
  JsonNode *netdev = NULL, *device = NULL;
  DeviceAddress given = iface->address;
  iface->address = where;
  r = qemu_hotplug_nic_args(iface, id, netdev_id, fdname, 0, &netdev, &device, ret_error);
  iface->address = given;
  if (r < 0)
    return r;
  g_autoptr(JsonNode) device_owned = device;
  g_autoptr(JsonNode) netdev_owned = netdev;
  /* Leftovers of a plug a killed daemon did not finish (see attach_locked_op). */
  if (device_present(dom, id) == 1 &&
      (r = unplug_device(dom, id, "the leftover of an unfinished interface plug",
                         ret_error)) < 0)
    return r;
  g_autofree char *ignored = NULL;
  qemu_qmp_sync(dom, "netdev_del", qemu_hotplug_id_args(netdev_id), NULL, &ignored);
  g_autofree char *journal_id = g_strdup_printf("%s %s", id, netdev_id);
  journal_write(dom, "plug", "nic", mkey, journal_id);
  if (fdname && (r = pass_tap(d, dom, iface, fdname, ret_error)) < 0)
    return r;
  if ((r = qemu_qmp_sync(dom, "netdev_add", g_steal_pointer(&netdev_owned), NULL,
                         ret_error)) < 0) {
    drop_tap(d, dom, iface, fdname);
    return r;
  }
  if ((r = qemu_qmp_sync(dom, "device_add", g_steal_pointer(&device_owned), NULL,
                         ret_error)) < 0) {
    g_autofree char *e = NULL;
    qemu_qmp_sync(dom, "netdev_del", qemu_hotplug_id_args(netdev_id), NULL, &e);
    drop_tap(d, dom, iface, fdname);
    return r;
  }
  fault_point("hotplug-plugged");
  if (iface->target_dev) {
    g_mutex_lock(&dom->obj->lock);
    g_ptr_array_add(dom->taps, g_strdup(iface->target_dev));
    g_mutex_unlock(&dom->obj->lock);
  }
  iface->address = where;
  g_hash_table_insert(ids, g_steal_pointer(&mkey), g_strdup_printf("%s %s", id, netdev_id));
  save_ids(dom, ids);
  g_mutex_lock(&dom->obj->lock);
  g_ptr_array_add(dom->live_def->interfaces, domain_interface_copy(iface));
  g_mutex_unlock(&dom->obj->lock);
  qemu_save_live(dom);
  return 0;
}

static int detach_nic_op(QemuDriver *d, QemuDomain *dom, void *dev, const char *mac,
                         char **ret_error) {
  g_autoptr(GHashTable) ids = load_ids(dom);
  g_autofree char *mkey = mac_key(mac);
  const char *value = g_hash_table_lookup(ids, mkey);
  g_auto(GStrv) names = value ? g_strsplit(value, " ", 2) : NULL;
  if (!names || !names[0] || !names[1]) {
    *ret_error = g_strdup_printf("the running domain has no interface with MAC %s", mac);
    return -ENOENT;
  }
  g_autofree char *what = g_strdup_printf("interface %s", mac);
  journal_write(dom, "unplug", "nic", mkey, value);
  int r = unplug_device(dom, names[0], what, ret_error);
  if (r < 0)
    return r;
  fault_point("hotplug-unplugged");
  g_autofree char *e = NULL;
  if (qemu_qmp_sync(dom, "netdev_del", qemu_hotplug_id_args(names[1]), NULL, &e) < 0)
    log_warning("netdev_del %s: %s", names[1], e);
  close_tap_of(d, dom, mac);
  g_hash_table_remove(ids, mkey);
  save_ids(dom, ids);
  g_mutex_lock(&dom->obj->lock);
  for (guint i = 0; i < dom->live_def->interfaces->len; i++) {
    DomainInterface *n = dom->live_def->interfaces->pdata[i];
    if (g_ascii_strcasecmp(n->mac, mac) == 0) {
      g_ptr_array_remove_index(dom->live_def->interfaces, i);
      break;
    }
  }
  g_mutex_unlock(&dom->obj->lock);
  qemu_save_live(dom);
  return 0;
}

int qemu_domain_attach_interface(QemuDriver *d, Obj *obj, DomainInterface *iface,
                                 char **ret_error) {
  return run_op(d, obj, iface, NULL, attach_nic_op, ret_error);
}

int qemu_domain_detach_interface(QemuDriver *d, Obj *obj, const char *mac, char **ret_error) {
  return run_op(d, obj, NULL, mac, detach_nic_op, ret_error);
}

/* ---- after a daemon was killed in the middle of an operation ---- */

/* The index of the device of `key` (an interface's MAC, else a disk's
 * target) in `def`'s list, or -1. */
static int find_by_key(const DomainDef *def, bool nic, const char *key) {
  GPtrArray *list = nic ? def->interfaces : def->disks;
  for (guint i = 0; i < list->len; i++) {
    const char *k = nic ? ((DomainInterface *)list->pdata[i])->mac
                        : ((DomainDisk *)list->pdata[i])->target_dev;
    if (g_ascii_strcasecmp(k, key) == 0)
      return (int)i;
  }
  return -1;
}

/* Removes the device of `key` from `def`. */
static void remove_by_key(DomainDef *def, bool nic, const char *key) {
  int i = find_by_key(def, nic, key);
  if (i >= 0)
    g_ptr_array_remove_index(nic ? def->interfaces : def->disks, (guint)i);
}

/* Whether the stored definition has the device of `key`. */
static bool config_has(Obj *obj, bool nic, const char *key) {
  g_mutex_lock(&obj->lock);
  bool has = find_by_key(obj->def, nic, key) >= 0;
  g_mutex_unlock(&obj->lock);
  return has;
}

/* Takes the device of `key` out of the live definition and the ids file,
 * and deletes what QEMU kept of it (block nodes, netdev, tap). */
static void forget_device(QemuDriver *d, QemuDomain *dom, bool nic, const char *key,
                          char **ids_words) {
  if (nic) {
    g_autofree char *e = NULL;
    if (ids_words[1])
      qemu_qmp_sync(dom, "netdev_del", qemu_hotplug_id_args(ids_words[1]), NULL, &e);
    close_tap_of(d, dom, key);
  } else {
    del_nodes_quiet(dom, ids_words[0], true);
  }
  g_autoptr(GHashTable) ids = load_ids(dom);
  g_hash_table_remove(ids, key);
  save_ids(dom, ids);
  g_mutex_lock(&dom->obj->lock);
  remove_by_key(dom->live_def, nic, key);
  g_mutex_unlock(&dom->obj->lock);
  qemu_save_live(dom);
}

/* The definition without the device of `key`, stored. */
static void drop_from_config(QemuDriver *d, Obj *obj, bool nic, const char *key) {
  g_mutex_lock(&obj->lock);
  DomainDef *def = domain_def_copy(obj->def);
  g_mutex_unlock(&obj->lock);
  remove_by_key(def, nic, key);
  g_autofree char *error = NULL;
  if (registry_update(d->registry, obj, (void **)&def, &error) < 0) {
    log_warning("cannot store the definition after an unplug: %s", error);
    domain_def_free(def);
  }
}

void qemu_hotplug_recover(QemuDriver *d, QemuDomain *dom) {
  g_autofree char *path = journal_path(dom);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return;
  g_auto(GStrv) w = g_strsplit(g_strstrip(text), " ", 5);
  if (g_strv_length(w) < 4) {
    journal_clear(dom);
    return;
  }
  bool plug = strcmp(w[0], "plug") == 0, nic = strcmp(w[1], "nic") == 0;
  const char *key = w[2];
  char *ids_words[] = {w[3], w[4], NULL};
  Obj *obj = dom->obj;
  int present = device_present(dom, w[3]);
  if (present < 0)
    return; /* QEMU does not answer: try at the next start of the daemon */
  const char *name = obj->name;
  if (plug && !config_has(obj, nic, key)) {
    /* Killed before the definition had it: the plug did not happen. */
    g_autofree char *error = NULL;
    if (present == 1 && unplug_device(dom, w[3], key, &error) < 0) {
      log_warning("domain '%s': the unfinished hot plug of %s stays in the guest: %s", name,
                  key, error);
      return;
    }
    forget_device(d, dom, nic, key, ids_words);
    log_info("domain '%s': undid the hot plug of %s that a stopped daemon did not finish",
             name, key);
  } else if (!plug && present == 0) {
    /* Killed after the guest let go: the unplug happened. */
    forget_device(d, dom, nic, key, ids_words);
    if (config_has(obj, nic, key))
      drop_from_config(d, obj, nic, key);
    log_info("domain '%s': finished the unplug of %s that a stopped daemon began", name, key);
  }
  /* A plug the definition has, or an unplug the guest has not done: the
   * guest and the definition agree already. */
  journal_clear(dom);
}
