/* qemu_argv_cases.c — domain definitions for the QEMU argv golden files,
 * built in C (the XML parser is not there yet), and the config they are
 * built with. */
#include "tests/unit/qemu_argv_cases.h"

#include <glib.h>
#include <string.h>

/* ---- freeing a DomainDef built here ---- */

void test_set_str(char **field, const char *value) {
  g_free(*field);
  *field = g_strdup(value);
}

static void disk_free(gpointer p) {
  DomainDisk *d = p;
  g_free(d->source);
  g_free(d->source_pool);
  g_free(d->source_volume);
  g_free(d->target_dev);
  g_free(d->serial);
  g_free(d);
}

static void controller_free(gpointer p) {
  DomainController *c = p;
  g_free(c->model);
  g_free(c);
}

static void interface_free(gpointer p) {
  DomainInterface *n = p;
  g_free(n->source);
  g_free(n->model);
  g_free(n->target_dev);
  g_free(n);
}

static void chardev_free(gpointer p) {
  DomainChardev *c = p;
  g_free(c->source_path);
  g_free(c->target_type);
  g_free(c);
}

static void vnc_free(gpointer p) {
  DomainGraphicsVnc *v = p;
  g_free(v->listen);
  g_free(v);
}

static void rng_free(gpointer p) {
  DomainRng *r = p;
  g_free(r->backend);
  g_free(r);
}

void test_def_free(DomainDef *def) {
  if (!def)
    return;
  g_free(def->name);
  g_free(def->title);
  g_free(def->description);
  g_free(def->os.type);
  g_free(def->os.arch);
  g_free(def->os.machine);
  g_free(def->os.kernel);
  g_free(def->os.initrd);
  g_free(def->os.cmdline);
  g_free(def->cpu.model);
  g_free(def->emulator);
  GPtrArray *arrays[] = {def->disks, def->controllers, def->interfaces, def->serials,
                         def->consoles, def->graphics, def->videos, def->inputs,
                         def->rngs, def->audios};
  for (size_t i = 0; i < G_N_ELEMENTS(arrays); i++)
    if (arrays[i])
      g_ptr_array_unref(arrays[i]);
  g_free(def);
}

/* ---- builders ---- */

static DomainDef *def_new(const char *name) {
  DomainDef *d = g_new0(DomainDef, 1);
  d->virt_type = DOMAIN_VIRT_QEMU;
  d->name = g_strdup(name);
  g_strlcpy(d->uuid, "c7a5fdbd-edaf-9455-926a-d65c16db1809", sizeof d->uuid);
  d->memory_kib = d->current_memory_kib = 524288;
  d->vcpus = d->vcpus_current = 1;
  d->os.type = g_strdup("hvm");
  d->os.arch = g_strdup("x86_64");
  d->os.machine = g_strdup("pc");
  d->features.acpi = true;
  d->features.apic = true;
  d->on_poweroff = DOMAIN_LIFECYCLE_DESTROY;
  d->on_reboot = DOMAIN_LIFECYCLE_RESTART;
  d->on_crash = DOMAIN_LIFECYCLE_DESTROY;
  d->disks = g_ptr_array_new_with_free_func(disk_free);
  d->controllers = g_ptr_array_new_with_free_func(controller_free);
  d->interfaces = g_ptr_array_new_with_free_func(interface_free);
  d->serials = g_ptr_array_new_with_free_func(chardev_free);
  d->consoles = g_ptr_array_new_with_free_func(chardev_free);
  d->graphics = g_ptr_array_new_with_free_func(vnc_free);
  d->videos = g_ptr_array_new_with_free_func(g_free);
  d->inputs = g_ptr_array_new_with_free_func(g_free);
  d->rngs = g_ptr_array_new_with_free_func(rng_free);
  d->audios = g_ptr_array_new_with_free_func(g_free);
  return d;
}

static DomainDisk *add_disk(DomainDef *def, DiskType type, DiskDevice device, DiskFormat format,
                            DiskBus bus, const char *source, const char *target) {
  DomainDisk *d = g_new0(DomainDisk, 1);
  d->type = type;
  d->device = device;
  d->format = format;
  d->target_bus = bus;
  d->source = g_strdup(source);
  d->target_dev = g_strdup(target);
  d->readonly = device == DISK_DEVICE_CDROM;
  g_ptr_array_add(def->disks, d);
  return d;
}

static DomainDisk *add_file_disk(DomainDef *def, DiskFormat format, DiskBus bus,
                                 const char *source, const char *target) {
  return add_disk(def, DISK_TYPE_FILE, DISK_DEVICE_DISK, format, bus, source, target);
}

static DomainController *add_controller(DomainDef *def, ControllerType type, unsigned index,
                                        const char *model) {
  DomainController *c = g_new0(DomainController, 1);
  c->type = type;
  c->index = index;
  c->model = g_strdup(model);
  g_ptr_array_add(def->controllers, c);
  return c;
}

static DomainInterface *add_iface(DomainDef *def, InterfaceType type, const char *source,
                                  const char *model, const char *mac) {
  DomainInterface *n = g_new0(DomainInterface, 1);
  n->type = type;
  n->source = g_strdup(source);
  n->model = g_strdup(model);
  g_strlcpy(n->mac, mac, sizeof n->mac);
  g_ptr_array_add(def->interfaces, n);
  return n;
}

static DomainChardev *add_chardev(GPtrArray *to, ChardevType type, const char *path, bool listen,
                                  unsigned port, const char *target_type) {
  DomainChardev *c = g_new0(DomainChardev, 1);
  c->type = type;
  c->source_path = g_strdup(path);
  c->unix_listen = listen;
  c->target_port = port;
  c->target_type = g_strdup(target_type);
  g_ptr_array_add(to, c);
  return c;
}

/* The <serial type='pty'> + <console type='pty'> pair libvirt writes. */
static void add_pty_serial_console(DomainDef *def) {
  add_chardev(def->serials, CHARDEV_PTY, NULL, false, 0, "isa-serial");
  add_chardev(def->consoles, CHARDEV_PTY, NULL, false, 0, "serial");
}

static DomainGraphicsVnc *add_vnc(DomainDef *def, const char *listen, int port) {
  DomainGraphicsVnc *v = g_new0(DomainGraphicsVnc, 1);
  v->listen = g_strdup(listen);
  v->port = port;
  g_ptr_array_add(def->graphics, v);
  return v;
}

static DomainVideo *add_video(DomainDef *def, VideoModel model, unsigned vram, unsigned heads) {
  DomainVideo *v = g_new0(DomainVideo, 1);
  v->model = model;
  v->vram = vram;
  v->heads = heads;
  g_ptr_array_add(def->videos, v);
  return v;
}

static DomainInput *add_input(DomainDef *def, InputType type, InputBus bus) {
  DomainInput *in = g_new0(DomainInput, 1);
  in->type = type;
  in->bus = bus;
  g_ptr_array_add(def->inputs, in);
  return in;
}

static DomainRng *add_rng(DomainDef *def, const char *backend) {
  DomainRng *r = g_new0(DomainRng, 1);
  r->backend = g_strdup(backend);
  g_ptr_array_add(def->rngs, r);
  return r;
}

static void pci(DeviceAddress *a, unsigned slot, unsigned function, bool multifunction) {
  *a = (DeviceAddress){.type = DEVICE_ADDRESS_PCI, .slot = slot, .function = function,
                       .multifunction = multifunction};
}

static void drive(DeviceAddress *a, unsigned controller, unsigned bus, unsigned target,
                  unsigned unit) {
  *a = (DeviceAddress){.type = DEVICE_ADDRESS_DRIVE, .controller = controller, .drive_bus = bus,
                       .target = target, .unit = unit};
}

/* ---- the cases ---- */

static DomainDef *c_minimal(void) {
  return def_new("minimal");
}

static DomainDef *c_kernel_boot(void) {
  DomainDef *d = def_new("kernel-boot");
  d->os.kernel = g_strdup("/var/lib/virtfs/boot/vmlinuz-6.1");
  d->os.initrd = g_strdup("/var/lib/virtfs/boot/initrd.img-6.1");
  /* commas stay as they are: -append is not an option string */
  d->os.cmdline = g_strdup("console=ttyS0,115200n8 root=/dev/vda1 ro quiet");
  add_file_disk(d, DISK_FORMAT_QCOW2, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/root.qcow2", "vda");
  add_pty_serial_console(d);
  return d;
}

static DomainDef *c_disks_buses(void) {
  DomainDef *d = def_new("disks-buses");
  DomainDisk *k = add_file_disk(d, DISK_FORMAT_QCOW2, DISK_BUS_VIRTIO,
                                "/var/lib/virtfs/images/root.qcow2", "vda");
  test_set_str(&k->serial, "ROOT-0001");
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_IDE, "/var/lib/virtfs/images/ide.img", "hdb");
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_SATA, "/var/lib/virtfs/images/sata.img", "sda");
  add_file_disk(d, DISK_FORMAT_QCOW2, DISK_BUS_SCSI, "/var/lib/virtfs/images/scsi.qcow2", "sdb");
  return d;
}

static DomainDef *c_disks_readonly_shareable(void) {
  DomainDef *d = def_new("disks-readonly-shareable");
  add_file_disk(d, DISK_FORMAT_QCOW2, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/root.qcow2", "vda");
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/ro.img", "vdb")
      ->readonly = true;
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_SCSI, "/var/lib/virtfs/images/ro-scsi.img", "sda")
      ->readonly = true;
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/shared.img", "vdc")
      ->shareable = true;
  return d;
}

static DomainDef *c_cdrom(void) {
  DomainDef *d = def_new("cdrom");
  add_file_disk(d, DISK_FORMAT_QCOW2, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/root.qcow2", "vda");
  add_disk(d, DISK_TYPE_FILE, DISK_DEVICE_CDROM, DISK_FORMAT_RAW, DISK_BUS_IDE, NULL, "hdc");
  add_disk(d, DISK_TYPE_FILE, DISK_DEVICE_CDROM, DISK_FORMAT_RAW, DISK_BUS_SATA,
           "/var/lib/virtfs/iso/debian-12.iso", "sda");
  add_disk(d, DISK_TYPE_FILE, DISK_DEVICE_CDROM, DISK_FORMAT_RAW, DISK_BUS_SCSI, NULL, "sdb");
  d->os.boot[0] = DOMAIN_BOOT_CDROM;
  d->os.boot[1] = DOMAIN_BOOT_HD;
  d->os.boot[2] = DOMAIN_BOOT_NETWORK;
  d->os.nboot = 3;
  add_iface(d, INTERFACE_USER, NULL, "virtio", "52:54:00:00:00:01");
  return d;
}

static DomainDef *c_boot_order(void) {
  DomainDef *d = def_new("boot-order");
  add_file_disk(d, DISK_FORMAT_QCOW2, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/root.qcow2", "vda")
      ->boot_order = 2;
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/data.img", "vdb");
  add_iface(d, INTERFACE_USER, NULL, "virtio", "52:54:00:00:00:01")->boot_order = 1;
  d->os.bootmenu_set = true;
  d->os.bootmenu = true;
  return d;
}

static DomainDef *c_serials(void) {
  DomainDef *d = def_new("serials");
  /* the first is the console socket whatever its type */
  add_chardev(d->serials, CHARDEV_PTY, NULL, false, 0, "isa-serial");
  add_chardev(d->serials, CHARDEV_FILE, "/var/log/virtfs/serials-ttyS1.log", false, 1, "isa-serial");
  add_chardev(d->serials, CHARDEV_UNIX, "/run/virtfs/test/ttyS2.sock", true, 2, "isa-serial");
  add_chardev(d->serials, CHARDEV_UNIX, "/run/virtfs/test/ttyS3-server.sock", false, 3, NULL);
  add_chardev(d->consoles, CHARDEV_PTY, NULL, false, 0, "serial");
  return d;
}

static DomainDef *c_serial_pty(void) {
  DomainDef *d = def_new("serial-pty");
  add_pty_serial_console(d);
  DomainChardev *c = add_chardev(d->serials, CHARDEV_FILE, "/var/log/virtfs/serial-pty.log",
                                 false, 1, "isa-serial");
  (void)c;
  return d;
}

static DomainDef *c_console_virtio(void) {
  DomainDef *d = def_new("console-virtio");
  add_pty_serial_console(d);
  add_chardev(d->consoles, CHARDEV_PTY, NULL, false, 0, "virtio");
  add_chardev(d->consoles, CHARDEV_UNIX, "/run/virtfs/test/hvc2.sock", true, 1, "virtio");
  return d;
}

static DomainDef *c_console_virtio_only(void) {
  DomainDef *d = def_new("console-virtio-only");
  add_chardev(d->consoles, CHARDEV_PTY, NULL, false, 0, "virtio");
  return d;
}

static DomainDef *c_vnc(void) {
  DomainDef *d = def_new("vnc");
  add_vnc(d, "127.0.0.1", 5901);
  add_video(d, VIDEO_QXL, 65536, 1);
  add_input(d, INPUT_TABLET, INPUT_BUS_USB);
  return d;
}

static DomainDef *c_vnc_autoport(void) {
  DomainDef *d = def_new("vnc-autoport");
  add_vnc(d, "::1", -1);
  add_video(d, VIDEO_VIRTIO, 0, 2);
  return d;
}

static DomainDef *c_video_vga(void) {
  DomainDef *d = def_new("video-vga");
  add_vnc(d, NULL, -1);
  add_video(d, VIDEO_VGA, 16384, 1);
  return d;
}

static DomainDef *c_video_cirrus(void) {
  DomainDef *d = def_new("video-cirrus");
  add_vnc(d, NULL, -1);
  add_video(d, VIDEO_CIRRUS, 16384, 1);
  return d;
}

static DomainDef *c_video_bochs(void) {
  DomainDef *d = def_new("video-bochs");
  add_vnc(d, NULL, -1);
  add_video(d, VIDEO_BOCHS, 16384, 0);
  return d;
}

static DomainDef *c_video_none(void) {
  DomainDef *d = def_new("video-none");
  add_vnc(d, "0.0.0.0", 5900);
  add_video(d, VIDEO_NONE, 0, 0);
  return d;
}

static DomainDef *c_inputs(void) {
  DomainDef *d = def_new("inputs");
  add_input(d, INPUT_TABLET, INPUT_BUS_USB);
  add_input(d, INPUT_MOUSE, INPUT_BUS_USB);
  add_input(d, INPUT_KEYBOARD, INPUT_BUS_USB);
  add_input(d, INPUT_TABLET, INPUT_BUS_VIRTIO);
  add_input(d, INPUT_KEYBOARD, INPUT_BUS_VIRTIO);
  add_input(d, INPUT_MOUSE, INPUT_BUS_VIRTIO);
  add_input(d, INPUT_MOUSE, INPUT_BUS_PS2);
  add_input(d, INPUT_KEYBOARD, INPUT_BUS_PS2);
  return d;
}

static DomainDef *c_memballoon(void) {
  DomainDef *d = def_new("memballoon");
  d->current_memory_kib = 262144;
  d->memballoon.present = true;
  d->memballoon.model = MEMBALLOON_VIRTIO;
  d->memballoon.stats_period = 10;
  pci(&d->memballoon.address, 6, 0, false);
  return d;
}

static DomainDef *c_memballoon_none(void) {
  DomainDef *d = def_new("memballoon-none");
  d->memballoon.present = true;
  d->memballoon.model = MEMBALLOON_NONE;
  return d;
}

static DomainDef *c_rng(void) {
  DomainDef *d = def_new("rng");
  add_rng(d, NULL);
  pci(&add_rng(d, "/dev/random")->address, 9, 0, false);
  return d;
}

static DomainDef *c_nic_user_models(void) {
  DomainDef *d = def_new("nic-user-models");
  add_iface(d, INTERFACE_USER, NULL, "virtio", "52:54:00:11:22:01");
  add_iface(d, INTERFACE_USER, NULL, "e1000", "52:54:00:11:22:02");
  add_iface(d, INTERFACE_USER, NULL, "e1000e", "52:54:00:11:22:03");
  add_iface(d, INTERFACE_USER, NULL, "rtl8139", "52:54:00:11:22:04");
  add_iface(d, INTERFACE_USER, NULL, NULL, "52:54:00:11:22:05");
  return d;
}

static DomainDef *c_nic_tap(void) {
  DomainDef *d = def_new("nic-tap");
  add_iface(d, INTERFACE_NETWORK, "default", "virtio", "52:54:00:aa:bb:01");
  add_iface(d, INTERFACE_USER, NULL, "virtio", "52:54:00:aa:bb:02");
  add_iface(d, INTERFACE_BRIDGE, "br0", "e1000", "52:54:00:aa:bb:03");
  return d;
}

static DomainDef *c_nic_tap_missing_fd(void) {
  DomainDef *d = def_new("nic-tap-missing-fd");
  add_iface(d, INTERFACE_USER, NULL, "virtio", "52:54:00:aa:bb:01");
  add_iface(d, INTERFACE_BRIDGE, "br0", "virtio", "52:54:00:aa:bb:02");
  return d;
}

static DomainDef *c_cpu_topology(void) {
  DomainDef *d = def_new("cpu-topology");
  d->vcpus = d->vcpus_current = 8;
  d->cpu.mode = DOMAIN_CPU_MODE_CUSTOM;
  d->cpu.model = g_strdup("Skylake-Client");
  d->cpu.sockets = 2;
  d->cpu.dies = 1;
  d->cpu.cores = 2;
  d->cpu.threads = 2;
  return d;
}

static DomainDef *c_vcpus_current(void) {
  DomainDef *d = def_new("vcpus-current");
  d->vcpus = 4;
  d->vcpus_current = 2;
  d->cpu.mode = DOMAIN_CPU_MODE_MAXIMUM;
  d->cpu.sockets = 1;
  d->cpu.cores = 4;
  d->cpu.threads = 1;
  return d;
}

static DomainDef *c_topology_mismatch(void) {
  DomainDef *d = def_new("topology-mismatch");
  d->vcpus = d->vcpus_current = 4;
  d->cpu.mode = DOMAIN_CPU_MODE_CUSTOM;
  d->cpu.sockets = 1;
  d->cpu.cores = 2;
  d->cpu.threads = 1;
  return d;
}

static DomainDef *c_q35(void) {
  DomainDef *d = def_new("q35");
  test_set_str(&d->os.machine, "q35");
  add_file_disk(d, DISK_FORMAT_QCOW2, DISK_BUS_SATA, "/var/lib/virtfs/images/root.qcow2", "sda");
  add_disk(d, DISK_TYPE_FILE, DISK_DEVICE_CDROM, DISK_FORMAT_RAW, DISK_BUS_SATA, NULL, "sdb");
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/data.img", "vda");
  add_iface(d, INTERFACE_USER, NULL, "e1000e", "52:54:00:35:00:01");
  add_input(d, INPUT_TABLET, INPUT_BUS_USB);
  add_video(d, VIDEO_VGA, 0, 0);
  add_vnc(d, NULL, -1);
  add_pty_serial_console(d);
  d->memballoon.present = true;
  d->memballoon.model = MEMBALLOON_VIRTIO;
  add_rng(d, NULL);
  return d;
}

static DomainDef *c_q35_versioned(void) {
  DomainDef *d = def_new("q35-versioned");
  test_set_str(&d->os.machine, "pc-q35-7.2");
  add_controller(d, CONTROLLER_PCI, 0, "pcie-root");
  add_controller(d, CONTROLLER_SATA, 0, NULL);
  add_controller(d, CONTROLLER_SATA, 1, NULL);
  DomainDisk *k = add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_SATA,
                                "/var/lib/virtfs/images/second-ahci.img", "sdc");
  drive(&k->address, 1, 0, 0, 2);
  return d;
}

static DomainDef *c_kvm_host(void) {
  DomainDef *d = def_new("kvm-host");
  d->virt_type = DOMAIN_VIRT_KVM;
  d->cpu.mode = DOMAIN_CPU_MODE_HOST_PASSTHROUGH;
  d->vcpus = d->vcpus_current = 2;
  return d;
}

static DomainDef *c_kvm_refused(void) {
  DomainDef *d = def_new("kvm-refused");
  d->virt_type = DOMAIN_VIRT_KVM;
  return d;
}

static DomainDef *c_cpu_host_model_tcg(void) {
  DomainDef *d = def_new("cpu-host-model-tcg");
  d->cpu.mode = DOMAIN_CPU_MODE_HOST_MODEL;
  return d;
}

static DomainDef *c_cpu_host_passthrough_tcg(void) {
  DomainDef *d = def_new("cpu-host-passthrough-tcg");
  d->cpu.mode = DOMAIN_CPU_MODE_HOST_PASSTHROUGH;
  return d;
}

static DomainDef *c_comma_injection(void) {
  /* Each hostile value must stay one escaped value of its key. */
  DomainDef *d = def_new("evil,debug-threads=off,process=x");
  DomainDisk *k = add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_VIRTIO,
                                "/tmp/a,b/disk,file=/etc/shadow.img", "vda");
  test_set_str(&k->serial, "S1,drive=disk0-file");
  add_chardev(d->serials, CHARDEV_PTY, NULL, false, 0, "isa-serial");
  add_chardev(d->serials, CHARDEV_FILE, "/var/log/a,path=/etc/passwd,b.log", false, 1,
              "isa-serial");
  add_chardev(d->consoles, CHARDEV_UNIX, "/run/a,server=on/b.sock", false, 0, "virtio");
  add_rng(d, "/dev/urandom,id=x");
  d->os.kernel = g_strdup("/boot/vmlinuz,initrd=/etc/shadow");
  d->os.cmdline = g_strdup("console=ttyS0,115200 x=a,,b");
  return d;
}

static DomainDef *c_pci_addresses(void) {
  DomainDef *d = def_new("pci-addresses");
  /* libvirt's own placement of the PIIX3 USB controller */
  pci(&add_controller(d, CONTROLLER_USB, 0, "piix3-uhci")->address, 1, 2, false);
  add_file_disk(d, DISK_FORMAT_QCOW2, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/root.qcow2", "vda");
  pci(&add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/b.img", "vdb")
           ->address, 5, 0, false);
  pci(&add_iface(d, INTERFACE_USER, NULL, "virtio", "52:54:00:00:00:0a")->address, 3, 0, true);
  pci(&add_iface(d, INTERFACE_USER, NULL, "e1000", "52:54:00:00:00:0b")->address, 3, 1, false);
  add_iface(d, INTERFACE_USER, NULL, "rtl8139", "52:54:00:00:00:0c");
  pci(&add_video(d, VIDEO_VGA, 0, 0)->address, 2, 0, false);
  add_vnc(d, NULL, -1);
  add_input(d, INPUT_TABLET, INPUT_BUS_USB);
  d->memballoon.present = true;
  d->memballoon.model = MEMBALLOON_VIRTIO;
  pci(&add_rng(d, NULL)->address, 0x1f, 0, false);
  return d;
}

static DomainDef *c_controllers(void) {
  DomainDef *d = def_new("controllers");
  add_controller(d, CONTROLLER_PCI, 0, "pci-root");
  add_controller(d, CONTROLLER_IDE, 0, NULL);
  add_controller(d, CONTROLLER_USB, 0, "nec-xhci");
  add_controller(d, CONTROLLER_USB, 1, "qemu-xhci");
  add_controller(d, CONTROLLER_SCSI, 0, "virtio-scsi");
  add_controller(d, CONTROLLER_SCSI, 1, NULL);
  add_controller(d, CONTROLLER_SATA, 0, NULL);
  add_controller(d, CONTROLLER_VIRTIO_SERIAL, 0, NULL);
  DomainDisk *k = add_file_disk(d, DISK_FORMAT_QCOW2, DISK_BUS_SCSI,
                                "/var/lib/virtfs/images/scsi1.qcow2", "sdb");
  drive(&k->address, 1, 0, 2, 3);
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_SATA, "/var/lib/virtfs/images/sata.img", "sdc");
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_IDE, "/var/lib/virtfs/images/ide.img", "hda");
  add_input(d, INPUT_KEYBOARD, INPUT_BUS_USB);
  add_chardev(d->consoles, CHARDEV_PTY, NULL, false, 0, "virtio");
  return d;
}

static DomainDef *c_lifecycle_clock(void) {
  DomainDef *d = def_new("lifecycle-clock");
  d->on_poweroff = DOMAIN_LIFECYCLE_RESTART;
  d->on_reboot = DOMAIN_LIFECYCLE_DESTROY;
  d->on_crash = DOMAIN_LIFECYCLE_PRESERVE;
  d->clock = DOMAIN_CLOCK_LOCALTIME;
  d->features.acpi = false;
  d->os.bootmenu_set = true;
  d->os.bootmenu = false;
  return d;
}

static DomainDef *c_rename_restart(void) {
  DomainDef *d = def_new("rename-restart");
  d->on_poweroff = DOMAIN_LIFECYCLE_RENAME_RESTART;
  return d;
}

static DomainDef *c_volumes(void) {
  DomainDef *d = def_new("volumes");
  DomainDisk *k = add_disk(d, DISK_TYPE_VOLUME, DISK_DEVICE_DISK, DISK_FORMAT_QCOW2,
                           DISK_BUS_VIRTIO, NULL, "vda");
  k->source_pool = g_strdup("default");
  k->source_volume = g_strdup("data.qcow2");
  k = add_disk(d, DISK_TYPE_VOLUME, DISK_DEVICE_CDROM, DISK_FORMAT_RAW, DISK_BUS_SATA, NULL, "sda");
  k->source_pool = g_strdup("default");
  k->source_volume = g_strdup("install.iso");
  return d;
}

static DomainDef *c_volume_unknown(void) {
  DomainDef *d = def_new("volume-unknown");
  DomainDisk *k = add_disk(d, DISK_TYPE_VOLUME, DISK_DEVICE_DISK, DISK_FORMAT_QCOW2,
                           DISK_BUS_VIRTIO, NULL, "vda");
  k->source_pool = g_strdup("default");
  k->source_volume = g_strdup("gone.qcow2");
  return d;
}

static DomainDef *c_block_disks(void) {
  DomainDef *d = def_new("block-disks");
  add_disk(d, DISK_TYPE_BLOCK, DISK_DEVICE_DISK, DISK_FORMAT_RAW, DISK_BUS_VIRTIO, "/dev/sdb", "vda");
  add_disk(d, DISK_TYPE_BLOCK, DISK_DEVICE_CDROM, DISK_FORMAT_RAW, DISK_BUS_SATA, "/dev/sr0", "sda");
  DomainDisk *k = add_disk(d, DISK_TYPE_VOLUME, DISK_DEVICE_DISK, DISK_FORMAT_RAW, DISK_BUS_VIRTIO,
                           NULL, "vdb");
  k->source_pool = g_strdup("lvm");
  k->source_volume = g_strdup("lv0");
  return d;
}

static DomainDef *c_disk_relative_path(void) {
  DomainDef *d = def_new("disk-relative-path");
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_VIRTIO, "images/root.img", "vda");
  return d;
}

static DomainDef *c_disk_path_newline(void) {
  DomainDef *d = def_new("disk-path-newline");
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_VIRTIO, "/tmp/x.img\n-blockdev", "vda");
  return d;
}

static DomainDef *c_name_newline(void) {
  return def_new("two\nlines");
}

static DomainDef *c_cdrom_virtio(void) {
  DomainDef *d = def_new("cdrom-virtio");
  add_disk(d, DISK_TYPE_FILE, DISK_DEVICE_CDROM, DISK_FORMAT_RAW, DISK_BUS_VIRTIO, NULL, "vda");
  return d;
}

static DomainDef *c_ide_on_q35(void) {
  DomainDef *d = def_new("ide-on-q35");
  test_set_str(&d->os.machine, "q35");
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_IDE, "/var/lib/virtfs/images/ide.img", "hda");
  return d;
}

static DomainDef *c_initrd_comma(void) {
  DomainDef *d = def_new("initrd-comma");
  d->os.kernel = g_strdup("/boot/vmlinuz");
  d->os.initrd = g_strdup("/boot/initrd,mod2");
  return d;
}

static DomainDef *c_machine_unsupported(void) {
  DomainDef *d = def_new("machine-unsupported");
  test_set_str(&d->os.machine, "microvm");
  return d;
}

static DomainDef *c_pci_bus_nonzero(void) {
  DomainDef *d = def_new("pci-bus-nonzero");
  DomainInterface *n = add_iface(d, INTERFACE_USER, NULL, "virtio", "52:54:00:00:00:01");
  pci(&n->address, 1, 0, false);
  n->address.bus = 1;
  return d;
}

static DomainDef *c_vnc_hostname(void) {
  DomainDef *d = def_new("vnc-hostname");
  add_vnc(d, "unix:/tmp/vnc.sock", -1);
  return d;
}

static DomainDef *c_ide_readonly(void) {
  DomainDef *d = def_new("ide-readonly");
  add_file_disk(d, DISK_FORMAT_RAW, DISK_BUS_IDE, "/var/lib/virtfs/images/ro.img", "hda")
      ->readonly = true;
  return d;
}

static DomainDef *c_usb_none_with_tablet(void) {
  DomainDef *d = def_new("usb-none-with-tablet");
  add_controller(d, CONTROLLER_USB, 0, "none");
  add_input(d, INPUT_TABLET, INPUT_BUS_USB);
  return d;
}

#define NO_TAPS {-1}, 0

const QemuArgvCase qemu_argv_cases[] = {
  {"minimal", c_minimal, false, false, NO_TAPS, NULL},
  {"kernel-boot", c_kernel_boot, false, false, NO_TAPS, NULL},
  {"disks-buses", c_disks_buses, false, false, NO_TAPS, NULL},
  {"disks-readonly-shareable", c_disks_readonly_shareable, false, false, NO_TAPS, NULL},
  {"cdrom", c_cdrom, false, false, NO_TAPS, NULL},
  {"boot-order", c_boot_order, false, false, NO_TAPS, NULL},
  {"serials", c_serials, false, false, NO_TAPS, NULL},
  {"serial-pty", c_serial_pty, false, true, NO_TAPS, NULL},
  {"console-virtio", c_console_virtio, false, false, NO_TAPS, NULL},
  {"console-virtio-only", c_console_virtio_only, false, false, NO_TAPS, NULL},
  {"vnc", c_vnc, false, false, NO_TAPS, NULL},
  {"vnc-autoport", c_vnc_autoport, false, false, NO_TAPS, NULL},
  {"video-vga", c_video_vga, false, false, NO_TAPS, NULL},
  {"video-cirrus", c_video_cirrus, false, false, NO_TAPS, NULL},
  {"video-bochs", c_video_bochs, false, false, NO_TAPS, NULL},
  {"video-none", c_video_none, false, false, NO_TAPS, NULL},
  {"inputs", c_inputs, false, false, NO_TAPS, NULL},
  {"memballoon", c_memballoon, false, false, NO_TAPS, NULL},
  {"memballoon-none", c_memballoon_none, false, false, NO_TAPS, NULL},
  {"rng", c_rng, false, false, NO_TAPS, NULL},
  {"nic-user-models", c_nic_user_models, false, false, NO_TAPS, NULL},
  {"nic-tap", c_nic_tap, false, false, {21, -1, 22}, 3, "needs tap devices"},
  {"nic-tap-missing-fd", c_nic_tap_missing_fd, false, false, {-1}, 1, NULL},
  {"cpu-topology", c_cpu_topology, false, false, NO_TAPS, NULL},
  {"vcpus-current", c_vcpus_current, false, false, NO_TAPS, NULL},
  {"topology-mismatch", c_topology_mismatch, false, false, NO_TAPS, NULL},
  {"q35", c_q35, false, false, NO_TAPS, NULL},
  {"q35-versioned", c_q35_versioned, false, false, NO_TAPS, NULL},
  {"kvm-host", c_kvm_host, true, false, NO_TAPS, "needs /dev/kvm"},
  {"kvm-refused", c_kvm_refused, false, false, NO_TAPS, NULL},
  {"cpu-host-model-tcg", c_cpu_host_model_tcg, false, false, NO_TAPS, NULL},
  {"cpu-host-passthrough-tcg", c_cpu_host_passthrough_tcg, false, false, NO_TAPS, NULL},
  {"comma-injection", c_comma_injection, false, false, NO_TAPS, NULL},
  {"pci-addresses", c_pci_addresses, false, false, NO_TAPS, NULL},
  {"controllers", c_controllers, false, false, NO_TAPS, NULL},
  {"lifecycle-clock", c_lifecycle_clock, false, false, NO_TAPS, NULL},
  {"rename-restart", c_rename_restart, false, false, NO_TAPS, NULL},
  {"volumes", c_volumes, false, false, NO_TAPS, NULL},
  {"volume-unknown", c_volume_unknown, false, false, NO_TAPS, NULL},
  {"block-disks", c_block_disks, false, false, NO_TAPS, "needs block devices"},
  {"disk-relative-path", c_disk_relative_path, false, false, NO_TAPS, NULL},
  {"disk-path-newline", c_disk_path_newline, false, false, NO_TAPS, NULL},
  {"name-newline", c_name_newline, false, false, NO_TAPS, NULL},
  {"cdrom-virtio", c_cdrom_virtio, false, false, NO_TAPS, NULL},
  {"ide-on-q35", c_ide_on_q35, false, false, NO_TAPS, NULL},
  {"ide-readonly", c_ide_readonly, false, false, NO_TAPS, NULL},
  {"initrd-comma", c_initrd_comma, false, false, NO_TAPS, NULL},
  {"machine-unsupported", c_machine_unsupported, false, false, NO_TAPS, NULL},
  {"pci-bus-nonzero", c_pci_bus_nonzero, false, false, NO_TAPS, NULL},
  {"vnc-hostname", c_vnc_hostname, false, false, NO_TAPS, NULL},
  {"usb-none-with-tablet", c_usb_none_with_tablet, false, false, NO_TAPS, NULL},
};
const size_t qemu_argv_n_cases = G_N_ELEMENTS(qemu_argv_cases);

const QemuArgvVolume qemu_argv_test_volumes[] = {
  {"default", "data.qcow2", "/var/lib/virtfs/pools/default/data.qcow2", false},
  {"default", "install.iso", "/var/lib/virtfs/pools/default/install.iso", false},
  {"lvm", "lv0", "/dev/vg0/lv0", true},
};
const size_t qemu_argv_n_test_volumes = G_N_ELEMENTS(qemu_argv_test_volumes);

void qemu_argv_case_config(const QemuArgvCase *c, QemuArgvConfig *ret_cfg) {
  *ret_cfg = (QemuArgvConfig){
    .qemu_binary = "/usr/bin/qemu-system-x86_64",
    .qmp_socket_path = "/run/virtfs/test/qmp.sock",
    .pid_file = "/run/virtfs/test/qemu.pid",
    .console_socket_path = c->no_console_socket ? NULL : "/run/virtfs/test/console.sock",
    .kvm_available = c->kvm_available,
    .volumes = qemu_argv_test_volumes,
    .n_volumes = qemu_argv_n_test_volumes,
    .tap_fds = c->tap_fds,
    .n_tap_fds = c->n_tap_fds,
  };
}
