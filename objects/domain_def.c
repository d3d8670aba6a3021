/* domain_def.c — the life cycle of a DomainDef: the names of its enums as
 * libvirt writes them, the defaults `mkdir domains/NAME` gives, deep copies
 * and frees. The XML side lives in domain_xml.c. */
#include "objects/domain_def.h"

#include <string.h>

/* Index 0 of device_address_type and domain_cpu_mode stands for "no element"
 * and is never written; the parser refuses those names. */
ENUM_TABLE_IMPL(domain_virt_type, DomainVirtType, "qemu", "kvm")
ENUM_TABLE_IMPL(domain_lifecycle_action, DomainLifecycleAction,
                "destroy", "restart", "preserve", "rename-restart")
ENUM_TABLE_IMPL(device_address_type, DeviceAddressType, "none", "pci", "drive", "isa",
                "usb", "virtio-serial")
ENUM_TABLE_IMPL(domain_boot_dev, DomainBootDev, "hd", "cdrom", "network", "fd")
ENUM_TABLE_IMPL(domain_cpu_mode, DomainCpuMode,
                "none", "custom", "host-model", "host-passthrough", "maximum")
ENUM_TABLE_IMPL(domain_clock_offset, DomainClockOffset, "utc", "localtime")
ENUM_TABLE_IMPL(disk_type, DiskType, "file", "block", "volume")
ENUM_TABLE_IMPL(disk_device, DiskDevice, "disk", "cdrom", "floppy")
ENUM_TABLE_IMPL(disk_format, DiskFormat, "raw", "qcow2")
ENUM_TABLE_IMPL(disk_bus, DiskBus, "virtio", "ide", "sata", "scsi", "fdc")
ENUM_TABLE_IMPL(controller_type, ControllerType,
                "usb", "ide", "pci", "sata", "scsi", "virtio-serial")
ENUM_TABLE_IMPL(interface_type, InterfaceType, "user", "network", "bridge")
ENUM_TABLE_IMPL(chardev_type, ChardevType, "pty", "file", "unix")
ENUM_TABLE_IMPL(video_model, VideoModel, "vga", "cirrus", "virtio", "qxl", "bochs", "none")
ENUM_TABLE_IMPL(input_type, InputType, "mouse", "keyboard", "tablet")
ENUM_TABLE_IMPL(input_bus, InputBus, "ps2", "usb", "virtio")
ENUM_TABLE_IMPL(memballoon_model, MemballoonModel, "virtio", "none")

/* ---- DomainXNode ---- */

DomainXNode *domain_xnode_new(const char *name) {
  DomainXNode *n = g_new0(DomainXNode, 1);
  n->name = g_strdup(name);
  n->attrs = g_ptr_array_new_with_free_func(g_free);
  n->children = g_ptr_array_new_with_free_func((GDestroyNotify)domain_xnode_free);
  return n;
}

void domain_xnode_free(DomainXNode *n) {
  if (!n)
    return;
  g_free(n->name);
  g_free(n->text);
  g_ptr_array_unref(n->attrs);
  g_ptr_array_unref(n->children);
  g_free(n);
}

DomainXNode *domain_xnode_copy(const DomainXNode *n) {
  if (!n)
    return NULL;
  DomainXNode *c = domain_xnode_new(n->name);
  for (guint i = 0; i < n->attrs->len; i++)
    g_ptr_array_add(c->attrs, g_strdup(n->attrs->pdata[i]));
  for (guint i = 0; i < n->children->len; i++)
    g_ptr_array_add(c->children, domain_xnode_copy(n->children->pdata[i]));
  c->text = g_strdup(n->text);
  c->address = n->address;
  return c;
}

const char *domain_xnode_attr(const DomainXNode *n, const char *attr) {
  for (guint i = 0; n && i + 1 < n->attrs->len; i += 2)
    if (strcmp(n->attrs->pdata[i], attr) == 0)
      return n->attrs->pdata[i + 1];
  return NULL;
}

const DomainXNode *domain_xnode_child(const DomainXNode *n, const char *name) {
  for (guint i = 0; n && i < n->children->len; i++) {
    const DomainXNode *c = n->children->pdata[i];
    if (strcmp(c->name, name) == 0)
      return c;
  }
  return NULL;
}

const char *domain_xnode_attr_text(const DomainXNode *n, const char *name) {
  const DomainXNode *c = domain_xnode_child(n, name);
  return c ? c->text : NULL;
}

bool domain_xnode_is(const DomainXNode *n, const char *attr, const char *value) {
  return g_strcmp0(domain_xnode_attr(n, attr), value) == 0;
}

/* ---- free ---- */

void domain_disk_free(DomainDisk *disk) {
  if (!disk)
    return;
  g_free(disk->source);
  g_free(disk->source_pool);
  g_free(disk->source_volume);
  g_free(disk->target_dev);
  g_free(disk->serial);
  domain_xnode_free(disk->driver_ext);
  domain_xnode_free(disk->target_ext);
  domain_xnode_free(disk->ext);
  g_free(disk);
}

void domain_controller_free(DomainController *controller) {
  if (!controller)
    return;
  g_free(controller->model);
  domain_xnode_free(controller->ext);
  g_free(controller);
}

void domain_interface_free(DomainInterface *iface) {
  if (!iface)
    return;
  g_free(iface->source);
  g_free(iface->portgroup);
  g_free(iface->model);
  g_free(iface->target_dev);
  g_free(iface->alias);
  domain_xnode_free(iface->ext);
  g_free(iface);
}

void domain_chardev_free(DomainChardev *chr) {
  if (!chr)
    return;
  g_free(chr->source_path);
  g_free(chr->target_type);
  g_free(chr);
}

void domain_graphics_vnc_free(DomainGraphicsVnc *graphics) {
  if (!graphics)
    return;
  g_free(graphics->listen);
  domain_xnode_free(graphics->ext);
  g_free(graphics);
}

void domain_video_free(DomainVideo *video) {
  if (!video)
    return;
  domain_xnode_free(video->model_ext);
  g_free(video);
}

void domain_input_free(DomainInput *input) {
  g_free(input);
}

void domain_rng_free(DomainRng *rng) {
  if (!rng)
    return;
  g_free(rng->backend);
  g_free(rng);
}

void domain_audio_free(DomainAudio *audio) {
  g_free(audio);
}

static void os_clear(DomainOs *os) {
  g_free(os->type);
  g_free(os->arch);
  g_free(os->machine);
  g_free(os->kernel);
  g_free(os->initrd);
  g_free(os->cmdline);
  g_free(os->firmware);
  domain_xnode_free(os->ext);
}

static void array_unref(GPtrArray *a) {
  if (a)
    g_ptr_array_unref(a);
}

void domain_def_free(DomainDef *def) {
  if (!def)
    return;
  g_free(def->name);
  g_free(def->title);
  g_free(def->description);
  os_clear(&def->os);
  g_free(def->cpu.model);
  g_free(def->cpu.model_fallback);
  domain_xnode_free(def->cpu.ext);
  domain_xnode_free(def->features.ext);
  domain_xnode_free(def->clock_ext);
  domain_xnode_free(def->pm);
  domain_xnode_free(def->root_ext);
  g_free(def->metadata);
  g_free(def->vcpu_cpuset);
  g_free(def->emulator);
  array_unref(def->disks);
  array_unref(def->controllers);
  array_unref(def->interfaces);
  array_unref(def->serials);
  array_unref(def->consoles);
  array_unref(def->graphics);
  array_unref(def->videos);
  array_unref(def->inputs);
  array_unref(def->rngs);
  array_unref(def->audios);
  array_unref(def->xdevices);
  array_unref(def->seclabels);
  g_free(def);
}

/* ---- new ---- */

DomainDef *domain_def_new(void) {
  DomainDef *def = g_new0(DomainDef, 1);
  def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)domain_disk_free);
  def->controllers = g_ptr_array_new_with_free_func((GDestroyNotify)domain_controller_free);
  def->interfaces = g_ptr_array_new_with_free_func((GDestroyNotify)domain_interface_free);
  def->serials = g_ptr_array_new_with_free_func((GDestroyNotify)domain_chardev_free);
  def->consoles = g_ptr_array_new_with_free_func((GDestroyNotify)domain_chardev_free);
  def->graphics = g_ptr_array_new_with_free_func((GDestroyNotify)domain_graphics_vnc_free);
  def->videos = g_ptr_array_new_with_free_func((GDestroyNotify)domain_video_free);
  def->inputs = g_ptr_array_new_with_free_func((GDestroyNotify)domain_input_free);
  def->rngs = g_ptr_array_new_with_free_func((GDestroyNotify)domain_rng_free);
  def->audios = g_ptr_array_new_with_free_func((GDestroyNotify)domain_audio_free);
  def->xdevices = g_ptr_array_new_with_free_func((GDestroyNotify)domain_xnode_free);
  def->seclabels = g_ptr_array_new_with_free_func((GDestroyNotify)domain_xnode_free);
  def->on_poweroff = DOMAIN_LIFECYCLE_DESTROY;
  def->on_reboot = DOMAIN_LIFECYCLE_RESTART;
  def->on_crash = DOMAIN_LIFECYCLE_DESTROY;
  return def;
}

/* The result is exactly what domain_def_parse() makes of its own output, so
 * a freshly made directory's config.xml is already canonical. ACPI is on
 * because graceful shutdown is an ACPI power button press. */
DomainDef *domain_def_new_default(const char *name, bool kvm_available) {
  DomainDef *def = domain_def_new();
  def->virt_type = kvm_available ? DOMAIN_VIRT_KVM : DOMAIN_VIRT_QEMU;
  def->name = g_strdup(name);
  g_autofree char *uuid = g_uuid_string_random();
  g_strlcpy(def->uuid, uuid, sizeof(def->uuid));
  def->memory_kib = 512 * 1024;
  def->current_memory_kib = def->memory_kib;
  def->vcpus = 1;
  def->vcpus_current = 1;
  def->os.type = g_strdup("hvm");
  def->os.arch = g_strdup("x86_64");
  def->os.machine = g_strdup("pc");
  def->os.boot[0] = DOMAIN_BOOT_HD;
  def->os.nboot = 1;
  def->features.acpi = true;
  def->features.apic = true;
  def->clock = DOMAIN_CLOCK_UTC;

  DomainChardev *serial = g_new0(DomainChardev, 1);
  serial->type = CHARDEV_PTY;
  serial->target_type = g_strdup("isa-serial");
  g_ptr_array_add(def->serials, serial);
  DomainChardev *console = domain_chardev_copy(serial);
  g_free(console->target_type);
  console->target_type = g_strdup("serial");
  g_ptr_array_add(def->consoles, console);

  def->memballoon.present = true;
  def->memballoon.model = MEMBALLOON_VIRTIO;

  /* The QEMU guest agent's port, as virt-install adds it: a unix socket
   * the daemon picks (in the run dir) behind virtio-serial. */
  DomainXNode *channel = domain_xnode_new("channel");
  g_ptr_array_add(channel->attrs, g_strdup("type"));
  g_ptr_array_add(channel->attrs, g_strdup("unix"));
  DomainXNode *target = domain_xnode_new("target");
  g_ptr_array_add(target->attrs, g_strdup("type"));
  g_ptr_array_add(target->attrs, g_strdup("virtio"));
  g_ptr_array_add(target->attrs, g_strdup("name"));
  g_ptr_array_add(target->attrs, g_strdup("org.qemu.guest_agent.0"));
  g_ptr_array_add(channel->children, target);
  g_ptr_array_add(def->xdevices, channel);
  return def;
}

/* ---- copy ---- */

DomainDisk *domain_disk_copy(const DomainDisk *disk) {
  DomainDisk *c = g_memdup2(disk, sizeof(*disk));
  c->source = g_strdup(disk->source);
  c->source_pool = g_strdup(disk->source_pool);
  c->source_volume = g_strdup(disk->source_volume);
  c->target_dev = g_strdup(disk->target_dev);
  c->serial = g_strdup(disk->serial);
  c->driver_ext = domain_xnode_copy(disk->driver_ext);
  c->target_ext = domain_xnode_copy(disk->target_ext);
  c->ext = domain_xnode_copy(disk->ext);
  return c;
}

DomainController *domain_controller_copy(const DomainController *controller) {
  DomainController *c = g_memdup2(controller, sizeof(*controller));
  c->model = g_strdup(controller->model);
  c->ext = domain_xnode_copy(controller->ext);
  return c;
}

DomainInterface *domain_interface_copy(const DomainInterface *iface) {
  DomainInterface *c = g_memdup2(iface, sizeof(*iface));
  c->source = g_strdup(iface->source);
  c->portgroup = g_strdup(iface->portgroup);
  c->model = g_strdup(iface->model);
  c->target_dev = g_strdup(iface->target_dev);
  c->alias = g_strdup(iface->alias);
  c->ext = domain_xnode_copy(iface->ext);
  return c;
}

DomainChardev *domain_chardev_copy(const DomainChardev *chr) {
  DomainChardev *c = g_memdup2(chr, sizeof(*chr));
  c->source_path = g_strdup(chr->source_path);
  c->target_type = g_strdup(chr->target_type);
  return c;
}

static gpointer graphics_copy(gconstpointer src, gpointer unused) {
  const DomainGraphicsVnc *g = src;
  DomainGraphicsVnc *c = g_memdup2(g, sizeof(*g));
  c->listen = g_strdup(g->listen);
  c->ext = domain_xnode_copy(g->ext);
  return c;
}

static gpointer rng_copy(gconstpointer src, gpointer unused) {
  const DomainRng *r = src;
  DomainRng *c = g_memdup2(r, sizeof(*r));
  c->backend = g_strdup(r->backend);
  return c;
}

/* GCopyFunc adapters: the typed copies above are the public ones. */
static gpointer xnode_copy_fn(gconstpointer src, gpointer unused) {
  return domain_xnode_copy(src);
}
static gpointer disk_copy_fn(gconstpointer src, gpointer unused) {
  return domain_disk_copy(src);
}
static gpointer controller_copy_fn(gconstpointer src, gpointer unused) {
  return domain_controller_copy(src);
}
static gpointer interface_copy_fn(gconstpointer src, gpointer unused) {
  return domain_interface_copy(src);
}
static gpointer chardev_copy_fn(gconstpointer src, gpointer unused) {
  return domain_chardev_copy(src);
}
static gpointer video_copy_fn(gconstpointer src, gpointer unused) {
  DomainVideo *c = g_memdup2(src, sizeof(DomainVideo));
  c->model_ext = domain_xnode_copy(((const DomainVideo *)src)->model_ext);
  return c;
}
static gpointer input_copy_fn(gconstpointer src, gpointer unused) {
  return g_memdup2(src, sizeof(DomainInput));
}
static gpointer audio_copy_fn(gconstpointer src, gpointer unused) {
  return g_memdup2(src, sizeof(DomainAudio));
}

/* Copies the elements of `src` into the (empty) array `dst`, which keeps
 * its own free function. */
static void array_copy(GPtrArray *dst, const GPtrArray *src, GCopyFunc copy) {
  if (!src)
    return;
  for (guint i = 0; i < src->len; i++)
    g_ptr_array_add(dst, copy(g_ptr_array_index(src, i), NULL));
}

DomainDef *domain_def_copy(const DomainDef *def) {
  DomainDef *c = domain_def_new();
  c->virt_type = def->virt_type;
  c->name = g_strdup(def->name);
  memcpy(c->uuid, def->uuid, sizeof(c->uuid));
  c->uuid_generated = def->uuid_generated;
  c->title = g_strdup(def->title);
  c->description = g_strdup(def->description);
  c->metadata = g_strdup(def->metadata);
  c->memory_kib = def->memory_kib;
  c->current_memory_kib = def->current_memory_kib;
  c->vcpus = def->vcpus;
  c->vcpus_current = def->vcpus_current;
  c->vcpu_placement_auto = def->vcpu_placement_auto;
  c->vcpu_cpuset = g_strdup(def->vcpu_cpuset);

  c->os = def->os;
  c->os.type = g_strdup(def->os.type);
  c->os.arch = g_strdup(def->os.arch);
  c->os.machine = g_strdup(def->os.machine);
  c->os.kernel = g_strdup(def->os.kernel);
  c->os.initrd = g_strdup(def->os.initrd);
  c->os.cmdline = g_strdup(def->os.cmdline);
  c->os.firmware = g_strdup(def->os.firmware);
  c->os.ext = domain_xnode_copy(def->os.ext);
  c->features = def->features;
  c->features.ext = domain_xnode_copy(def->features.ext);
  c->cpu = def->cpu;
  c->cpu.model = g_strdup(def->cpu.model);
  c->cpu.model_fallback = g_strdup(def->cpu.model_fallback);
  c->cpu.ext = domain_xnode_copy(def->cpu.ext);
  c->clock = def->clock;
  c->clock_ext = domain_xnode_copy(def->clock_ext);
  c->pm = domain_xnode_copy(def->pm);
  c->root_ext = domain_xnode_copy(def->root_ext);
  c->on_poweroff = def->on_poweroff;
  c->on_reboot = def->on_reboot;
  c->on_crash = def->on_crash;
  c->emulator = g_strdup(def->emulator);

  array_copy(c->disks, def->disks, disk_copy_fn);
  array_copy(c->controllers, def->controllers, controller_copy_fn);
  array_copy(c->interfaces, def->interfaces, interface_copy_fn);
  array_copy(c->serials, def->serials, chardev_copy_fn);
  array_copy(c->consoles, def->consoles, chardev_copy_fn);
  array_copy(c->graphics, def->graphics, graphics_copy);
  array_copy(c->videos, def->videos, video_copy_fn);
  array_copy(c->inputs, def->inputs, input_copy_fn);
  array_copy(c->rngs, def->rngs, rng_copy);
  array_copy(c->audios, def->audios, audio_copy_fn);
  array_copy(c->xdevices, def->xdevices, xnode_copy_fn);
  array_copy(c->seclabels, def->seclabels, xnode_copy_fn);
  c->memballoon = def->memballoon;
  return c;
}

/* ---- identities across redefinitions ---- */

void domain_def_inherit_generated(DomainDef *def, const DomainDef *old) {
  if (def->uuid_generated && old->uuid[0])
    memcpy(def->uuid, old->uuid, sizeof(def->uuid));
  if (!def->interfaces)
    return;
  guint n = def->interfaces->len;
  guint nold = old->interfaces ? old->interfaces->len : 0;
  /* MACs that are final: written ones, then inherited ones */
  g_autoptr(GHashTable) taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autofree bool *inherited = g_new0(bool, n);
  for (guint i = 0; i < n; i++) {
    const DomainInterface *iface = g_ptr_array_index(def->interfaces, i);
    if (!iface->mac_generated)
      g_hash_table_add(taken, g_strdup(iface->mac));
  }
  for (guint i = 0; i < n && i < nold; i++) {
    DomainInterface *iface = g_ptr_array_index(def->interfaces, i);
    const DomainInterface *prev = g_ptr_array_index(old->interfaces, i);
    if (!iface->mac_generated || prev->type != iface->type || !prev->mac[0] ||
        g_hash_table_contains(taken, prev->mac))
      continue;
    memcpy(iface->mac, prev->mac, sizeof(iface->mac));
    g_hash_table_add(taken, g_strdup(iface->mac));
    inherited[i] = true;
  }
  /* The parser made generated MACs unique among themselves and the written
   * ones; only an inherited one can now equal one of them. */
  for (guint i = 0; i < n; i++) {
    DomainInterface *iface = g_ptr_array_index(def->interfaces, i);
    if (!iface->mac_generated || inherited[i])
      continue;
    while (g_hash_table_contains(taken, iface->mac)) {
      guint32 v = g_random_int();
      g_snprintf(iface->mac, sizeof(iface->mac), "52:54:00:%02x:%02x:%02x",
                 (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    }
    g_hash_table_add(taken, g_strdup(iface->mac));
  }
}

/* The PCI buses the devices of `def` sit on (bit N: bus N, N < 32). */
static guint32 pci_buses_in_use(const DomainDef *def) {
  guint32 used = 0;
  for (guint i = 0; i < def->disks->len; i++) {
    const DeviceAddress *a = &((DomainDisk *)def->disks->pdata[i])->address;
    if (a->type == DEVICE_ADDRESS_PCI && a->bus < 32)
      used |= 1u << a->bus;
  }
  for (guint i = 0; i < def->interfaces->len; i++) {
    const DeviceAddress *a = &((DomainInterface *)def->interfaces->pdata[i])->address;
    if (a->type == DEVICE_ADDRESS_PCI && a->bus < 32)
      used |= 1u << a->bus;
  }
  for (guint i = 0; i < def->controllers->len; i++) {
    const DeviceAddress *a = &((DomainController *)def->controllers->pdata[i])->address;
    if (a->type == DEVICE_ADDRESS_PCI && a->bus < 32)
      used |= 1u << a->bus;
  }
  return used;
}

unsigned domain_def_add_spare_root_ports(DomainDef *def, unsigned want) {
  if (!def->os.machine || !strstr(def->os.machine, "q35"))
    return 0;
  guint32 used = pci_buses_in_use(def), taken = 1; /* index 0: the root */
  unsigned spare = 0;
  for (guint i = 0; i < def->controllers->len; i++) {
    const DomainController *c = def->controllers->pdata[i];
    if (c->type != CONTROLLER_PCI || c->index >= 32)
      continue;
    taken |= 1u << c->index;
    if (g_strcmp0(c->model, "pcie-root-port") == 0 && !(used & (1u << c->index)))
      spare++;
  }
  unsigned added = 0;
  for (unsigned idx = 1; spare + added < want && idx < 32; idx++) {
    if (taken & (1u << idx))
      continue;
    DomainController *c = g_new0(DomainController, 1);
    c->type = CONTROLLER_PCI;
    c->index = idx;
    c->model = g_strdup("pcie-root-port");
    g_ptr_array_add(def->controllers, c);
    added++;
  }
  return added;
}
