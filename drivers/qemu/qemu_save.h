/* qemu_save.h — saved state: a domain's memory and device state written to
 * a file, QEMU gone, and the next start resuming from it.
 *
 * Saving is a QEMU migration into a unix socket the daemon listens on
 * (RUN/domains/UUID/save.sock); the daemon copies the stream into
 * STATE/saved/UUID.img.partial, fsyncs it, writes STATE/saved/UUID.xml
 * (the definition QEMU ran, and whether it ran or was paused), renames the
 * image to UUID.img and ends QEMU. Only UUID.img counts as a saved state,
 * so a daemon killed during a save never leaves a half image taken for
 * whole: the socket closes, the migration fails, and the guest runs on.
 *
 * Restoring is the reverse: QEMU starts with -incoming defer, listens on
 * RUN/domains/UUID/restore.sock (migrate-incoming), and the daemon streams
 * the image into it. The image is deleted only once QEMU has it all; a
 * daemon killed during a restore leaves the image (the reattached QEMU that
 * did not finish is ended, see qemu_save_recover()).
 *
 * Functions return 0 or -errno with a sentence. */
#pragma once

#include <stdbool.h>

#include "drivers/qemu/qemu_driver.h"

typedef struct QemuDomain QemuDomain;

/* Whether the domain (by UUID) has a complete saved state. */
bool qemu_save_exists(QemuDriver *driver, const char *uuid);

/* echo saved > state: saves a running or paused domain and stops QEMU. */
int qemu_domain_save(QemuDriver *driver, Obj *obj, char **ret_error);

/* ctl discard-saved: deletes the saved state (the next start boots). */
int qemu_domain_discard_saved(QemuDriver *driver, Obj *obj, char **ret_error);

/* Pure: whether a domain saved while running `saved` can be restored with
 * the definition `now`: same type, machine, memory, vCPUs and devices the
 * guest sees. -EINVAL with the difference otherwise. */
int qemu_save_check_compatible(const DomainDef *saved, const DomainDef *now, char **ret_error);

/* For a start (qemu_lifecycle.c): when a saved state exists, checks that
 * `def` can take it (-EINVAL with the reason) and returns true in
 * *ret_restore, so QEMU is started with -incoming defer. */
int qemu_save_prepare_restore(QemuDriver *driver, const DomainDef *def, bool *ret_restore,
                              char **ret_error);
/* Then, once QEMU answers on QMP and before `cont`: streams the image in and
 * waits until QEMU has it. The image is deleted afterwards. */
int qemu_save_restore_incoming(QemuDomain *dom, char **ret_error);

/* After reattaching to a QEMU a killed daemon left (qemu_lifecycle.c):
 * finishes or undoes a save or restore it was in: an unfinished image is
 * removed; a QEMU that migrated out entirely is quit when the image is
 * whole, resumed when not; a QEMU still taking a restore in is ended (the
 * image stays); a QEMU running beside a whole image had restored it, so
 * the image goes. */
void qemu_save_recover(QemuDomain *dom, const char *qemu_status);
