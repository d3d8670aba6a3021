/* snapshot_def.h — the record of one snapshot of a domain, as a plain
 * struct and its XML, in the shape of libvirt's <domainsnapshot>:
 *
 *   <domainsnapshot>
 *     <name>before-upgrade</name>
 *     <state>running</state>                 the domain's state when taken
 *     <parent><name>base</name></parent>     absent for a root
 *     <creationTime>1764690000</creationTime>
 *     <memory snapshot='internal' size='123'/>   or snapshot='no'
 *     <disks>
 *       <disk name='vda' snapshot='internal'/>
 *       <disk name='hdc' snapshot='no'/>     excluded (snapshot='no', CD-ROM)
 *     </disks>
 *     <rebuilt/>                             recovered from the images only
 *     <domain type='qemu'>...</domain>       the definition of that moment
 *   </domainsnapshot>
 *
 * Contract: parse and format are pure (libxml2 stays in snapshot_def.c);
 * format(parse(x)) is a fixed point. The embedded <domain> is kept as text:
 * it is parsed as a domain only when a revert applies it. Names follow
 * object_name_validate (checked by the caller that creates one).
 * SnapshotDef is freed with snapshot_def_free (NULL-tolerant). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "objects/enum_table.h"
#include "objects/obj.h"

/* The domain's state when the snapshot was taken; a revert returns to it. */
typedef enum {
  SNAPSHOT_STATE_RUNNING,
  SNAPSHOT_STATE_PAUSED,
  SNAPSHOT_STATE_SHUTOFF,
} SnapshotState;
ENUM_TABLE_DECL(snapshot_state, SnapshotState)

typedef struct {
  char *target;   /* the disk's target dev ("vda") */
  bool included;  /* false: excluded (snapshot='no' or a CD-ROM) */
} SnapshotDisk;

typedef struct {
  char *name;
  char *parent;             /* NULL: a root of the tree */
  int64_t created;          /* seconds since the epoch */
  SnapshotState state;
  bool memory;              /* holds the memory and device state */
  uint64_t memory_size;     /* bytes of that state (QEMU's vm-state-size) */
  GPtrArray *disks;         /* SnapshotDisk* */
  bool rebuilt;             /* recovered from the images: parent and domain
                               are best guesses */
  char *domain_xml;         /* the domain's definition when taken */
} SnapshotDef;

SnapshotDef *snapshot_def_new(const char *name);
void snapshot_def_free(SnapshotDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SnapshotDef, snapshot_def_free)
SnapshotDef *snapshot_def_copy(const SnapshotDef *def);
void snapshot_def_add_disk(SnapshotDef *def, const char *target, bool included);

/* 0 or -EINVAL/-EFBIG with a sentence. */
int snapshot_def_parse(const char *xml, size_t len, SnapshotDef **ret_def, char **ret_error);
char *snapshot_def_format(const SnapshotDef *def);

/* The ObjType of snapshots: children of their domain, not stored by the
 * store (the QEMU driver keeps their records, see qemu_snapshot.c). */
extern const ObjType snapshot_obj_type;
