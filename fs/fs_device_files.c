/* fs_device_files.c — /virt/domains/NAME/devices/: one fragment per disk
 * and interface of the definition (objects/domain_device.h), a `.media`
 * file per CD-ROM. Writing a fragment adds or replaces the device, rm
 * removes it; on a running domain the QEMU driver plugs or unplugs it
 * first, and the definition changes only once the guest has it (or has
 * let it go). docs/domains.md documents the directory. */
#include <errno.h>
#include <string.h>

#include "drivers/qemu/qemu_driver.h"
#include "fs/fs_common_files.h"
#include "fs/fs_files.h"
#include "objects/domain_device.h"
#include "objects/values.h"

/* An entry name taken apart (domain_device_entry_parse): NAME is a disk's
 * target or an interface's name. */
typedef struct {
  DeviceEntryType type;
  char *name;
} Entry;

static void entry_clear(Entry *e) {
  g_clear_pointer(&e->name, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Entry, entry_clear)

static bool entry_parse(const char *entry, Entry *e) {
  return domain_device_entry_parse(entry, &e->type, &e->name);
}

static int device_entry_kind(const char *entry) {
  g_auto(Entry) e = {0};
  if (!entry_parse(entry, &e))
    return -1;
  return e.type == DEVICE_ENTRY_MEDIA ? FS_FILE_VALUE : FS_FILE_DOCUMENT;
}

static void device_list(FsContext *ctx, Obj *obj, GPtrArray *names) {
  g_mutex_lock(&obj->lock);
  g_autoptr(GPtrArray) entries = domain_device_entries(obj->def);
  g_mutex_unlock(&obj->lock);
  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add(names, g_strdup(entries->pdata[i]));
}

/* The fragment (or medium line) of `entry` in def, or NULL when it has none. */
static char *render_entry(const DomainDef *def, const char *entry) {
  g_auto(Entry) e = {0};
  if (!entry_parse(entry, &e))
    return NULL;
  DomainDeviceKind kind;
  int i = domain_def_find_entry(def, e.name, &kind);
  if (i < 0)
    return NULL;
  if (kind == DOMAIN_DEVICE_INTERFACE)
    return e.type == DEVICE_ENTRY_XML ? domain_device_format_interface(def->interfaces->pdata[i])
                                      : NULL;
  const DomainDisk *disk = def->disks->pdata[i];
  if (e.type == DEVICE_ENTRY_XML)
    return domain_device_format_disk(disk);
  if (disk->device != DISK_DEVICE_CDROM)
    return NULL;
  return g_strdup_printf("%s\n", disk->source ? disk->source : "");
}

static bool device_exists(FsContext *ctx, Obj *obj, const char *entry) {
  g_mutex_lock(&obj->lock);
  g_autofree char *text = render_entry(obj->def, entry);
  g_mutex_unlock(&obj->lock);
  return text != NULL;
}

/* An entry being created reads as empty until its content is applied. */
static int device_read(FsContext *ctx, Obj *obj, const char *entry, GString *out) {
  g_mutex_lock(&obj->lock);
  g_autofree char *text = render_entry(obj->def, entry);
  g_mutex_unlock(&obj->lock);
  if (text)
    g_string_append(out, text);
  return 0;
}

/* Another domain whose disk is the same image, unless both may share it. */
static char *disk_owner_elsewhere(FsContext *ctx, Obj *obj, const DomainDisk *disk) {
  if (disk->shareable || disk->readonly || disk->device == DISK_DEVICE_CDROM)
    return NULL;
  g_autoptr(GPtrArray) domains = registry_list(ctx->registry, OBJ_DOMAIN, NULL);
  for (guint i = 0; i < domains->len; i++) {
    Obj *o = domains->pdata[i];
    if (o == obj)
      continue;
    g_mutex_lock(&o->lock);
    const DomainDef *def = o->def;
    char *owner = NULL;
    for (guint j = 0; j < def->disks->len && !owner; j++) {
      const DomainDisk *d = def->disks->pdata[j];
      bool same = d->type == disk->type &&
                  (disk->type == DISK_TYPE_VOLUME
                       ? g_strcmp0(d->source_pool, disk->source_pool) == 0 &&
                             g_strcmp0(d->source_volume, disk->source_volume) == 0
                       : disk->source && g_strcmp0(d->source, disk->source) == 0);
      if (same && !d->shareable)
        owner = g_strdup_printf("%s (disk %s)", o->name, d->target_dev);
    }
    g_mutex_unlock(&o->lock);
    if (owner)
      return owner;
  }
  return NULL;
}

static void emit_device(FsContext *ctx, Obj *obj, const char *event, const char *entry) {
  g_autofree char *name = g_strndup(entry, strcspn(entry, "."));
  registry_emit(ctx->registry, obj, event, name);
}

/* The medium of a CD-ROM as a fragment write: the same disk with another
 * source (an empty line ejects). */
static int media_to_fragment(Obj *obj, const char *target, const char *data, char **ret_xml,
                             char **ret_error) {
  g_mutex_lock(&obj->lock);
  const DomainDef *def = obj->def;
  int i = domain_def_find_disk(def, target);
  g_autoptr(DomainDisk) disk = i >= 0 ? domain_disk_copy(def->disks->pdata[i]) : NULL;
  g_mutex_unlock(&obj->lock);
  if (!disk || disk->device != DISK_DEVICE_CDROM) {
    *ret_error = g_strdup_printf("%s.media: there is no CD-ROM with target '%s'", target, target);
    return -ENOENT;
  }
  if (*data && data[0] != '/') {
    *ret_error = g_strdup_printf("%s.media: '%s' is not an absolute path", target, data);
    return -EINVAL;
  }
  g_free(disk->source);
  disk->source = *data ? g_strdup(data) : NULL;
  if (disk->type == DISK_TYPE_VOLUME)
    disk->type = DISK_TYPE_FILE;
  g_clear_pointer(&disk->source_pool, g_free);
  g_clear_pointer(&disk->source_volume, g_free);
  *ret_xml = domain_device_format_disk(disk);
  return 0;
}

static int device_write(FsContext *ctx, Obj *obj, const char *entry, const char *data,
                        size_t len, char **ret_error);

static int media_write(FsContext *ctx, Obj *obj, const char *entry, const char *target,
                       const char *data, char **ret_error) {
  g_autofree char *xml = NULL;
  int r = media_to_fragment(obj, target, data, &xml, ret_error);
  if (r < 0)
    return r;
  g_autofree char *fragment_entry = g_strdup_printf("%s.xml", target);
  return device_write(ctx, obj, fragment_entry, xml, strlen(xml), ret_error);
}

static int device_write(FsContext *ctx, Obj *obj, const char *entry, const char *data,
                        size_t len, char **ret_error) {
  g_auto(Entry) e = {0};
  if (!entry_parse(entry, &e))
    return -ENOENT;
  if (e.type == DEVICE_ENTRY_MEDIA)
    return media_write(ctx, obj, entry, e.name, data, ret_error);

  g_autoptr(DomainDevice) dev = NULL;
  g_autofree char *error = NULL;
  int r = domain_device_parse(data, len, &dev, &error);
  if (r < 0) {
    *ret_error = g_strdup_printf("devices/%s: %s", entry, error);
    return r;
  }
  if (dev->kind == DOMAIN_DEVICE_DISK) {
    g_autofree char *owner = disk_owner_elsewhere(ctx, obj, dev->disk);
    if (owner) {
      *ret_error = g_strdup_printf("devices/%s: the image is already a disk of domain %s; "
                                   "mark both <shareable/> to share it", entry, owner);
      return -EBUSY;
    }
  }
  g_autoptr(DomainDef) def = fs_obj_copy_def(obj);
  g_autofree char *before = render_entry(def, entry);
  g_autoptr(DomainDisk) disk = dev->disk ? domain_disk_copy(dev->disk) : NULL;
  g_autoptr(DomainInterface) iface = dev->iface ? domain_interface_copy(dev->iface) : NULL;
  bool replaced = false;
  if ((r = domain_def_set_device(def, entry, &dev, &replaced, &error)) < 0) {
    *ret_error = g_strdup_printf("devices/%s: %s", entry, error);
    return r;
  }
  g_autofree char *after = render_entry(def, entry);
  if (before && g_strcmp0(before, after) == 0)
    return 0; /* the same device again: nothing to do (rule 5) */

  bool plugged = false;
  if (qemu_domain_is_active(obj)) {
    bool is_iface = iface != NULL;
    if (is_iface && replaced) {
      *ret_error = g_strdup_printf("devices/%s: an interface of a running domain cannot be "
                                   "changed; remove it and add it again", entry);
      return -EBUSY;
    }
    if (is_iface)
      r = qemu_domain_attach_interface(ctx->qemu, obj, iface, &error);
    else if (replaced)
      r = qemu_domain_update_disk(ctx->qemu, obj, disk, &error);
    else
      r = qemu_domain_attach_disk(ctx->qemu, obj, disk, &error);
    if (r < 0) {
      *ret_error = g_strdup_printf("devices/%s: %s", entry, error);
      return r;
    }
    plugged = !replaced;
    /* The driver may have chosen the PCI address: keep it in the definition. */
    if (is_iface)
      ((DomainInterface *)g_ptr_array_index(def->interfaces, def->interfaces->len - 1))->address =
          iface->address;
    else
      ((DomainDisk *)def->disks->pdata[domain_def_find_disk(def, disk->target_dev)])->address =
          disk->address;
  }
  r = registry_update(ctx->registry, obj, (void **)&def, &error);
  if (r < 0) {
    *ret_error = g_strdup_printf("devices/%s: %s", entry, error);
    if (plugged) {
      g_autofree char *undo_error = NULL;
      if (iface)
        qemu_domain_detach_interface(ctx->qemu, obj, iface->mac, &undo_error);
      else
        qemu_domain_detach_disk(ctx->qemu, obj, e.name, &undo_error);
    }
  }
  if (plugged || (r == 0 && qemu_domain_is_active(obj)))
    qemu_domain_hotplug_commit(ctx->qemu, obj);
  if (r < 0)
    return r;
  if (!replaced)
    emit_device(ctx, obj, "device-added", entry);
  return 0;
}

static int device_remove(FsContext *ctx, Obj *obj, const char *entry, char **ret_error) {
  g_auto(Entry) e = {0};
  if (!entry_parse(entry, &e))
    return -ENOENT;
  /* rm of a medium ejects it, as an empty line does. */
  if (e.type == DEVICE_ENTRY_MEDIA)
    return device_write(ctx, obj, entry, "", 0, ret_error);
  g_autoptr(DomainDef) def = fs_obj_copy_def(obj);
  g_autofree char *error = NULL;
  DomainDeviceKind kind = DOMAIN_DEVICE_DISK;
  int i = domain_def_find_entry(def, e.name, &kind);
  g_autofree char *mac = i >= 0 && kind == DOMAIN_DEVICE_INTERFACE
                             ? g_strdup(((DomainInterface *)def->interfaces->pdata[i])->mac)
                             : NULL;
  int r = domain_def_remove_device(def, entry, &error);
  if (r < 0) {
    *ret_error = g_strdup_printf("devices/%s: %s", entry, error);
    return r;
  }
  if (qemu_domain_is_active(obj)) {
    r = mac ? qemu_domain_detach_interface(ctx->qemu, obj, mac, &error)
            : qemu_domain_detach_disk(ctx->qemu, obj, e.name, &error);
    if (r < 0) {
      *ret_error = g_strdup_printf("devices/%s: %s", entry, error);
      return r;
    }
  }
  r = registry_update(ctx->registry, obj, (void **)&def, &error);
  if (qemu_domain_is_active(obj))
    qemu_domain_hotplug_commit(ctx->qemu, obj);
  if (r < 0) {
    *ret_error = g_strdup_printf("devices/%s: %s", entry, error);
    return r;
  }
  emit_device(ctx, obj, "device-removed", entry);
  return 0;
}

const FsDataDirOps fs_device_dir_ops = {
  .entry_kind = device_entry_kind,
  .list = device_list,
  .exists = device_exists,
  .read = device_read,
  .write = device_write,
  .remove = device_remove,
};
