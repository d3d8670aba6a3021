/* qemu_tpm.h — the TPM emulator (swtpm) behind <tpm><backend
 * type='emulator'>, one per running domain that has a <tpm>.
 *
 *  - State: STATE_DIR/tpm/UUID (mode 0700, files 0600), created at the
 *    first start and kept across restarts and renames (it is named by the
 *    UUID, like the UEFI NVRAM); qemu_tpm_remove_state() deletes it when
 *    the domain is undefined. No swtpm_setup is run: libtpms manufactures
 *    the TPM (its seeds) at the first start, without EK certificates. A
 *    directory prepared beforehand with swtpm_setup is used as it is.
 *  - Control socket: RUN/domains/UUID/swtpm.sock. The daemon binds and
 *    listens on it itself and hands the listening socket to swtpm as fd 3
 *    (--ctrl type=unixio,fd=3), so the socket accepts QEMU's connection the
 *    moment swtpm is spawned: no polling for the path, no race. The state
 *    directory goes in as fd 4 too (--tpmstate dir=/proc/self/fd/4): swtpm
 *    has no escape for commas in its option values, and this way no path
 *    of the daemon's ever reaches its option parser. QEMU gets the socket's
 *    path, with QEMU's own comma escaping (qemu_argv.h).
 *  - Lifetime: --terminate makes swtpm exit when QEMU closes the control
 *    connection, which QEMU holds for its whole life: swtpm ends with
 *    QEMU however QEMU ends, and a daemon restart changes nothing (QEMU
 *    and swtpm keep running, each in its own session). A start that fails
 *    kills it (qemu_tpm_abort). Once QEMU is up, the socket path is
 *    unlinked (QEMU connected already and never reconnects).
 *  - Log: STATE_DIR/logs/swtpm/NAME.log, appended, beside QEMU's
 *    STATE_DIR/logs/NAME.log.
 *
 * qemu_tpm_swtpm_argv() is pure; the rest does I/O. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "objects/domain_def.h"

#define QEMU_TPM_SWTPM_BINARY "swtpm"
/* fd numbers in the swtpm process */
#define QEMU_TPM_CTRL_FD 3
#define QEMU_TPM_STATE_FD 4

/* The definition's <tpm>, or NULL. */
const DomainXNode *qemu_tpm_device(const DomainDef *def);

/* Whether the TPM is a TPM 2.0 (backend version '2.0', the default). */
bool qemu_tpm_is_tpm2(const DomainXNode *tpm);

/* swtpm's argv for `def`'s TPM, with the control socket at fd
 * QEMU_TPM_CTRL_FD and the state directory at QEMU_TPM_STATE_FD. 0, or
 * -EINVAL with a sentence when `def` has no <tpm>. */
int qemu_tpm_swtpm_argv(const DomainDef *def, const char *binary, GStrv *ret_argv,
                        char **ret_error);

/* A running swtpm the daemon spawned. */
typedef struct {
  pid_t pid;           /* 0 = none */
  int pidfd;           /* -1 = none */
  char *socket_path;
} QemuTpm;

#define QEMU_TPM_INIT {0, -1, NULL}

/* Creates the state directory, listens on socket_path and spawns swtpm.
 * 0 and *tpm filled, or -errno with a sentence (-ENOENT: swtpm is not
 * installed). */
int qemu_tpm_start(const DomainDef *def, const char *state_dir, const char *socket_path,
                   QemuTpm *tpm, char **ret_error);

/* QEMU started and connected: unlinks the socket path and leaves swtpm to
 * end with QEMU; it is reaped on `context` when it exits. *tpm is empty
 * afterwards. */
void qemu_tpm_release(QemuTpm *tpm, GMainContext *context);

/* QEMU did not start: stops swtpm (SIGTERM, SIGKILL after a second),
 * reaps it, unlinks the socket. NULL-safe, idempotent. */
void qemu_tpm_abort(QemuTpm *tpm);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QemuTpm, qemu_tpm_abort)

/* Deletes STATE_DIR/tpm/UUID and what it holds, if present. */
void qemu_tpm_remove_state(const char *state_dir, const char *uuid);
