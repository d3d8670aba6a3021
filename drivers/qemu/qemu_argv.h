/* qemu_argv.h — builds the argv that starts QEMU for a domain definition.
 *
 * qemu_argv_build() is pure: everything it needs that is not in the
 * definition (paths of the run directory, whether /dev/kvm works, tap file
 * descriptors the daemon opened, paths of storage volumes) comes in through
 * QemuArgvConfig, and it performs no I/O, reads no environment and keeps no
 * state. The daemon forks, arranges the fds and executes the result.
 *
 * What the daemon must know about the command line it gets:
 *
 *  - QEMU starts paused (-S). The daemon connects to the QMP socket, to the
 *    console socket, applies what can only be set at run time (balloon target
 *    from <currentMemory> with `balloon`, balloon statistics period with
 *    `qom-set /machine/peripheral/balloon0 guest-stats-polling-interval`) and
 *    then sends `cont`. Connecting to the console socket before `cont` is
 *    what makes the guest's first bytes of boot output visible.
 *
 *  - -no-shutdown is always given: when the guest powers off, QEMU emits
 *    SHUTDOWN and pauses instead of exiting, and the daemon applies
 *    on_poweroff (destroy → `quit`; restart → `system_reset` + `cont`;
 *    preserve → leave it paused). One path handles every guest shutdown, and
 *    `ctl reboot` can be done as ACPI power button + reset. on_reboot other
 *    than restart adds -no-reboot, so a guest reboot also arrives as SHUTDOWN
 *    (reason "guest-reset") and the daemon applies on_reboot to it.
 *    rename-restart is refused. A crash is only reported (GUEST_PANICKED)
 *    when the definition has a <panic> device (pvpanic); without one,
 *    on_crash has no effect.
 *
 *  - The first serial port (or, without serial ports, the first console) is
 *    a listening unix socket at console_socket_path whatever its XML type, so
 *    the daemon can serve the `console` file from it; its XML type only
 *    matters when console_socket_path is NULL.
 *
 *  - VNC with autoport is `-vnc ADDR:0,to=99`: QEMU takes the first free
 *    display in 5900..5999 itself (no race between two starting domains);
 *    the daemon learns the port with `query-vnc`.
 *
 *  - -sandbox on,...,elevateprivileges=deny,spawn=deny,... is always given:
 *    QEMU never needs to exec a helper (taps arrive as fds) or change
 *    credentials. Dropping privileges must therefore happen before exec,
 *    not with -runas, which the filter would kill.
 *
 *  - QEMU object ids, for QMP (i is the index in the definition's array):
 *      chardev charmonitor + monitor monitor     the QMP socket
 *      disk i:      device disk<i>, block nodes disk<i>-file (protocol) and
 *                   disk<i>-format (format; the one devices attach to)
 *      interface i: netdev net<i>, device nic<i>
 *      serial i:    chardev charserial<i>, device serial<i>
 *      console i:   chardev charconsole<i>, device console<i> (virtio only;
 *                   a serial console is serial 0)
 *      video<i> (0 is the primary adapter), input<i>, balloon0, rng<i> with
 *                   backend object objrng<i>
 *      tpm:         chardev chrtpm, tpmdev tpm0, device tpm0
 *      controllers: usb (USB index 0) / usb<N>, scsi<N>, sata<N>,
 *                   virtio-serial<N>; on q35 the built-in AHCI is "ide".
 *
 *  - PCI: every PCI device is placed on bus 0 (pci.0 on pc, pcie.0 on q35)
 *    at its <address> or, without one, at the lowest free slot (from 2 on
 *    pc, from 1 on q35, never 0x1f on q35), so explicit and automatic
 *    addresses never collide. PCI bridges are not supported.
 *
 * Security: every value from the definition that goes into an option string
 * passes through qemu_opt_append(), which doubles commas (QEMU's own escape),
 * so a value can never end its option and add another. Values QEMU cannot
 * take verbatim are refused (see qemu_value_is_safe()), paths must be
 * absolute (so no "json:"/"nbd:" protocol prefix can ever be read from one;
 * -blockdev with an explicit driver does no protocol parsing anyway), and
 * formats are always explicit (never probed). -kernel, -initrd and -append
 * are separate argv elements that QEMU stores without option parsing, so they
 * are passed unescaped; an initrd path with a comma is refused because the
 * multiboot loader splits its -initrd at commas. The definition is trusted
 * like a root-written file: whoever may write config.xml chooses the
 * emulator and the disk paths, as with libvirt.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "objects/domain_def.h"

/* A storage volume resolved by the caller, for <disk type='volume'>. */
typedef struct {
  const char *pool;
  const char *volume;
  const char *path;       /* absolute path of the image or block device */
  bool is_block;          /* a block device (host_device driver) */
} QemuArgvVolume;

/* UEFI firmware resolved by the caller (qemu_firmware.h): read-only code
 * and the domain's own NVRAM, both pflash. */
typedef struct {
  char *code;             /* firmware image (executable) */
  char *code_format;      /* "raw" or "qcow2" */
  char *nvram_template;   /* where a new NVRAM is copied from; NULL = none */
  char *nvram_path;       /* the domain's variables */
  char *nvram_format;
  bool secure_boot;       /* the image enforces Secure Boot */
  bool requires_smm;      /* the image needs SMM (secure pflash) */
} QemuArgvFirmware;

typedef struct {
  const QemuArgvFirmware *firmware; /* required when the domain boots UEFI */
  const char *qemu_binary;         /* argv[0] when def->emulator is NULL (may be a bare name for PATH lookup) */
  const char *qmp_socket_path;     /* required: QEMU listens, the daemon connects */
  const char *pid_file;            /* -pidfile; NULL = none */
  const char *console_socket_path; /* see above; NULL = first serial as in the XML */
  bool kvm_available;              /* /dev/kvm is usable */
  const QemuArgvVolume *volumes;   /* every <disk type='volume'>'s volume */
  size_t n_volumes;
  /* Tap fds for the interfaces, by interface index, as numbered in the QEMU
   * process (inherited, not close-on-exec): >= 0 for type network and bridge,
   * -1 for type user. Entries past n_tap_fds count as -1. */
  const int *tap_fds;
  size_t n_tap_fds;
  /* The unix socket swtpm listens on (qemu_tpm.h); required when the
   * definition has a <tpm>. */
  const char *tpm_socket_path;
  /* -incoming VALUE ("defer" to restore a saved state), NULL = none. */
  const char *incoming;
  /* With `incoming`: no -S, so QEMU runs the guest when a migration stream
   * is complete if it ran on the source (a live migration's target; the
   * vCPUs cannot start before a stream arrives). */
  bool incoming_autostart;
} QemuArgvConfig;

/* Builds QEMU's argv (argv[0] is the binary) for `def`. Returns 0 and a
 * NULL-terminated vector in *ret_argv (free with g_strfreev), or on failure a
 * negative errno and a sentence in *ret_error (caller frees); nothing is
 * written to the outputs on failure:
 *   -EOPNOTSUPP  something QEMU on this host or this driver cannot do
 *                (type kvm without /dev/kvm, a machine type other than pc/q35,
 *                an unsupported device model, ...)
 *   -EINVAL      an invalid or unsafe value (relative path, control
 *                character, inconsistent topology, missing tap fd, ...)
 *   -ENOENT      a volume disk whose volume is not in cfg->volumes
 *   -ENOSPC      more PCI devices than slots on bus 0 */
int qemu_argv_build(const DomainDef *def, const QemuArgvConfig *cfg, GStrv *ret_argv,
                    char **ret_error);

/* The QEMU guest agent's channel of `def`: the first <channel type='unix'>
 * whose target is org.qemu.guest_agent.0 and where QEMU listens (not
 * <source mode='connect'>). Its index among the <channel>s (QEMU ids
 * charchannelN / channelN) and its socket path: <source path>, or
 * channelN.sock in `run_dir` (the directory of the QMP socket), as the
 * builder gives QEMU. -ENOENT when there is none. Pure. */
int qemu_argv_agent_channel(const DomainDef *def, const char *run_dir, unsigned *ret_index,
                            char **ret_path);

/* Appends `value` to `buf` with every ',' doubled. QemuOpts and keyval, the
 * two parsers behind -device, -chardev, -netdev, -blockdev, -object, -machine
 * and -name, read ",," as one literal comma, so the value cannot end early. */
void qemu_opt_escape_append(GString *buf, const char *value);

/* Appends "key=value" to an option string, preceded by ',' unless `buf` is
 * empty; `value` is escaped with qemu_opt_escape_append(). `key` is a literal
 * of the caller's and is not escaped. */
void qemu_opt_append(GString *buf, const char *key, const char *value);

/* Whether QEMU can take `value` as is once escaped: valid UTF-8 without
 * control characters (a newline would also break the line-based logs and
 * golden files). NULL is not safe. */
bool qemu_value_is_safe(const char *value);

/* The QEMU device of an <interface>'s <model type> (NULL: the default,
 * rtl8139), or NULL when the model is not supported. For hot plug. */
const char *qemu_argv_nic_device(const char *model);
