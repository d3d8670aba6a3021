/* qemu_argv.c — the QEMU command line for a domain definition; the
 * contract (what the daemon must do with it, object ids, escaping) is in
 * qemu_argv.h.
 *
 * The builder walks the definition once to plan (resolve drive addresses,
 * reserve explicit PCI slots, find which controllers devices need, assign
 * boot indexes) and once to emit, in a fixed order: global options,
 * controllers (so buses exist before the devices that use them), disks,
 * interfaces, serial ports and consoles, video, inputs, balloon, RNGs. The
 * first error is kept ("sticky") and the rest of the walk is harmless, which
 * keeps each emitter a straight line.
 */
#include "drivers/qemu/qemu_argv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#define PCI_SLOTS 32
/* Controller indexes are tracked in 32-bit masks; nobody needs 32 SCSI
 * controllers. */
#define CONTROLLER_INDEX_MAX 31
#define ISA_SERIAL_PORTS 4
#define SATA_PORTS 6
#define SCSI_TARGET_MAX 255
#define SCSI_LUN_MAX 16383
#define VNC_PORT_BASE 5900

typedef struct {
  /* drive address after defaults from the target name */
  unsigned controller, bus, target, unit;
  unsigned bootindex; /* 0 = none */
} DiskPlan;

typedef struct {
  const DomainDef *def;
  const QemuArgvConfig *cfg;
  GPtrArray *argv;
  int err; /* first error, 0 while none */
  char *error;

  bool q35;
  const char *pci_bus;
  uint32_t slots_used;

  DiskPlan *disks;
  unsigned *net_bootindex;

  /* controller indexes (bit N = index N) defined in the XML and needed */
  uint32_t usb_defined, scsi_defined, sata_defined, vserial_defined;
  uint32_t scsi_needed, sata_needed;
  bool usb0_none, usb_needed, vserial_needed;
} Builder;

static void G_GNUC_PRINTF(3, 4) fail(Builder *b, int err, const char *fmt, ...) {
  if (b->err)
    return;
  va_list ap;
  va_start(ap, fmt);
  b->error = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  b->err = err;
}

/* ---- escaping ---- */

void qemu_opt_escape_append(GString *buf, const char *value) {
  for (const char *p = value; *p; p++) {
    if (*p == ',')
      g_string_append_c(buf, ',');
    g_string_append_c(buf, *p);
  }
}

void qemu_opt_append(GString *buf, const char *key, const char *value) {
  if (buf->len > 0)
    g_string_append_c(buf, ',');
  g_string_append(buf, key);
  g_string_append_c(buf, '=');
  qemu_opt_escape_append(buf, value);
}

bool qemu_value_is_safe(const char *value) {
  if (!value || !g_utf8_validate(value, -1, NULL))
    return false;
  for (const unsigned char *p = (const unsigned char *)value; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return false;
  return true;
}

/* ---- argv and option strings ---- */

static void arg(Builder *b, const char *a) {
  g_ptr_array_add(b->argv, g_strdup(a));
}

/* Adds `option` and the option string `s`, consuming `s`. */
static void arg_opts(Builder *b, const char *option, GString *s) {
  arg(b, option);
  g_ptr_array_add(b->argv, g_string_free(s, FALSE));
}

/* The option string's leading implied value (a driver or backend name of
 * ours, never from the definition). */
static GString *opts_new(const char *first) {
  return g_string_new(first);
}

/* `what` names the value in sentences ("disk 'vda': source"). A value that
 * fails is never printed, since it may hold control characters. */
static bool check_value(Builder *b, const char *what, const char *value) {
  if (!value || !*value) {
    fail(b, -EINVAL, "%s is empty", what);
    return false;
  }
  if (!qemu_value_is_safe(value)) {
    fail(b, -EINVAL, "%s contains a control character or is not valid UTF-8", what);
    return false;
  }
  return true;
}

static bool check_path(Builder *b, const char *what, const char *path) {
  if (!check_value(b, what, path))
    return false;
  if (path[0] != '/') {
    fail(b, -EINVAL, "%s '%s' is not an absolute path", what, path);
    return false;
  }
  return true;
}

/* A value from the definition: checked, then escaped. */
static void opt_str(Builder *b, GString *s, const char *key, const char *what, const char *value) {
  if (check_value(b, what, value))
    qemu_opt_append(s, key, value);
}

static void opt_path(Builder *b, GString *s, const char *key, const char *what, const char *path) {
  if (check_path(b, what, path))
    qemu_opt_append(s, key, path);
}

/* A value of ours (numbers, ids); escaped all the same. */
static void G_GNUC_PRINTF(3, 4) optf(GString *s, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *v = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  qemu_opt_append(s, key, v);
}

/* Names that go into sentences: the XML's own words where they are safe. */
static char *disk_label(const DomainDisk *d, size_t i) {
  if (d->target_dev && qemu_value_is_safe(d->target_dev))
    return g_strdup_printf("disk '%s'", d->target_dev);
  return g_strdup_printf("disk %zu", i);
}

static const char *address_type_name(DeviceAddressType t) {
  switch (t) {
  case DEVICE_ADDRESS_NONE: return "none";
  case DEVICE_ADDRESS_PCI: return "pci";
  case DEVICE_ADDRESS_DRIVE: return "drive";
  case DEVICE_ADDRESS_ISA: return "isa";
  }
  return "unknown";
}

/* ---- PCI ---- */

static void pci_reserve(Builder *b, const DeviceAddress *a) {
  if (a->type == DEVICE_ADDRESS_PCI && a->slot < PCI_SLOTS)
    b->slots_used |= 1u << a->slot;
}

static bool pci_slot_reserved(const Builder *b, unsigned slot) {
  /* 0: host bridge; pc 1: PIIX3 (ISA, IDE, PM); q35 0x1f: ICH9 (LPC,
   * AHCI, SMBus). Explicit addresses may still use functions there, as
   * libvirt's own XML does for the PIIX3 USB controller at 01.2. */
  return slot == 0 || (!b->q35 && slot == 1) || (b->q35 && slot == 0x1f);
}

/* Appends bus= and addr= for a PCI device: its <address> or the lowest free
 * slot. */
static void opt_pci(Builder *b, GString *s, const char *label, const DeviceAddress *a) {
  switch (a->type) {
  case DEVICE_ADDRESS_NONE:
    for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
      if (pci_slot_reserved(b, slot) || (b->slots_used & (1u << slot)))
        continue;
      b->slots_used |= 1u << slot;
      qemu_opt_append(s, "bus", b->pci_bus);
      optf(s, "addr", "0x%x", slot);
      return;
    }
    fail(b, -ENOSPC, "%s: no PCI slot is left on bus 0 (PCI bridges are not supported)", label);
    return;
  case DEVICE_ADDRESS_PCI:
    if (a->domain != 0 || a->bus != 0) {
      fail(b, -EOPNOTSUPP, "%s: PCI domain %u bus %u does not exist: only bus 0 is supported",
           label, a->domain, a->bus);
      return;
    }
    if (a->slot == 0 || a->slot >= PCI_SLOTS || a->function > 7) {
      fail(b, -EINVAL,
           "%s: PCI slot 0x%x function %u is out of range (slot 0x1..0x1f, function 0..7)",
           label, a->slot, a->function);
      return;
    }
    qemu_opt_append(s, "bus", b->pci_bus);
    if (a->function)
      optf(s, "addr", "0x%x.0x%x", a->slot, a->function);
    else
      optf(s, "addr", "0x%x", a->slot);
    if (a->multifunction)
      qemu_opt_append(s, "multifunction", "on");
    return;
  case DEVICE_ADDRESS_DRIVE:
  case DEVICE_ADDRESS_ISA:
    break;
  }
  fail(b, -EINVAL, "%s: an address of type '%s' is not valid on a PCI device", label,
       address_type_name(a->type));
}

static bool check_no_address(Builder *b, const char *label, const DeviceAddress *a) {
  if (a->type == DEVICE_ADDRESS_NONE)
    return true;
  fail(b, -EINVAL, "%s: an address of type '%s' is not valid here", label,
       address_type_name(a->type));
  return false;
}

/* ---- global options ---- */

static bool machine_is_q35(const char *m) {
  return strcmp(m, "q35") == 0 || g_str_has_prefix(m, "pc-q35-");
}

static bool machine_is_i440fx(const char *m) {
  /* "pc", "pc-i440fx-7.2" and the old aliases "pc-1.0" etc. */
  return strcmp(m, "pc") == 0 || g_str_has_prefix(m, "pc-i440fx-") ||
         (g_str_has_prefix(m, "pc-") && g_ascii_isdigit(m[3]));
}

/* Model and machine names: -cpu splits at commas without QEMU's escape, so
 * these are held to a plain character set. */
static bool is_plain_name(const char *s) {
  if (!s || !*s)
    return false;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
      return false;
  return strcmp(s, "help") != 0;
}

static bool uuid_is_valid(const char *u) {
  if (strlen(u) != 36)
    return false;
  for (int i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? u[i] != '-' : !g_ascii_isxdigit(u[i]))
      return false;
  }
  return true;
}

static const char *lifecycle_name(DomainLifecycleAction a) {
  switch (a) {
  case DOMAIN_LIFECYCLE_DESTROY: return "destroy";
  case DOMAIN_LIFECYCLE_RESTART: return "restart";
  case DOMAIN_LIFECYCLE_PRESERVE: return "preserve";
  case DOMAIN_LIFECYCLE_RENAME_RESTART: return "rename-restart";
  }
  return "unknown";
}

static void build_machine(Builder *b) {
  const DomainDef *def = b->def;
  const char *machine = def->os.machine ? def->os.machine : "pc";

  GString *s = opts_new("");
  opt_str(b, s, "type", "the machine type", machine);
  if (def->virt_type == DOMAIN_VIRT_KVM)
    qemu_opt_append(s, "accel", "kvm");
  else
    qemu_opt_append(s, "accel", "tcg");
  /* Guest RAM stays out of QEMU's core dumps. */
  qemu_opt_append(s, "dump-guest-core", "off");
  /* -no-acpi is deprecated since 7.2; the machine property replaces it. */
  if (!def->features.acpi)
    qemu_opt_append(s, "acpi", "off");
  arg_opts(b, "-machine", s);
}

static void build_cpu(Builder *b) {
  const DomainDef *def = b->def;
  bool kvm = def->virt_type == DOMAIN_VIRT_KVM;
  const char *model = NULL;

  switch (def->cpu.mode) {
  case DOMAIN_CPU_MODE_NONE:
    break;
  case DOMAIN_CPU_MODE_CUSTOM:
    if (def->cpu.model && !is_plain_name(def->cpu.model)) {
      fail(b, -EINVAL, "the CPU model may only contain letters, digits, '.', '_' and '-'");
      return;
    }
    model = def->cpu.model;
    break;
  case DOMAIN_CPU_MODE_HOST_MODEL:
    /* host-model promises the most capable CPU the hypervisor offers that
     * resembles the host: under TCG that is "max". Under KVM, "host" is the
     * closest QEMU can do without a CPU model database. */
    model = kvm ? "host" : "max";
    break;
  case DOMAIN_CPU_MODE_HOST_PASSTHROUGH:
    /* host-passthrough promises the host's exact CPU, which only KVM can
     * give; silently emulating something else would break that promise. */
    if (!kvm) {
      fail(b, -EOPNOTSUPP,
           "<cpu mode='host-passthrough'> needs KVM and this domain is type 'qemu': "
           "use <cpu mode='maximum'/> or <cpu mode='host-model'/>");
      return;
    }
    model = "host";
    break;
  case DOMAIN_CPU_MODE_MAXIMUM:
    model = "max";
    break;
  }
  if (model) {
    arg(b, "-cpu");
    arg(b, model);
  }
}

static void build_smp(Builder *b) {
  const DomainDef *def = b->def;
  const DomainCpu *cpu = &def->cpu;
  unsigned max = def->vcpus;
  unsigned current = def->vcpus_current ? def->vcpus_current : max;

  if (max == 0) {
    fail(b, -EINVAL, "the domain has no vCPU");
    return;
  }
  if (current > max) {
    fail(b, -EINVAL, "vcpu current='%u' is more than the %u vCPUs of the domain", current, max);
    return;
  }
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "%u", current);
  if (current < max)
    optf(s, "maxcpus", "%u", max);
  if (cpu->sockets || cpu->dies || cpu->cores || cpu->threads) {
    unsigned dies = cpu->dies ? cpu->dies : 1;
    if (!cpu->sockets || !cpu->cores || !cpu->threads) {
      fail(b, -EINVAL, "<topology> needs sockets, cores and threads");
    } else if ((uint64_t)cpu->sockets * dies * cpu->cores * cpu->threads != max) {
      fail(b, -EINVAL,
           "<topology> gives %" PRIu64 " vCPUs (sockets x dies x cores x threads) "
           "but <vcpu> is %u", (uint64_t)cpu->sockets * dies * cpu->cores * cpu->threads, max);
    }
    optf(s, "sockets", "%u", cpu->sockets);
    optf(s, "dies", "%u", dies);
    optf(s, "cores", "%u", cpu->cores);
    optf(s, "threads", "%u", cpu->threads);
  }
  arg_opts(b, "-smp", s);
}

static void build_global(Builder *b) {
  const DomainDef *def = b->def;
  const QemuArgvConfig *cfg = b->cfg;
  GString *s;

  s = opts_new("");
  opt_str(b, s, "guest", "the domain name", def->name);
  qemu_opt_append(s, "debug-threads", "on");
  arg_opts(b, "-name", s);

  /* Paused until the daemon has attached to QMP and the console. */
  arg(b, "-S");
  arg(b, "-msg");
  arg(b, "timestamp=on");
  arg(b, "-no-user-config");
  arg(b, "-nodefaults");
  /* QEMU may not exec anything, gain privileges or use obsolete syscalls:
   * taps come as fds, so nothing needs a helper. */
  arg(b, "-sandbox");
  arg(b, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");

  s = opts_new("socket");
  qemu_opt_append(s, "id", "charmonitor");
  opt_path(b, s, "path", "the QMP socket path", cfg->qmp_socket_path);
  qemu_opt_append(s, "server", "on");
  qemu_opt_append(s, "wait", "off");
  arg_opts(b, "-chardev", s);
  arg(b, "-mon");
  arg(b, "chardev=charmonitor,id=monitor,mode=control");

  if (cfg->pid_file && check_path(b, "the pid file path", cfg->pid_file)) {
    arg(b, "-pidfile");
    arg(b, cfg->pid_file);
  }

  build_machine(b);
  build_cpu(b);

  if (def->memory_kib == 0) {
    fail(b, -EINVAL, "the domain has no memory");
  } else {
    arg(b, "-m");
    g_ptr_array_add(b->argv, g_strdup_printf("size=%" PRIu64 "k", def->memory_kib));
  }
  build_smp(b);

  if (def->uuid[0]) {
    if (!uuid_is_valid(def->uuid)) {
      fail(b, -EINVAL, "the UUID is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
    } else {
      arg(b, "-uuid");
      arg(b, def->uuid);
    }
  }

  arg(b, "-rtc");
  arg(b, def->clock == DOMAIN_CLOCK_LOCALTIME ? "base=localtime" : "base=utc");

  /* Lifecycle: see the header. */
  const DomainLifecycleAction *acts[] = {&def->on_poweroff, &def->on_reboot, &def->on_crash};
  const char *act_names[] = {"on_poweroff", "on_reboot", "on_crash"};
  for (size_t i = 0; i < G_N_ELEMENTS(acts); i++)
    if (*acts[i] == DOMAIN_LIFECYCLE_RENAME_RESTART)
      fail(b, -EOPNOTSUPP, "<%s>%s</%s> is not supported by the QEMU driver", act_names[i],
           lifecycle_name(*acts[i]), act_names[i]);
  arg(b, "-no-shutdown");
  if (def->on_reboot != DOMAIN_LIFECYCLE_RESTART)
    arg(b, "-no-reboot");

  if (def->os.bootmenu_set) {
    arg(b, "-boot");
    arg(b, def->os.bootmenu ? "menu=on" : "menu=off");
  }

  /* Direct kernel boot: QEMU stores these three as they are (no option
   * parsing), so they are not escaped. */
  if (def->os.kernel) {
    if (check_path(b, "the kernel path", def->os.kernel)) {
      arg(b, "-kernel");
      arg(b, def->os.kernel);
    }
    if (def->os.initrd && check_path(b, "the initrd path", def->os.initrd)) {
      if (strchr(def->os.initrd, ',')) {
        fail(b, -EINVAL, "the initrd path contains ',', which QEMU's multiboot loader reads "
                         "as a separator");
      } else {
        arg(b, "-initrd");
        arg(b, def->os.initrd);
      }
    }
    if (def->os.cmdline && *def->os.cmdline &&
        check_value(b, "the kernel command line", def->os.cmdline)) {
      arg(b, "-append");
      arg(b, def->os.cmdline);
    }
  } else if (def->os.initrd || def->os.cmdline) {
    fail(b, -EINVAL, "<initrd> and <cmdline> need a <kernel>");
  }
}

/* ---- planning ---- */

/* "vda" → 0, "hdc" → 2, "sdaa" → 26, as libvirt numbers disks. */
static bool disk_name_index(const char *name, const char *prefix, unsigned *ret_index) {
  if (!name || !g_str_has_prefix(name, prefix))
    return false;
  const char *p = name + strlen(prefix);
  size_t n = strlen(p);
  if (n == 0 || n > 3)
    return false;
  unsigned idx = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < 'a' || p[i] > 'z')
      return false;
    idx = (i == 0 ? 0 : (idx + 1) * 26) + (unsigned)(p[i] - 'a');
  }
  *ret_index = idx;
  return true;
}

static bool plan_drive_address(Builder *b, const DomainDisk *d, const char *label, DiskPlan *p) {
  const DeviceAddress *a = &d->address;
  const char *prefix = d->target_bus == DISK_BUS_IDE ? "hd" : "sd";
  unsigned idx = 0;

  if (a->type == DEVICE_ADDRESS_DRIVE) {
    p->controller = a->controller;
    p->bus = a->drive_bus;
    p->target = a->target;
    p->unit = a->unit;
  } else if (a->type == DEVICE_ADDRESS_NONE) {
    if (!disk_name_index(d->target_dev, prefix, &idx)) {
      fail(b, -EINVAL, "%s: without an <address>, the target dev must be %s<letters>", label,
           prefix);
      return false;
    }
  } else {
    fail(b, -EINVAL, "%s: an address of type '%s' is not valid on this bus", label,
         address_type_name(a->type));
    return false;
  }

  switch (d->target_bus) {
  case DISK_BUS_IDE:
    if (a->type == DEVICE_ADDRESS_NONE) {
      p->controller = 0;
      p->bus = idx / 2;
      p->unit = idx % 2;
    }
    if (p->controller != 0 || p->bus > 1 || p->unit > 1 || p->target != 0) {
      fail(b, -EINVAL, "%s: IDE has controller 0, buses 0-1 and units 0-1 only", label);
      return false;
    }
    return true;
  case DISK_BUS_SATA:
    if (a->type == DEVICE_ADDRESS_NONE) {
      p->controller = idx / SATA_PORTS;
      p->unit = idx % SATA_PORTS;
    }
    if (p->controller > CONTROLLER_INDEX_MAX || p->bus != 0 || p->target != 0 ||
        p->unit >= SATA_PORTS) {
      fail(b, -EINVAL, "%s: a SATA address has bus 0, target 0 and units (ports) 0-%d", label,
           SATA_PORTS - 1);
      return false;
    }
    b->sata_needed |= 1u << p->controller;
    return true;
  case DISK_BUS_SCSI:
    if (a->type == DEVICE_ADDRESS_NONE)
      p->unit = idx;
    if (p->controller > CONTROLLER_INDEX_MAX || p->bus != 0 || p->target > SCSI_TARGET_MAX ||
        p->unit > SCSI_LUN_MAX) {
      fail(b, -EINVAL, "%s: a SCSI address has bus 0, targets 0-%d and units 0-%d", label,
           SCSI_TARGET_MAX, SCSI_LUN_MAX);
      return false;
    }
    b->scsi_needed |= 1u << p->controller;
    return true;
  case DISK_BUS_VIRTIO:
    break;
  }
  return false;
}

static void plan_disks(Builder *b) {
  const GPtrArray *disks = b->def->disks;
  for (guint i = 0; disks && i < disks->len; i++) {
    const DomainDisk *d = disks->pdata[i];
    g_autofree char *label = disk_label(d, i);
    bool cdrom = d->device == DISK_DEVICE_CDROM;
    switch (d->target_bus) {
    case DISK_BUS_VIRTIO:
      if (cdrom)
        fail(b, -EOPNOTSUPP, "%s: a cdrom cannot be on bus 'virtio': use 'sata', 'scsi' or 'ide'",
             label);
      pci_reserve(b, &d->address);
      break;
    case DISK_BUS_IDE:
      if (b->q35)
        fail(b, -EOPNOTSUPP, "%s: q35 machines have no IDE bus: use bus 'sata'", label);
      G_GNUC_FALLTHROUGH;
    case DISK_BUS_SATA:
      if (d->readonly && !cdrom)
        fail(b, -EOPNOTSUPP, "%s: QEMU's IDE/SATA hard disks cannot be read-only: use bus "
                             "'virtio' or 'scsi', or a cdrom", label);
      G_GNUC_FALLTHROUGH;
    case DISK_BUS_SCSI:
      plan_drive_address(b, d, label, &b->disks[i]);
      break;
    default:
      fail(b, -EINVAL, "%s: unknown bus", label);
    }
  }
}

static void set_bootindex(Builder *b, unsigned *slot, unsigned order, uint64_t *seen,
                          const char *label) {
  if (order == 0)
    return;
  if (order <= 64) {
    if (*seen & (1ull << (order - 1)))
      fail(b, -EINVAL, "%s: boot order %u is used twice", label, order);
    *seen |= 1ull << (order - 1);
  }
  *slot = order;
}

/* Boot order becomes bootindex properties: per-device <boot order>, or
 * <os><boot dev> mapped onto the first device of each kind as libvirt does
 * (so the order holds for any firmware, not just SeaBIOS's CMOS list). */
static void plan_boot(Builder *b) {
  const DomainDef *def = b->def;
  const GPtrArray *disks = def->disks, *ifaces = def->interfaces;
  bool per_device = false;
  uint64_t seen = 0;

  for (guint i = 0; disks && i < disks->len; i++) {
    const DomainDisk *d = disks->pdata[i];
    g_autofree char *label = disk_label(d, i);
    per_device |= d->boot_order != 0;
    set_bootindex(b, &b->disks[i].bootindex, d->boot_order, &seen, label);
  }
  for (guint i = 0; ifaces && i < ifaces->len; i++) {
    const DomainInterface *n = ifaces->pdata[i];
    g_autofree char *label = g_strdup_printf("interface %u", i);
    per_device |= n->boot_order != 0;
    set_bootindex(b, &b->net_bootindex[i], n->boot_order, &seen, label);
  }
  if (per_device && def->os.nboot > 0) {
    fail(b, -EINVAL, "<os><boot dev=...> and per-device <boot order=...> cannot be used together");
    return;
  }

  for (size_t k = 0; k < def->os.nboot && k < DOMAIN_MAX_BOOT_DEVS; k++) {
    unsigned order = (unsigned)k + 1;
    switch (def->os.boot[k]) {
    case DOMAIN_BOOT_HD:
    case DOMAIN_BOOT_CDROM: {
      DiskDevice want = def->os.boot[k] == DOMAIN_BOOT_HD ? DISK_DEVICE_DISK : DISK_DEVICE_CDROM;
      for (guint i = 0; disks && i < disks->len; i++) {
        const DomainDisk *d = disks->pdata[i];
        if (d->device == want) {
          if (!b->disks[i].bootindex)
            b->disks[i].bootindex = order;
          break;
        }
      }
      break;
    }
    case DOMAIN_BOOT_NETWORK:
      if (ifaces && ifaces->len > 0 && !b->net_bootindex[0])
        b->net_bootindex[0] = order;
      break;
    case DOMAIN_BOOT_FD:
      /* no floppy drives exist in virtfs definitions */
      break;
    }
  }
}

static void plan(Builder *b) {
  const DomainDef *def = b->def;

  for (guint i = 0; def->controllers && i < def->controllers->len; i++)
    pci_reserve(b, &((const DomainController *)def->controllers->pdata[i])->address);
  for (guint i = 0; def->interfaces && i < def->interfaces->len; i++)
    pci_reserve(b, &((const DomainInterface *)def->interfaces->pdata[i])->address);
  for (guint i = 0; def->videos && i < def->videos->len; i++)
    pci_reserve(b, &((const DomainVideo *)def->videos->pdata[i])->address);
  for (guint i = 0; def->inputs && i < def->inputs->len; i++) {
    const DomainInput *in = def->inputs->pdata[i];
    pci_reserve(b, &in->address);
    if (in->bus == INPUT_BUS_USB)
      b->usb_needed = true;
  }
  for (guint i = 0; def->rngs && i < def->rngs->len; i++)
    pci_reserve(b, &((const DomainRng *)def->rngs->pdata[i])->address);
  if (def->memballoon.present && def->memballoon.model == MEMBALLOON_VIRTIO)
    pci_reserve(b, &def->memballoon.address);
  for (guint i = 0; def->consoles && i < def->consoles->len; i++) {
    const DomainChardev *c = def->consoles->pdata[i];
    if (c->target_type && strcmp(c->target_type, "virtio") == 0)
      b->vserial_needed = true;
  }
  plan_disks(b);
  plan_boot(b);
}

/* ---- controllers ---- */

static const char *usb_device(const Builder *b, const char *model) {
  if (!model)
    return b->q35 ? "qemu-xhci" : "piix3-usb-uhci";
  static const char *const map[][2] = {
    {"piix3-uhci", "piix3-usb-uhci"}, {"piix4-uhci", "piix4-usb-uhci"},
    {"ehci", "usb-ehci"},             {"ich9-ehci1", "ich9-usb-ehci1"},
    {"pci-ohci", "pci-ohci"},         {"nec-xhci", "nec-usb-xhci"},
    {"qemu-xhci", "qemu-xhci"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
    if (strcmp(model, map[i][0]) == 0)
      return map[i][1];
  return NULL;
}

static void emit_controller_device(Builder *b, const char *device, const char *id,
                                   const char *label, const DeviceAddress *a) {
  GString *s = opts_new(device);
  qemu_opt_append(s, "id", id);
  opt_pci(b, s, label, a);
  arg_opts(b, "-device", s);
}

static void build_controllers(Builder *b) {
  const GPtrArray *ctrls = b->def->controllers;
  static const DeviceAddress no_address = {.type = DEVICE_ADDRESS_NONE};

  for (guint i = 0; ctrls && i < ctrls->len; i++) {
    const DomainController *c = ctrls->pdata[i];
    const char *model = c->model;
    g_autofree char *label = g_strdup_printf("controller %u (index %u)", i, c->index);
    g_autofree char *id = NULL;

    if (c->index > CONTROLLER_INDEX_MAX) {
      fail(b, -EOPNOTSUPP, "%s: controller indexes above %d are not supported", label,
           CONTROLLER_INDEX_MAX);
      return;
    }
    uint32_t bit = 1u << c->index;
    switch (c->type) {
    case CONTROLLER_USB: {
      if (model && strcmp(model, "none") == 0) {
        if (c->index == 0)
          b->usb0_none = true;
        break;
      }
      const char *dev = usb_device(b, model);
      if (!dev) {
        fail(b, -EOPNOTSUPP, "%s: USB controller models are piix3-uhci, piix4-uhci, ehci, "
                             "ich9-ehci1, pci-ohci, nec-xhci, qemu-xhci and none", label);
        break;
      }
      id = c->index == 0 ? g_strdup("usb") : g_strdup_printf("usb%u", c->index);
      emit_controller_device(b, dev, id, label, &c->address);
      b->usb_defined |= bit;
      break;
    }
    case CONTROLLER_IDE:
      if (b->q35)
        fail(b, -EOPNOTSUPP, "%s: q35 machines have no IDE controller: use a SATA one", label);
      else if (c->index != 0 || (model && strcmp(model, "piix3") != 0))
        fail(b, -EOPNOTSUPP, "%s: pc machines have one IDE controller, the built-in piix3 "
                             "(index 0)", label);
      break;
    case CONTROLLER_PCI: {
      const char *root = b->q35 ? "pcie-root" : "pci-root";
      if (c->index != 0 || (model && strcmp(model, root) != 0))
        fail(b, -EOPNOTSUPP, "%s: only the %s controller (index 0) is supported on this machine",
             label, root);
      break;
    }
    case CONTROLLER_SATA:
      b->sata_defined |= bit;
      if (b->q35 && c->index == 0)
        break; /* the ICH9 AHCI built into q35, named "ide" */
      id = g_strdup_printf("sata%u", c->index);
      emit_controller_device(b, "ich9-ahci", id, label, &c->address);
      break;
    case CONTROLLER_SCSI:
      if (model && strcmp(model, "virtio-scsi") != 0) {
        fail(b, -EOPNOTSUPP, "%s: the only SCSI controller model is virtio-scsi", label);
        break;
      }
      id = g_strdup_printf("scsi%u", c->index);
      emit_controller_device(b, "virtio-scsi-pci", id, label, &c->address);
      b->scsi_defined |= bit;
      break;
    case CONTROLLER_VIRTIO_SERIAL: {
      const char *dev = "virtio-serial-pci";
      if (model && strcmp(model, "virtio-transitional") == 0)
        dev = "virtio-serial-pci-transitional";
      else if (model && strcmp(model, "virtio-non-transitional") == 0)
        dev = "virtio-serial-pci-non-transitional";
      else if (model && strcmp(model, "virtio") != 0) {
        fail(b, -EOPNOTSUPP, "%s: virtio-serial models are virtio, virtio-transitional and "
                             "virtio-non-transitional", label);
        break;
      }
      id = g_strdup_printf("virtio-serial%u", c->index);
      emit_controller_device(b, dev, id, label, &c->address);
      b->vserial_defined |= bit;
      break;
    }
    }
  }

  /* Controllers the devices need but the definition leaves out, as libvirt
   * would add them. */
  if (b->usb_needed && !(b->usb_defined & 1u)) {
    if (b->usb0_none)
      fail(b, -EINVAL, "a USB input device needs a USB controller, but the USB controller "
                       "has model 'none'");
    else
      emit_controller_device(b, usb_device(b, NULL), "usb", "the USB controller", &no_address);
  }
  for (unsigned idx = 0; idx <= CONTROLLER_INDEX_MAX; idx++) {
    uint32_t bit = 1u << idx;
    if ((b->sata_needed & bit) && !(b->sata_defined & bit) && !(b->q35 && idx == 0)) {
      g_autofree char *id = g_strdup_printf("sata%u", idx);
      emit_controller_device(b, "ich9-ahci", id, id, &no_address);
    }
    if ((b->scsi_needed & bit) && !(b->scsi_defined & bit)) {
      g_autofree char *id = g_strdup_printf("scsi%u", idx);
      emit_controller_device(b, "virtio-scsi-pci", id, id, &no_address);
    }
  }
  if (b->vserial_needed && !(b->vserial_defined & 1u))
    emit_controller_device(b, "virtio-serial-pci", "virtio-serial0", "the virtio-serial controller",
                           &no_address);
}

/* ---- disks ---- */

static bool disk_source(Builder *b, const DomainDisk *d, const char *label, const char **ret_path,
                        bool *ret_block) {
  const QemuArgvConfig *cfg = b->cfg;
  const char *path = d->source;
  bool block = d->type == DISK_TYPE_BLOCK;

  if (d->type == DISK_TYPE_VOLUME) {
    const QemuArgvVolume *vol = NULL;
    path = NULL;
    if (!d->source_pool || !d->source_volume) {
      if (d->device != DISK_DEVICE_CDROM) {
        fail(b, -EINVAL, "%s: a volume disk needs a pool and a volume", label);
        return false;
      }
    } else {
      for (size_t i = 0; i < cfg->n_volumes && !vol; i++)
        if (g_strcmp0(cfg->volumes[i].pool, d->source_pool) == 0 &&
            g_strcmp0(cfg->volumes[i].volume, d->source_volume) == 0)
          vol = &cfg->volumes[i];
      if (!vol || !vol->path) {
        if (qemu_value_is_safe(d->source_pool) && qemu_value_is_safe(d->source_volume))
          fail(b, -ENOENT, "%s: volume '%s' of pool '%s' is not available", label,
               d->source_volume, d->source_pool);
        else
          fail(b, -ENOENT, "%s: its volume is not available", label);
        return false;
      }
      path = vol->path;
      block = vol->is_block;
    }
  }
  if (!path && d->device != DISK_DEVICE_CDROM) {
    fail(b, -EINVAL, "%s has no source (only a cdrom may be empty)", label);
    return false;
  }
  *ret_path = path;
  *ret_block = block;
  return true;
}

static void build_disk(Builder *b, const DomainDisk *d, size_t i) {
  g_autofree char *label = disk_label(d, i);
  g_autofree char *what = g_strdup_printf("%s: source", label);
  g_autofree char *file_node = g_strdup_printf("disk%zu-file", i);
  g_autofree char *format_node = g_strdup_printf("disk%zu-format", i);
  g_autofree char *id = g_strdup_printf("disk%zu", i);
  const DiskPlan *p = &b->disks[i];
  bool cdrom = d->device == DISK_DEVICE_CDROM;
  bool readonly = d->readonly || cdrom;
  const char *path = NULL;
  bool block = false;

  if (!disk_source(b, d, label, &path, &block))
    return;

  if (path) {
    /* Formats are always explicit: probing a raw image lets a guest that
     * writes a qcow2 header into it read host files on the next start. */
    GString *s = opts_new("");
    qemu_opt_append(s, "driver", !block ? "file" : cdrom ? "host_cdrom" : "host_device");
    opt_path(b, s, "filename", what, path);
    qemu_opt_append(s, "node-name", file_node);
    if (readonly)
      qemu_opt_append(s, "read-only", "on");
    arg_opts(b, "-blockdev", s);

    s = opts_new("");
    qemu_opt_append(s, "driver", d->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
    qemu_opt_append(s, "node-name", format_node);
    qemu_opt_append(s, "file", file_node);
    if (readonly)
      qemu_opt_append(s, "read-only", "on");
    arg_opts(b, "-blockdev", s);
  }

  GString *s = NULL;
  switch (d->target_bus) {
  case DISK_BUS_VIRTIO:
    s = opts_new("virtio-blk-pci");
    qemu_opt_append(s, "id", id);
    opt_pci(b, s, label, &d->address);
    break;
  case DISK_BUS_IDE:
    s = opts_new(cdrom ? "ide-cd" : "ide-hd");
    qemu_opt_append(s, "id", id);
    optf(s, "bus", "ide.%u", p->bus);
    optf(s, "unit", "%u", p->unit);
    break;
  case DISK_BUS_SATA:
    s = opts_new(cdrom ? "ide-cd" : "ide-hd");
    qemu_opt_append(s, "id", id);
    /* an AHCI port is a bus with one unit */
    if (b->q35 && p->controller == 0)
      optf(s, "bus", "ide.%u", p->unit);
    else
      optf(s, "bus", "sata%u.%u", p->controller, p->unit);
    break;
  case DISK_BUS_SCSI:
    s = opts_new(cdrom ? "scsi-cd" : "scsi-hd");
    qemu_opt_append(s, "id", id);
    optf(s, "bus", "scsi%u.0", p->controller);
    qemu_opt_append(s, "channel", "0");
    optf(s, "scsi-id", "%u", p->target);
    optf(s, "lun", "%u", p->unit);
    break;
  }
  if (!s) {
    fail(b, -EINVAL, "%s: unknown bus", label);
    return;
  }
  if (path)
    qemu_opt_append(s, "drive", format_node);
  if (d->serial) {
    g_autofree char *swhat = g_strdup_printf("%s: serial", label);
    opt_str(b, s, "serial", swhat, d->serial);
  }
  if (d->shareable)
    qemu_opt_append(s, "share-rw", "on");
  if (p->bootindex)
    optf(s, "bootindex", "%u", p->bootindex);
  arg_opts(b, "-device", s);
}

/* ---- interfaces ---- */

static bool mac_is_valid(const char *mac) {
  if (strlen(mac) != 17)
    return false;
  for (int i = 0; i < 17; i++) {
    if (i % 3 == 2 ? mac[i] != ':' : !g_ascii_isxdigit(mac[i]))
      return false;
  }
  /* the low bit of the first octet marks multicast */
  return (g_ascii_xdigit_value(mac[1]) & 1) == 0;
}

static const char *nic_device(const char *model) {
  /* libvirt's default NIC for x86 QEMU guests is rtl8139; keeping it makes
   * XML written for libvirt give the guest the same hardware. */
  if (!model || strcmp(model, "rtl8139") == 0)
    return "rtl8139";
  if (strcmp(model, "virtio") == 0)
    return "virtio-net-pci";
  if (strcmp(model, "e1000") == 0)
    return "e1000";
  if (strcmp(model, "e1000e") == 0)
    return "e1000e";
  /* libvirt's names that are QEMU's too */
  if (strcmp(model, "ne2k_pci") == 0 || strcmp(model, "pcnet") == 0 ||
      strcmp(model, "vmxnet3") == 0)
    return model;
  return NULL;
}

const char *qemu_argv_nic_device(const char *model) {
  return nic_device(model);
}

static void build_interface(Builder *b, const DomainInterface *n, size_t i) {
  const QemuArgvConfig *cfg = b->cfg;
  g_autofree char *label = g_strdup_printf("interface %zu", i);
  g_autofree char *netdev = g_strdup_printf("net%zu", i);
  g_autofree char *id = g_strdup_printf("nic%zu", i);
  int fd = i < cfg->n_tap_fds && cfg->tap_fds ? cfg->tap_fds[i] : -1;

  const char *device = nic_device(n->model);
  if (!device) {
    fail(b, -EOPNOTSUPP, "%s: interface models are virtio, e1000, e1000e, rtl8139, ne2k_pci, "
                             "pcnet and vmxnet3", label);
    return;
  }
  if (!mac_is_valid(n->mac)) {
    fail(b, -EINVAL, "%s: the MAC address is not a unicast aa:bb:cc:dd:ee:ff", label);
    return;
  }

  GString *s;
  if (n->type == INTERFACE_USER) {
    if (fd >= 0) {
      fail(b, -EINVAL, "%s is type 'user' but a tap fd was given for it", label);
      return;
    }
    s = opts_new("user");
    qemu_opt_append(s, "id", netdev);
  } else {
    /* The daemon creates the tap and attaches it to the bridge; QEMU only
     * gets the fd, so it needs no privileges and runs no scripts. */
    if (fd < 0) {
      fail(b, -EINVAL, "%s is type '%s' but no tap fd was given for it", label,
           n->type == INTERFACE_BRIDGE ? "bridge" : "network");
      return;
    }
    s = opts_new("tap");
    qemu_opt_append(s, "id", netdev);
    optf(s, "fd", "%d", fd);
  }
  arg_opts(b, "-netdev", s);

  s = opts_new(device);
  qemu_opt_append(s, "id", id);
  qemu_opt_append(s, "netdev", netdev);
  qemu_opt_append(s, "mac", n->mac);
  opt_pci(b, s, label, &n->address);
  if (b->net_bootindex[i])
    optf(s, "bootindex", "%u", b->net_bootindex[i]);
  arg_opts(b, "-device", s);
}

/* ---- serial ports and consoles ---- */

static void build_chardev(Builder *b, const char *id, const DomainChardev *c, const char *label,
                          bool console_socket) {
  g_autofree char *what = g_strdup_printf("%s: source path", label);
  GString *s;

  if (console_socket) {
    s = opts_new("socket");
    qemu_opt_append(s, "id", id);
    opt_path(b, s, "path", "the console socket path", b->cfg->console_socket_path);
    qemu_opt_append(s, "server", "on");
    qemu_opt_append(s, "wait", "off");
    arg_opts(b, "-chardev", s);
    return;
  }
  switch (c->type) {
  case CHARDEV_PTY:
    s = opts_new("pty");
    qemu_opt_append(s, "id", id);
    break;
  case CHARDEV_FILE:
    s = opts_new("file");
    qemu_opt_append(s, "id", id);
    opt_path(b, s, "path", what, c->source_path);
    break;
  case CHARDEV_UNIX:
    s = opts_new("socket");
    qemu_opt_append(s, "id", id);
    opt_path(b, s, "path", what, c->source_path);
    if (c->unix_listen) {
      qemu_opt_append(s, "server", "on");
      qemu_opt_append(s, "wait", "off");
    }
    break;
  default:
    fail(b, -EINVAL, "%s: unknown character device type", label);
    return;
  }
  arg_opts(b, "-chardev", s);
}

static void build_isa_serial(Builder *b, const DomainChardev *c, unsigned idx, const char *label,
                             bool console_socket) {
  const DeviceAddress *addr = &c->address;
  g_autofree char *chr = g_strdup_printf("charserial%u", idx);
  g_autofree char *id = g_strdup_printf("serial%u", idx);

  if (c->target_type && strcmp(c->target_type, "isa-serial") != 0 &&
      strcmp(c->target_type, "serial") != 0) {
    fail(b, -EOPNOTSUPP, "%s: the only serial target type is isa-serial", label);
    return;
  }
  if (c->target_port >= ISA_SERIAL_PORTS) {
    fail(b, -EINVAL, "%s: ISA serial ports are 0 to %d", label, ISA_SERIAL_PORTS - 1);
    return;
  }
  if (addr->type != DEVICE_ADDRESS_NONE && addr->type != DEVICE_ADDRESS_ISA) {
    fail(b, -EINVAL, "%s: an address of type '%s' is not valid on an ISA serial port", label,
         address_type_name(addr->type));
    return;
  }
  build_chardev(b, chr, c, label, console_socket);

  GString *s = opts_new("isa-serial");
  qemu_opt_append(s, "id", id);
  qemu_opt_append(s, "chardev", chr);
  optf(s, "index", "%u", c->target_port);
  if (addr->type == DEVICE_ADDRESS_ISA) {
    if (addr->iobase_set)
      optf(s, "iobase", "0x%x", addr->iobase);
    if (addr->irq_set)
      optf(s, "irq", "%u", addr->irq);
  }
  arg_opts(b, "-device", s);
}

static void build_serials_consoles(Builder *b) {
  const GPtrArray *serials = b->def->serials, *consoles = b->def->consoles;
  guint nserials = serials ? serials->len : 0;
  bool socket_pending = b->cfg->console_socket_path != NULL;

  for (guint i = 0; i < nserials; i++) {
    g_autofree char *label = g_strdup_printf("serial %u", i);
    build_isa_serial(b, serials->pdata[i], i, label, socket_pending);
    socket_pending = false;
  }
  for (guint i = 0; consoles && i < consoles->len; i++) {
    const DomainChardev *c = consoles->pdata[i];
    g_autofree char *label = g_strdup_printf("console %u", i);
    bool is_virtio = c->target_type && strcmp(c->target_type, "virtio") == 0;
    bool is_serial = !c->target_type || strcmp(c->target_type, "serial") == 0;

    if (is_serial) {
      /* As in libvirt, a serial console is another view of serial port 0. */
      if (i != 0) {
        fail(b, -EOPNOTSUPP, "%s: only the first console can be a serial console", label);
      } else if (nserials == 0) {
        build_isa_serial(b, c, 0, label, socket_pending);
        socket_pending = false;
      }
      continue;
    }
    if (!is_virtio) {
      fail(b, -EOPNOTSUPP, "%s: console target types are serial and virtio", label);
      continue;
    }
    g_autofree char *chr = g_strdup_printf("charconsole%u", i);
    g_autofree char *id = g_strdup_printf("console%u", i);
    build_chardev(b, chr, c, label, socket_pending);
    socket_pending = false;
    GString *s = opts_new("virtconsole");
    qemu_opt_append(s, "id", id);
    qemu_opt_append(s, "chardev", chr);
    qemu_opt_append(s, "bus", "virtio-serial0.0");
    arg_opts(b, "-device", s);
  }
}

/* ---- graphics, video, inputs, balloon, rng ---- */

static void build_graphics(Builder *b) {
  const GPtrArray *g = b->def->graphics;
  if (!g || g->len == 0) {
    arg(b, "-display");
    arg(b, "none");
    return;
  }
  if (g->len > 1) {
    fail(b, -EOPNOTSUPP, "only one <graphics> device is supported");
    return;
  }
  const DomainGraphicsVnc *v = g->pdata[0];
  const char *listen = v->listen ? v->listen : "127.0.0.1";
  /* An IP literal only: a name or "unix:..." would change what -vnc means. */
  if (!qemu_value_is_safe(listen) || !g_hostname_is_ip_address(listen)) {
    fail(b, -EINVAL, "the VNC listen address must be an IPv4 or IPv6 address");
    return;
  }
  GString *s = g_string_new(NULL);
  if (strchr(listen, ':')) {
    g_string_append_c(s, '[');
    qemu_opt_escape_append(s, listen);
    g_string_append_c(s, ']');
  } else {
    qemu_opt_escape_append(s, listen);
  }
  if (v->port < 0) {
    /* autoport: QEMU binds the first free display of 0..99 */
    g_string_append(s, ":0");
    qemu_opt_append(s, "to", "99");
  } else if (v->port < VNC_PORT_BASE || v->port > 65535) {
    g_string_free(s, TRUE);
    fail(b, -EINVAL, "the VNC port must be in 5900..65535 (or autoport)");
    return;
  } else {
    g_string_append_printf(s, ":%d", v->port - VNC_PORT_BASE);
  }
  arg_opts(b, "-vnc", s);
}

/* The first <video> is the primary, VGA-compatible adapter; the others are
 * secondary displays (libvirt's rule), which QEMU models as separate
 * devices. */
static void build_video_device(Builder *b, const DomainVideo *v, guint i) {
  g_autofree char *label = g_strdup_printf("video %u", i);
  g_autofree char *id = g_strdup_printf("video%u", i);
  bool primary = i == 0;
  const char *device = NULL;
  bool has_outputs = false;

  switch (v->model) {
  case VIDEO_NONE:
    fail(b, -EINVAL, "%s: a video of model 'none' must be the only one", label);
    return;
  case VIDEO_VGA: device = primary ? "VGA" : "secondary-vga"; break;
  case VIDEO_CIRRUS: device = primary ? "cirrus-vga" : NULL; break;
  case VIDEO_VIRTIO: device = primary ? "virtio-vga" : "virtio-gpu-pci"; has_outputs = true; break;
  case VIDEO_QXL: device = primary ? "qxl-vga" : "qxl"; has_outputs = true; break;
  case VIDEO_BOCHS: device = "bochs-display"; break;
  }
  if (!device) {
    fail(b, v->model == VIDEO_CIRRUS ? -EOPNOTSUPP : -EINVAL,
         v->model == VIDEO_CIRRUS ? "%s: cirrus can only be the first (primary) video"
                                  : "%s: unknown model", label);
    return;
  }
  if (v->heads > 1 && !has_outputs) {
    fail(b, -EOPNOTSUPP, "%s: only virtio and qxl video support more than one head", label);
    return;
  }
  GString *s = opts_new(device);
  qemu_opt_append(s, "id", id);
  if (v->vram) {
    switch (v->model) {
    case VIDEO_VGA:
    case VIDEO_CIRRUS:
      optf(s, "vgamem_mb", "%u", v->vram / 1024 ? v->vram / 1024 : 1);
      break;
    case VIDEO_QXL:
      if (v->vram > UINT32_MAX / 1024) {
        fail(b, -EINVAL, "%s: qxl vram is at most 4 GiB", label);
        break;
      }
      optf(s, "vram_size", "%u", v->vram * 1024);
      break;
    case VIDEO_BOCHS:
      optf(s, "vgamem", "%" PRIu64, (uint64_t)v->vram * 1024);
      break;
    default:
      break; /* virtio-vga has no VRAM size */
    }
  }
  if (has_outputs && v->heads)
    optf(s, "max_outputs", "%u", v->heads);
  opt_pci(b, s, label, &v->address);
  arg_opts(b, "-device", s);
}

static void build_video(Builder *b) {
  const GPtrArray *videos = b->def->videos;
  if (!videos || videos->len == 0)
    return;
  const DomainVideo *first = videos->pdata[0];
  if (videos->len == 1 && first->model == VIDEO_NONE)
    return;
  for (guint i = 0; i < videos->len; i++)
    build_video_device(b, videos->pdata[i], i);
}

static void build_inputs(Builder *b) {
  const GPtrArray *inputs = b->def->inputs;
  static const char *const usb_devs[] = {
    [INPUT_MOUSE] = "usb-mouse", [INPUT_KEYBOARD] = "usb-kbd", [INPUT_TABLET] = "usb-tablet"};
  static const char *const virtio_devs[] = {
    [INPUT_MOUSE] = "virtio-mouse-pci", [INPUT_KEYBOARD] = "virtio-keyboard-pci",
    [INPUT_TABLET] = "virtio-tablet-pci"};

  for (guint i = 0; inputs && i < inputs->len; i++) {
    const DomainInput *in = inputs->pdata[i];
    g_autofree char *label = g_strdup_printf("input %u", i);
    g_autofree char *id = g_strdup_printf("input%u", i);
    if ((unsigned)in->type > INPUT_TABLET) {
      fail(b, -EINVAL, "%s: unknown type", label);
      return;
    }
    GString *s;
    switch (in->bus) {
    case INPUT_BUS_PS2:
      /* The i8042 with its PS/2 mouse and keyboard is part of pc and q35. */
      if (in->type == INPUT_TABLET)
        fail(b, -EOPNOTSUPP, "%s: PS/2 has no tablet: use bus 'usb' or 'virtio'", label);
      else
        check_no_address(b, label, &in->address);
      continue;
    case INPUT_BUS_USB:
      if (!check_no_address(b, label, &in->address))
        continue;
      s = opts_new(usb_devs[in->type]);
      qemu_opt_append(s, "id", id);
      qemu_opt_append(s, "bus", "usb.0");
      arg_opts(b, "-device", s);
      continue;
    case INPUT_BUS_VIRTIO:
      s = opts_new(virtio_devs[in->type]);
      qemu_opt_append(s, "id", id);
      opt_pci(b, s, label, &in->address);
      arg_opts(b, "-device", s);
      continue;
    }
    fail(b, -EINVAL, "%s: unknown bus", label);
  }
}

static void build_memballoon(Builder *b) {
  const DomainMemballoon *m = &b->def->memballoon;
  if (!m->present || m->model == MEMBALLOON_NONE)
    return;
  /* The statistics period is a QOM property set over QMP after start. */
  GString *s = opts_new("virtio-balloon-pci");
  qemu_opt_append(s, "id", "balloon0");
  opt_pci(b, s, "the memory balloon", &m->address);
  arg_opts(b, "-device", s);
}

static void build_rngs(Builder *b) {
  const GPtrArray *rngs = b->def->rngs;
  for (guint i = 0; rngs && i < rngs->len; i++) {
    const DomainRng *r = rngs->pdata[i];
    g_autofree char *label = g_strdup_printf("rng %u", i);
    g_autofree char *what = g_strdup_printf("%s: backend", label);
    g_autofree char *obj = g_strdup_printf("objrng%u", i);
    g_autofree char *id = g_strdup_printf("rng%u", i);

    GString *s = opts_new("");
    qemu_opt_append(s, "qom-type", "rng-random");
    qemu_opt_append(s, "id", obj);
    opt_path(b, s, "filename", what, r->backend ? r->backend : "/dev/urandom");
    arg_opts(b, "-object", s);

    s = opts_new("virtio-rng-pci");
    qemu_opt_append(s, "id", id);
    qemu_opt_append(s, "rng", obj);
    opt_pci(b, s, label, &r->address);
    arg_opts(b, "-device", s);
  }
}

/* ---- entry point ---- */

static void check_host(Builder *b) {
  const DomainDef *def = b->def;
  const char *machine = def->os.machine ? def->os.machine : "pc";

  if (def->virt_type == DOMAIN_VIRT_KVM && !b->cfg->kvm_available) {
    fail(b, -EOPNOTSUPP, "this host cannot run KVM guests: use <domain type='qemu'>");
    return;
  }
  if (def->os.type && strcmp(def->os.type, "hvm") != 0) {
    fail(b, -EOPNOTSUPP, "the only OS type is hvm");
    return;
  }
  /* qemu-system-x86_64 runs i686 guests as well */
  if (def->os.arch && strcmp(def->os.arch, "x86_64") != 0 && strcmp(def->os.arch, "i686") != 0) {
    fail(b, -EOPNOTSUPP, "the architectures are x86_64 and i686");
    return;
  }
  if (!is_plain_name(machine) || (!machine_is_q35(machine) && !machine_is_i440fx(machine))) {
    if (qemu_value_is_safe(machine))
      fail(b, -EOPNOTSUPP, "machine type '%s' is not supported: use pc or q35 (or a versioned "
                           "pc-i440fx-X.Y / pc-q35-X.Y)", machine);
    else
      fail(b, -EOPNOTSUPP, "the machine type is not supported: use pc or q35");
    return;
  }
  b->q35 = machine_is_q35(machine);
  b->pci_bus = b->q35 ? "pcie.0" : "pci.0";
}

int qemu_argv_build(const DomainDef *def, const QemuArgvConfig *cfg, GStrv *ret_argv,
                    char **ret_error) {
  g_return_val_if_fail(def && cfg && ret_argv, -EINVAL);

  const char *binary = def->emulator ? def->emulator : cfg->qemu_binary;
  guint ndisks = def->disks ? def->disks->len : 0;
  guint nifaces = def->interfaces ? def->interfaces->len : 0;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  g_autofree DiskPlan *disks = g_new0(DiskPlan, ndisks + 1);
  g_autofree unsigned *net_bootindex = g_new0(unsigned, nifaces + 1);
  Builder b = {
    .def = def,
    .cfg = cfg,
    .argv = argv,
    .disks = disks,
    .net_bootindex = net_bootindex,
  };

  if (def->emulator)
    check_path(&b, "the emulator", def->emulator);
  else
    check_value(&b, "the configured QEMU binary", cfg->qemu_binary);
  if (!cfg->qmp_socket_path)
    fail(&b, -EINVAL, "no QMP socket path was given");
  check_host(&b);
  if (!b.err) {
    arg(&b, binary);
    plan(&b);
  }
  if (!b.err) {
    build_global(&b);
    build_graphics(&b);
    build_controllers(&b);
    for (guint i = 0; i < ndisks; i++)
      build_disk(&b, def->disks->pdata[i], i);
    for (guint i = 0; i < nifaces; i++)
      build_interface(&b, def->interfaces->pdata[i], i);
    build_serials_consoles(&b);
    build_video(&b);
    build_inputs(&b);
    build_memballoon(&b);
    build_rngs(&b);
  }
  if (b.err) {
    if (ret_error)
      *ret_error = g_steal_pointer(&b.error);
    g_free(b.error);
    return b.err;
  }
  g_ptr_array_add(argv, NULL);
  *ret_argv = (GStrv)g_ptr_array_free(g_steal_pointer(&argv), FALSE);
  return 0;
}
