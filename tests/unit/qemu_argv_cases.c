/* qemu_argv_cases.c — the QEMU argv golden cases: which definition, built
 * with which config, and whether QEMU can run it here. */
#include "tests/unit/qemu_argv_cases.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <string.h>

void test_set_str(char **field, const char *value) {
  g_free(*field);
  *field = g_strdup(value);
}

/* ---- definitions built in C ---- */

DomainDef *qemu_argv_minimal_def(const char *name) {
  DomainDef *d = domain_def_new();
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
  return d;
}

static DomainDisk *add_disk(DomainDef *def, DiskDevice device, DiskBus bus, const char *source,
                            const char *target) {
  DomainDisk *d = g_new0(DomainDisk, 1);
  d->type = DISK_TYPE_FILE;
  d->device = device;
  d->format = DISK_FORMAT_RAW;
  d->target_bus = bus;
  d->source = g_strdup(source);
  d->target_dev = g_strdup(target);
  d->readonly = device == DISK_DEVICE_CDROM;
  g_ptr_array_add(def->disks, d);
  return d;
}

static DomainDef *c_topology_mismatch(void) {
  DomainDef *d = qemu_argv_minimal_def("topology-mismatch");
  d->vcpus = d->vcpus_current = 4;
  d->cpu.mode = DOMAIN_CPU_MODE_CUSTOM;
  d->cpu.sockets = 1;
  d->cpu.cores = 2;
  d->cpu.threads = 1;
  return d;
}

static DomainDef *c_disk_relative_path(void) {
  DomainDef *d = qemu_argv_minimal_def("disk-relative-path");
  add_disk(d, DISK_DEVICE_DISK, DISK_BUS_VIRTIO, "images/root.img", "vda");
  return d;
}

static DomainDef *c_disk_path_newline(void) {
  DomainDef *d = qemu_argv_minimal_def("disk-path-newline");
  add_disk(d, DISK_DEVICE_DISK, DISK_BUS_VIRTIO, "/tmp/x.img\n-blockdev", "vda");
  return d;
}

static DomainDef *c_disk_serial_injection(void) {
  DomainDef *d = qemu_argv_minimal_def("disk-serial-injection");
  DomainDisk *k = add_disk(d, DISK_DEVICE_DISK, DISK_BUS_VIRTIO, "/var/lib/virtfs/images/a.img",
                           "vda");
  test_set_str(&k->serial, "S1,drive=disk0-file,bootindex=1");
  return d;
}

static DomainDef *c_name_newline(void) {
  return qemu_argv_minimal_def("two\nlines");
}

static DomainDef *c_cdrom_virtio(void) {
  DomainDef *d = qemu_argv_minimal_def("cdrom-virtio");
  add_disk(d, DISK_DEVICE_CDROM, DISK_BUS_VIRTIO, NULL, "vda");
  return d;
}

static DomainDef *c_vnc_not_an_address(void) {
  DomainDef *d = qemu_argv_minimal_def("vnc-not-an-address");
  DomainGraphicsVnc *v = g_new0(DomainGraphicsVnc, 1);
  v->listen = g_strdup("unix:/tmp/vnc.sock");
  v->port = -1;
  g_ptr_array_add(d->graphics, v);
  return d;
}

/* ---- the table ---- */

#define XML NULL
#define NO_TAPS {-1}, 0

const QemuArgvCase qemu_argv_cases[] = {
  {"minimal", XML, false, false, NO_TAPS, NULL},
  {"kernel-boot", XML, false, false, NO_TAPS, NULL},
  {"disks-buses", XML, false, false, NO_TAPS, NULL},
  {"disks-readonly-shareable", XML, false, false, NO_TAPS, NULL},
  {"cdrom", XML, false, false, NO_TAPS, NULL},
  {"boot-order", XML, false, false, NO_TAPS, NULL},
  {"serials", XML, false, false, NO_TAPS, NULL},
  {"serial-pty", XML, false, true, NO_TAPS, NULL},
  {"console-virtio", XML, false, false, NO_TAPS, NULL},
  {"console-virtio-only", XML, false, false, NO_TAPS, NULL},
  {"vnc", XML, false, false, NO_TAPS, NULL},
  {"vnc-autoport", XML, false, false, NO_TAPS, NULL},
  {"video-vga", XML, false, false, NO_TAPS, NULL},
  {"video-cirrus", XML, false, false, NO_TAPS, NULL},
  {"video-bochs", XML, false, false, NO_TAPS, NULL},
  {"video-none", XML, false, false, NO_TAPS, NULL},
  {"inputs", XML, false, false, NO_TAPS, NULL},
  {"memballoon", XML, false, false, NO_TAPS, NULL},
  {"memballoon-none", XML, false, false, NO_TAPS, NULL},
  {"rng", XML, false, false, NO_TAPS, NULL},
  {"nic-user-models", XML, false, false, NO_TAPS, NULL},
  {"nic-tap", XML, false, false, {21, -1, 22}, 3, "needs tap devices"},
  {"nic-tap-missing-fd", XML, false, false, {-1}, 1, NULL},
  {"cpu-topology", XML, false, false, NO_TAPS, NULL},
  {"vcpus-current", XML, false, false, NO_TAPS, NULL},
  {"q35", XML, false, false, NO_TAPS, NULL},
  {"q35-versioned", XML, false, false, NO_TAPS, NULL},
  {"kvm-host", XML, true, false, NO_TAPS, "needs /dev/kvm"},
  {"kvm-refused", XML, false, false, NO_TAPS, NULL},
  {"cpu-host-model-tcg", XML, false, false, NO_TAPS, NULL},
  {"cpu-host-passthrough-tcg", XML, false, false, NO_TAPS, NULL},
  {"comma-injection", XML, false, false, NO_TAPS, NULL},
  {"pci-addresses", XML, false, false, NO_TAPS, NULL},
  {"controllers", XML, false, false, NO_TAPS, NULL},
  {"lifecycle-clock", XML, false, false, NO_TAPS, NULL},
  {"rename-restart", XML, false, false, NO_TAPS, NULL},
  {"volumes", XML, false, false, NO_TAPS, NULL},
  {"volume-unknown", XML, false, false, NO_TAPS, NULL},
  {"block-disks", XML, false, false, NO_TAPS, "needs block devices"},
  {"ide-on-q35", XML, false, false, NO_TAPS, NULL},
  {"ide-readonly", XML, false, false, NO_TAPS, NULL},
  {"initrd-comma", XML, false, false, NO_TAPS, NULL},
  {"machine-unsupported", XML, false, false, NO_TAPS, NULL},
  {"pci-bus-nonzero", XML, false, false, NO_TAPS, NULL},
  {"usb-none-with-tablet", XML, false, false, NO_TAPS, NULL},
  {"libvirt-dumpxml", XML, false, false, NO_TAPS, NULL},
  {"video-secondary", XML, false, false, NO_TAPS, NULL},
  {"video-cirrus-secondary", XML, false, false, NO_TAPS, NULL},
  {"serial-isa-address", XML, false, false, NO_TAPS, NULL},
  {"controller-models", XML, false, false, NO_TAPS, NULL},
  {"pci-root-port", XML, false, false, NO_TAPS, NULL},
  {"scsi-lsilogic-unsupported", XML, false, false, NO_TAPS, NULL},
/* UEFI cases need the NVRAM file the daemon copies; test_corpus.sh starts
 * them through the mount instead. */
#define NVRAM_SKIP "needs the per-domain NVRAM the daemon creates (test_corpus starts it)"
  /* tests/data/corpus (virt-install, virsh dumpxml), NICs turned into
   * type user since this test opens no taps */
  {"corpus-alpine317-serial", XML, false, false, NO_TAPS, NULL},
  {"corpus-debian11-bios-pc", XML, false, false, NO_TAPS, NULL},
  {"corpus-debian11-spice", XML, false, false, NO_TAPS, NULL},
  {"corpus-fedora37-uefi", XML, false, false, NO_TAPS, NVRAM_SKIP},
  {"corpus-freebsd131", XML, false, false, NO_TAPS, NULL},
  {"corpus-opensuse154-two-nics", XML, false, false, NO_TAPS, NULL},
  {"corpus-rhel9-uefi-secure", XML, false, false, NO_TAPS, NVRAM_SKIP},
  {"corpus-ubuntu2204-cdrom-vnc", XML, false, false, NO_TAPS, NULL},
  {"corpus-win10-bios", XML, false, false, NO_TAPS, NULL},
  {"corpus-win11-uefi-tpm", XML, false, false, NO_TAPS, NVRAM_SKIP},
  {"corpus-debian11-spice-printed", XML, false, false, NO_TAPS, NULL},
  {"corpus-win10-bios-printed", XML, false, false, NO_TAPS, NULL},
  {"libvirt-extras", XML, false, false, NO_TAPS, NVRAM_SKIP},
  {"guest-agent-channels", XML, false, false, NO_TAPS,
   "a channel connects to a socket nobody serves (test_guest_agent starts the agent channel)"},
  {"memory-iothreads", XML, false, false, NO_TAPS, NULL},
  /* <tpm>: QEMU connects to the swtpm the daemon starts (qemu_tpm.h) */
  {"tpm-tis", XML, false, false, NO_TAPS, "needs the swtpm the daemon starts (test_corpus starts it)"},
  {"tpm-crb-v12", XML, false, false, NO_TAPS, NULL},
  {"floppy-pc", XML, false, false, NO_TAPS, NULL},
  {"floppy-q35", XML, false, false, NO_TAPS, NULL},
  {"floppy-serial", XML, false, false, NO_TAPS, NULL},
  /* built in C: the parser keeps these out, the builder must too */
  {"topology-mismatch", c_topology_mismatch, false, false, NO_TAPS, NULL},
  {"disk-relative-path", c_disk_relative_path, false, false, NO_TAPS, NULL},
  {"disk-path-newline", c_disk_path_newline, false, false, NO_TAPS, NULL},
  {"disk-serial-injection", c_disk_serial_injection, false, false, NO_TAPS, NULL},
  {"name-newline", c_name_newline, false, false, NO_TAPS, NULL},
  {"cdrom-virtio", c_cdrom_virtio, false, false, NO_TAPS, NULL},
  {"vnc-not-an-address", c_vnc_not_an_address, false, false, NO_TAPS, NULL},
};
const size_t qemu_argv_n_cases = G_N_ELEMENTS(qemu_argv_cases);

DomainDef *qemu_argv_case_def(const QemuArgvCase *c) {
  if (c->build)
    return c->build();
  const char *dir = g_getenv("VIRTFS_TEST_DATA");
  if (!dir)
    fail_msg("VIRTFS_TEST_DATA is not set");
  g_autofree char *file = g_strconcat(c->name, ".xml", NULL);
  g_autofree char *path = g_build_filename(dir, "qemu-argv", file, NULL);
  g_autofree char *xml = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &xml, &len, NULL))
    fail_msg("cannot read %s", path);
  DomainDef *def = NULL;
  g_autofree char *error = NULL;
  if (domain_def_parse(xml, len, &def, &error) < 0)
    fail_msg("%s: %s", path, error);
  return def;
}

const QemuArgvVolume qemu_argv_test_volumes[] = {
  {"default", "data.qcow2", "/var/lib/virtfs/pools/default/data.qcow2", false},
  {"default", "install.iso", "/var/lib/virtfs/pools/default/install.iso", false},
  {"lvm", "lv0", "/dev/vg0/lv0", true},
};
const size_t qemu_argv_n_test_volumes = G_N_ELEMENTS(qemu_argv_test_volumes);

/* What qemu_firmware_prepare() resolves for a UEFI domain on Debian
 * (secure boot off), with the NVRAM in a run path of the tests. */
static const QemuArgvFirmware test_firmware = {
  .code = (char *)"/usr/share/OVMF/OVMF_CODE_4M.fd",
  .code_format = (char *)"raw",
  .nvram_template = (char *)"/usr/share/OVMF/OVMF_VARS_4M.fd",
  .nvram_path = (char *)"/run/virtfs/test/nvram/VARS.fd",
  .nvram_format = (char *)"raw",
};
static const QemuArgvFirmware test_firmware_secure = {
  .code = (char *)"/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
  .code_format = (char *)"raw",
  .nvram_template = (char *)"/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
  .nvram_path = (char *)"/run/virtfs/test/nvram/VARS.fd",
  .nvram_format = (char *)"raw",
  .secure_boot = true,
  .requires_smm = true,
};

void qemu_argv_case_config(const QemuArgvCase *c, QemuArgvConfig *ret_cfg) {
  *ret_cfg = (QemuArgvConfig){
    .firmware = strstr(c->name, "secure") || strstr(c->name, "win11") ? &test_firmware_secure
                                                                        : &test_firmware,
    .qemu_binary = "/usr/bin/qemu-system-x86_64",
    .qmp_socket_path = "/run/virtfs/test/qmp.sock",
    .pid_file = "/run/virtfs/test/qemu.pid",
    .console_socket_path = c->no_console_socket ? NULL : "/run/virtfs/test/console.sock",
    .kvm_available = c->kvm_available,
    .volumes = qemu_argv_test_volumes,
    .n_volumes = qemu_argv_n_test_volumes,
    .tap_fds = c->tap_fds,
    .n_tap_fds = c->n_tap_fds,
    .tpm_socket_path = "/run/virtfs/test/swtpm.sock",
  };
}
