/* qemu_firmware.h — UEFI firmware for a domain: which image QEMU runs and
 * which NVRAM file holds the domain's variables.
 *
 *  - <os firmware='efi'> picks a firmware from QEMU's firmware descriptors
 *    (the *.json files of /usr/share/qemu/firmware, installed by the ovmf package), the
 *    way libvirt does: the first descriptor, in file name order, that
 *    offers the "uefi" interface on a flash device for x86_64 and the
 *    domain's machine family, and that has every <firmware><feature
 *    enabled='yes'> and none of those with enabled='no' (secure-boot,
 *    enrolled-keys). Without features the first match wins, which on
 *    Debian is the Secure Boot one with Microsoft's keys enrolled, as with
 *    libvirt.
 *  - An explicit <loader> (pflash, read-only) and <nvram> are used as
 *    written; <nvram template='...'> or the descriptor gives the template.
 *  - Each domain gets its own NVRAM: the <nvram> path (copied from the
 *    template the first time), or STATE_DIR/nvram/UUID_VARS.qcow2, made from
 *    the template by qemu-img convert the first time (mode 0600), qcow2 so
 *    that snapshots include it. A raw UUID_VARS.fd of an earlier version is
 *    converted at the next start. It survives restarts;
 *    qemu_firmware_remove_nvram() deletes it when the domain is undefined.
 *
 * qemu_firmware_select() is pure (descriptor texts in, choice out);
 * qemu_firmware_prepare() reads the descriptors and copies the template. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "drivers/qemu/qemu_argv.h"
#include "objects/domain_def.h"

#define QEMU_FIRMWARE_DIR "/usr/share/qemu/firmware"

/* Whether `def` boots UEFI firmware (firmware='efi', <loader> or <nvram>). */
bool qemu_firmware_wanted(const DomainDef *def);

/* Chooses among `n` descriptor texts (JSON, in priority order) for `def`.
 * Returns 0 and fills *ret (strings owned by the caller: free with
 * qemu_firmware_clear) or -ENOENT with a sentence. nvram_path is left NULL
 * unless <nvram> names one. */
int qemu_firmware_select(const DomainDef *def, const char *const *descriptors, size_t n,
                         QemuArgvFirmware *ret, char **ret_error);

/* Reads the descriptors in `dir`, selects, and makes sure the domain's
 * NVRAM exists (copying the template). Returns 0, -ENOENT (no firmware
 * fits; ovmf missing) or -EIO, with a sentence. */
int qemu_firmware_prepare(const DomainDef *def, const char *dir, const char *state_dir,
                          QemuArgvFirmware *ret, char **ret_error);

/* Where the NVRAM of `def` is, and its format, without creating it: the
 * <nvram> path (format attribute, default raw), else virtfs's own qcow2
 * (or a raw one not converted yet). Strings owned by the caller. */
void qemu_firmware_nvram(const DomainDef *def, const char *state_dir, char **ret_path,
                         char **ret_format);

/* Deletes virtfs's own NVRAM of `uuid` (qcow2, or raw of old) if present. */
void qemu_firmware_remove_nvram(const char *state_dir, const char *uuid);

void qemu_firmware_clear(QemuArgvFirmware *fw);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QemuArgvFirmware, qemu_firmware_clear)
