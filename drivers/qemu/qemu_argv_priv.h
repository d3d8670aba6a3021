/* qemu_argv_priv.h — what the files of the QEMU command-line builder share;
 * not for use outside drivers/qemu/qemu_argv*.c.
 *
 * qemu_argv.c holds the entry point, escaping and boot-order planning; each
 * other qemu_argv_AREA.c builds the options of one area (os/cpu/machine,
 * controllers and PCI placement, disks, interfaces, character devices,
 * graphics/video/input, other devices). All are pure like
 * qemu_argv_build(). The first error is kept ("sticky", see fail()) and the
 * rest of the walk is harmless, which keeps each emitter a straight line.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "drivers/qemu/qemu_argv.h"

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
  uint32_t slots_used;  /* slots taken on bus 0 */
  uint32_t pci_buses;   /* bit N: a PCI controller (root port, bridge) of index N */

  DiskPlan *disks;
  unsigned *net_bootindex;

  /* controller indexes (bit N = index N) defined in the XML and needed */
  uint32_t usb_defined, scsi_defined, sata_defined, vserial_defined;
  uint32_t scsi_needed, sata_needed;
  bool usb0_none, usb_needed, vserial_needed;
  bool fdc_built;       /* the floppy controller's options are out */
} Builder;

/* ---- sticky errors, argv and option strings ---- */

static inline void G_GNUC_PRINTF(3, 4) fail(Builder *b, int err, const char *fmt, ...) {
  if (b->err)
    return;
  va_list ap;
  va_start(ap, fmt);
  b->error = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  b->err = err;
}

/* ---- escaping ---- */

static inline void arg(Builder *b, const char *a) {
  g_ptr_array_add(b->argv, g_strdup(a));
}

/* Adds `option` and the option string `s`, consuming `s`. */
static inline void arg_opts(Builder *b, const char *option, GString *s) {
  arg(b, option);
  g_ptr_array_add(b->argv, g_string_free(s, FALSE));
}

/* The option string's leading implied value (a driver or backend name of
 * ours, never from the definition). */
static inline GString *opts_new(const char *first) {
  return g_string_new(first);
}

/* `what` names the value in sentences ("disk 'vda': source"). A value that
 * fails is never printed, since it may hold control characters. */
static inline bool check_value(Builder *b, const char *what, const char *value) {
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

static inline bool check_path(Builder *b, const char *what, const char *path) {
  if (!check_value(b, what, path))
    return false;
  if (path[0] != '/') {
    fail(b, -EINVAL, "%s '%s' is not an absolute path", what, path);
    return false;
  }
  return true;
}

/* A value from the definition: checked, then escaped. */
static inline void opt_str(Builder *b, GString *s, const char *key, const char *what, const char *value) {
  if (check_value(b, what, value))
    qemu_opt_append(s, key, value);
}

static inline void opt_path(Builder *b, GString *s, const char *key, const char *what, const char *path) {
  if (check_path(b, what, path))
    qemu_opt_append(s, key, path);
}

/* A value of ours (numbers, ids); escaped all the same. */
static inline void G_GNUC_PRINTF(3, 4) optf(GString *s, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *v = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  qemu_opt_append(s, key, v);
}

/* qemu_argv.c */
char *qargv_disk_label(const DomainDisk *d, size_t i);
const char *qargv_address_type_name(DeviceAddressType t);

/* qemu_argv_os.c: -machine, -cpu, -smp and the global options */
void qargv_build_global(Builder *b);
void qargv_check_host(Builder *b);

/* qemu_argv_controller.c: PCI placement and controllers */
void qargv_pci_reserve(Builder *b, const DeviceAddress *a);
void qargv_opt_pci(Builder *b, GString *s, const char *label, const DeviceAddress *a);
bool qargv_check_no_address(Builder *b, const char *label, const DeviceAddress *a);
void qargv_build_controllers(Builder *b);

/* qemu_argv_disk.c */
void qargv_plan_disks(Builder *b);
void qargv_build_disk(Builder *b, const DomainDisk *d, size_t i);

/* qemu_argv_net.c */
void qargv_build_interface(Builder *b, const DomainInterface *n, size_t i);

/* qemu_argv_chardev.c */
void qargv_build_serials_consoles(Builder *b);
void qargv_build_channels(Builder *b);

/* qemu_argv_graphics.c */
void qargv_build_graphics(Builder *b);
void qargv_build_video(Builder *b);
void qargv_build_inputs(Builder *b);
void qargv_opt_usb(Builder *b, GString *s, const DeviceAddress *a);
void qargv_build_sound_redir(Builder *b);

/* qemu_argv_misc.c */
void qargv_build_memballoon(Builder *b);
void qargv_build_rngs(Builder *b);
void qargv_build_watchdog_panic(Builder *b);
void qargv_build_tpm(Builder *b);
