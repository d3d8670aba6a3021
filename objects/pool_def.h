/* pool_def.h — the persistent definition of a storage pool, as a plain struct
 * that mirrors the subset of libvirt's storage pool XML virtfs supports:
 * types dir, fs (a block device or image file mounted on the target path),
 * netfs (an NFS export or CIFS share mounted on the target path) and
 * logical (an LVM volume group).
 *
 * Contract:
 *  - pool_def_parse() and pool_def_format() are pure: no I/O, no globals
 *    (a missing UUID is generated at random). libxml2 is confined to
 *    pool_xml.c.
 *  - Parsing fills defaults so that format(parse(x)) is a fixed point: a UUID,
 *    target permissions mode 0711, the fs source format 'auto', the logical
 *    source name (= pool name), format 'lvm2' and target path (/dev/VG).
 *  - <capacity>, <allocation> and <available> are live figures: they are
 *    accepted and ignored on input (so writing back what was read is a
 *    no-op), and written only when pool_def_format() is given sizes.
 *  - A security label (<permissions><label>) is kept and given back, and
 *    never applied: virtfs has no SELinux or AppArmor driver (docs/pools.md).
 *  - Every string is owned by the struct; PoolDef is freed with
 *    pool_def_free() (NULL-tolerant) or g_autoptr(PoolDef).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "objects/enum_table.h"

/* <pool type='...'> */
typedef enum {
  POOL_TYPE_DIR,
  POOL_TYPE_FS,
  POOL_TYPE_LOGICAL,
  POOL_TYPE_NETFS,
} PoolType;
ENUM_TABLE_DECL(pool_type, PoolType)

/* <source><format type='...'/>: filesystems for fs pools, 'lvm2' for logical
 * pools. 'auto' (fs only) lets mount(8) probe and makes `build` create no
 * filesystem. */
typedef enum {
  POOL_FORMAT_AUTO,
  POOL_FORMAT_EXT2,
  POOL_FORMAT_EXT3,
  POOL_FORMAT_EXT4,
  POOL_FORMAT_XFS,
  POOL_FORMAT_VFAT,
  POOL_FORMAT_BTRFS,
  POOL_FORMAT_LVM2,
  POOL_FORMAT_NFS,         /* netfs */
  POOL_FORMAT_CIFS,        /* netfs */
} PoolFormat;
ENUM_TABLE_DECL(pool_format, PoolFormat)

/* <permissions> of a pool's target directory or of a volume. */
#define STORAGE_ID_UNSET (-1)
#define STORAGE_LABEL_MAX 256
typedef struct {
  unsigned mode;   /* permission bits (07777 at most); always set after parse */
  long owner;      /* uid, STORAGE_ID_UNSET = the daemon's */
  long group;      /* gid, STORAGE_ID_UNSET = the daemon's */
  char label[STORAGE_LABEL_MAX]; /* <label>, "" = none; never applied */
} StoragePermissions;

#define POOL_DEFAULT_MODE 0711
#define VOLUME_DEFAULT_MODE 0600

typedef struct PoolDef {
  PoolType type;
  char *name;
  char uuid[37];              /* canonical lowercase, always filled after parse */
  /* <source> */
  GPtrArray *source_devices;  /* char*: fs exactly one (device or image file);
                                 logical the PVs (may be empty for a VG that
                                 already exists); dir none */
  char *source_name;          /* logical: the VG name (= name when absent); else NULL */
  PoolFormat source_format;   /* fs: a filesystem or auto; netfs: nfs, cifs or
                                 auto (mount(8) decides, HOST:DIR); logical:
                                 lvm2; dir: auto */
  char *source_host;          /* netfs: <host name>, required; else NULL */
  unsigned source_port;       /* netfs: <host port>, 0 = the protocol's */
  char *source_dir;           /* netfs: <dir path> (the export or share) */
  unsigned source_protocol;   /* netfs nfs/auto: <protocol ver>, 0 = mount's choice */
  /* <target> */
  char *target_path;          /* absolute, normalized (no '.', '..', '//', trailing '/') */
  StoragePermissions perms;
} PoolDef;

/* Live figures, in bytes. */
typedef struct {
  uint64_t capacity;
  uint64_t allocation;
  uint64_t available;
} PoolSizes;

/* virtfs's default pool: type dir, named 'default', target `path` (which the
 * caller gives absolute), a fresh UUID, mode 0711. Never fails. */
PoolDef *pool_def_new_default(const char *path);

/* Parses libvirt pool XML of `len` bytes. Returns 0 and a new PoolDef in
 * *ret_def, or -EINVAL (malformed, unsupported element/attribute, invalid
 * value) or -EFBIG (over the size cap) with a sentence naming the element and
 * line in *ret_error (caller frees). Never touches the filesystem. */
int pool_def_parse(const char *xml, size_t len, PoolDef **ret_def, char **ret_error);

/* Formats the canonical XML (2-space indent, stable order, trailing newline).
 * `sizes` (may be NULL) adds <capacity>/<allocation>/<available> in bytes as
 * libvirt's pool-dumpxml does. Returns a newly allocated string. */
char *pool_def_format(const PoolDef *def, const PoolSizes *sizes);

/* The path of volume `name` in the pool: TARGET/NAME (for logical pools
 * /dev/VG/NAME). `name` must be valid (see pool_volume_name_validate). */
char *pool_volume_path(const PoolDef *def, const char *name);

/* A volume name acceptable in this pool: object_name_validate() and, for
 * logical pools, LVM's rule too. 0 or -EINVAL/-ENAMETOOLONG with a sentence
 * (ret_error may be NULL). */
int pool_volume_name_validate(const PoolDef *def, const char *name, char **ret_error);

/* LVM's rule for VG and LV names: [A-Za-z0-9+_.-], not starting with '-',
 * not '.' or '..', at most 127 bytes, none of the names LVM reserves. */
int pool_lvm_name_validate(const char *name, char **ret_error);

/* Normalizes an absolute path: collapses '//' and drops a trailing '/'.
 * -EINVAL for a relative path, a '.' or '..' component, or control
 * characters. */
int pool_path_normalize(const char *path, char **ret_path);

PoolDef *pool_def_copy(const PoolDef *def);
void pool_def_free(PoolDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PoolDef, pool_def_free)
