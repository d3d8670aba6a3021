/* volume_def.h — the definition of a storage volume, as a plain struct that
 * mirrors the subset of libvirt's volume XML virtfs supports: raw and qcow2
 * files (qcow2 overlays over a backing file) in dir/fs pools, and logical
 * volumes (raw) in logical pools.
 *
 * Contract:
 *  - volume_def_parse() and volume_def_format() are pure: no I/O, no globals.
 *    libxml2 is confined to volume_xml.c.
 *  - Sizes are bytes. On input <capacity>/<allocation> take libvirt's units
 *    (default bytes); the output always says unit='bytes'.
 *  - <capacity> is required, except for an overlay (<backingStore>), whose
 *    capacity defaults to its backing file's when created.
 *  - <allocation> on input is a creation hint: 0 or absent makes a sparse
 *    volume, allocation = capacity a fully allocated one (see the storage
 *    driver). Once a volume exists, its allocation is what the file really
 *    uses, so writing back what was read is a no-op.
 *  - <key> and <target><path> are computed from the pool (the key is the
 *    path, also for logical volumes where libvirt uses the LV UUID): given a
 *    pool, they are accepted on input only if they equal the computed value,
 *    and always filled in. <volume type> is likewise derived from the pool
 *    type (file for dir/fs, block for logical).
 *  - Live-only elements libvirt writes — <physical>, <target><timestamps>,
 *    <source> with its <device path><extent/></device> — are accepted and
 *    ignored. Anything else unknown is rejected, naming the element and line.
 *    A volume read back from its pool carries its timestamps (atime, mtime,
 *    ctime, as libvirt writes them: seconds[.nanoseconds]).
 *  - In a logical pool a <key> may also be an LVM UUID (what libvirt uses
 *    there); it is accepted and replaced by the path.
 *  - <permissions><label> is kept in a definition and never applied: a
 *    volume read back shows the label its file really has (its
 *    security.selinux attribute), or none.
 *  - <features><lazy_refcounts/> (qcow2 only) needs compat 1.1, which it
 *    implies when no compat is given.
 *  - Every string is owned by the struct; VolumeDef is freed with
 *    volume_def_free() (NULL-tolerant) or g_autoptr(VolumeDef).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "objects/enum_table.h"
#include "objects/pool_def.h"

/* <volume type='...'> */
typedef enum {
  VOLUME_TYPE_FILE,
  VOLUME_TYPE_BLOCK,
} VolumeType;
ENUM_TABLE_DECL(volume_type, VolumeType)

/* <target><format type='...'/> and <backingStore><format type='...'/> */
typedef enum {
  VOLUME_FORMAT_RAW,
  VOLUME_FORMAT_QCOW2,
} VolumeFormat;
ENUM_TABLE_DECL(volume_format, VolumeFormat)

typedef struct VolumeDef {
  VolumeType type;
  char *name;
  char *key;                  /* = target_path once resolved against a pool, else NULL */
  uint64_t capacity;          /* bytes */
  bool capacity_set;
  uint64_t allocation;        /* bytes */
  bool allocation_set;
  char *target_path;          /* NULL until resolved against a pool */
  VolumeFormat format;        /* default raw */
  char *compat;               /* qcow2 <compat>: "0.10" or "1.1"; NULL = qemu-img's default */
  bool lazy_refcounts;        /* qcow2 <features><lazy_refcounts/> */
  bool timestamps_set;        /* read back from a file: the times below */
  struct timespec atime, mtime, ctime;
  StoragePermissions perms;   /* mode default 0600 */
  char *backing_path;         /* <backingStore><path>, NULL = none (qcow2 only) */
  VolumeFormat backing_format;/* <backingStore><format>; meaningful when backing_path */
  bool backing_format_set;    /* false: the driver probes the backing file */
} VolumeDef;

/* A definition with defaults only: type file, raw, mode 0600, no sizes. */
VolumeDef *volume_def_new(const char *name);

/* Parses libvirt volume XML of `len` bytes. With `pool` (may be NULL), the
 * name is checked against the pool's rules, and type, key and target path are
 * checked and filled in (see above); a logical pool takes raw volumes only.
 * Returns 0 and a new VolumeDef in *ret_def, or -EINVAL / -EFBIG with a
 * sentence naming the element and line in *ret_error (caller frees). */
int volume_def_parse(const char *xml, size_t len, const PoolDef *pool,
                     VolumeDef **ret_def, char **ret_error);

/* Fills key, target path and type from the pool, after checking the name and
 * any key/path/type already present. 0 or -EINVAL with a sentence. Pure. */
int volume_def_resolve(VolumeDef *def, const PoolDef *pool, char **ret_error);

/* Formats the canonical XML (2-space indent, stable order, trailing newline,
 * sizes in bytes). Returns a newly allocated string. */
char *volume_def_format(const VolumeDef *def);

VolumeDef *volume_def_copy(const VolumeDef *def);
void volume_def_free(VolumeDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VolumeDef, volume_def_free)
