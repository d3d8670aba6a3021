/* qemu_snapshot.h — snapshots of domains as internal qcow2 snapshots.
 *
 * A snapshot of a running (or paused) domain holds every included disk and
 * the guest's memory and device state, taken at one instant by QEMU's
 * snapshot-save job (the VM stops for the time of the save). A snapshot of
 * a shut-off domain holds its disks (qemu-img snapshot -c). Each is an
 * internal snapshot with the snapshot's name as tag in every included
 * qcow2 image; the memory goes into the first included disk.
 *
 * Included disks: every disk but CD-ROMs and disks marked <disk
 * snapshot='no'>. A raw, read-only or shareable disk, or one whose image
 * another domain also uses, makes the snapshot fail with -EOPNOTSUPP and a
 * sentence naming the disk and what to do. A qcow2 pflash NVRAM (UEFI) is
 * part of the set like a disk, so a UEFI guest reverts with the variables
 * it had (see qemu_snapshot_targets()).
 *
 * Records: STATE/snapshots/UUID/NAME.xml (snapshot_def.h, atomic writes)
 * and STATE/snapshots/UUID/current (the name of the current snapshot, the
 * parent of the next one). Records are written after the images changed: a
 * daemon killed in between leaves a tag without record, which the next
 * start rebuilds from the images (marked rebuilt; the definition of that
 * moment is then unknown and the current one is used).
 *
 * The snapshots are children of their domain in the registry (OBJ_SNAPSHOT).
 * Functions return 0 or -errno with a sentence; they run in FUSE worker
 * threads and wait for QEMU and qemu-img. */
#pragma once

#include "drivers/qemu/qemu_driver.h"

/* Loads the snapshot records of every defined domain into the registry,
 * rebuilding those whose record is missing from the images. Returns the
 * number of snapshots. */
int qemu_snapshot_load_all(QemuDriver *driver);

/* Takes snapshot `name` of domain `dom` (mkdir). -EEXIST when taken. */
int qemu_snapshot_create(QemuDriver *driver, Obj *dom, const char *name, char **ret_error);

/* Returns the domain to the snapshot: disks, memory (if it has it) and the
 * definition; the domain ends running or paused as it was (shut off for a
 * disk-only snapshot). The snapshot becomes the current one. */
int qemu_snapshot_revert(QemuDriver *driver, Obj *snap, char **ret_error);

/* Deletes the snapshot from the images and its record; its children get
 * its parent as theirs (internal snapshots do not depend on each other). */
int qemu_snapshot_delete(QemuDriver *driver, Obj *snap, char **ret_error);

/* The name of the domain's current snapshot, or NULL. */
char *qemu_snapshot_current(QemuDriver *driver, Obj *dom);

/* One internal snapshot of an image, from `qemu-img info --output=json`. */
typedef struct {
  char name[256];
  uint64_t vm_state_size;   /* bytes of memory state; 0 for disk-only */
  int64_t date_sec;
} QemuImgSnapshot;

/* Parses qemu-img info's JSON: the "snapshots" it lists (GPtrArray of
 * QemuImgSnapshot*, freed with g_free), empty when it lists none. Pure.
 * -EPROTO with a sentence for text that is not a JSON object. */
int qemu_img_snapshots_parse(const char *json, size_t len, GPtrArray **ret_snapshots,
                             char **ret_error);
