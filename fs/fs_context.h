/* fs_context.h — what the FUSE callbacks are given as private data: the
 * registry plus the daemon's settings and drivers. Created once in main.c;
 * everything in it is read-only after start except through its own locks. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "objects/registry.h"

struct fuse_session;
typedef struct FsAdapter FsAdapter;
typedef struct QemuDriver QemuDriver;
typedef struct NetworkManager NetworkManager;
typedef struct FsPools FsPools;

/* What /virt/metrics counts of the daemon's own requests. */
typedef enum {
  FS_REQUEST_GETATTR,
  FS_REQUEST_READDIR,
  FS_REQUEST_OPEN,
  FS_REQUEST_READ,
  FS_REQUEST_WRITE,
  FS_REQUEST_KIND_COUNT,
} FsRequestKind;

typedef struct FsMetrics FsMetrics;

typedef struct FsContext {
  Registry *registry;
  struct fuse_session *session; /* set once created (main.c) */
  FsAdapter *adapter;       /* fs_ops.c's own state: inodes, invalidations */
  char *state_dir;
  char *run_dir;
  uid_t owner_uid;          /* owner of every served file and directory */
  gid_t owner_gid;          /* its group: --group or the owner's */
  bool group_writable;      /* --group given: the group may change things */
  bool kvm_available;       /* KVM runs ordinary guests (node_kvm_usable) */
  const char *kvm_reason;   /* when !kvm_available: why, one sentence
                               (owned by main) */
  bool privileged;          /* running as root (system mode) */
  int state_timeout_ms;     /* how long a write to `state` waits */
  QemuDriver *qemu;         /* NULL until the QEMU driver is started */
  NetworkManager *networks; /* NULL until the network manager is started */
  FsPools *pools;           /* storage driver and pool locks (fs_pools.h); NULL
                               until fs_pools_init */
  /* Whether a running domain uses volume `vol` of pool `pool`: removing,
   * renaming, resizing, reformatting or writing the data of such a volume
   * is refused with EBUSY, and so is stopping its pool. NULL means never
   * (until the QEMU driver sets it). Called with no lock held. */
  bool (*volume_in_use)(struct FsContext *ctx, const char *pool, const char *vol);
  GMutex pollers_lock;      /* protects pollers */
  GHashTable *pollers;      /* FsHandle* of open event streams, for poll() */
  GOnce hypervisor_once;    /* NodeHypervisor*: QEMU's facts, probed on first use */
  uint64_t requests[FS_REQUEST_KIND_COUNT]; /* atomic counters (fs_ops.c) */
  int64_t start_time_us;    /* when the daemon started (real time) */
  FsMetrics *metrics;       /* the last /virt/metrics snapshot (fs_metrics.c) */
  GMutex entries_lock;      /* protects entries */
  GHashTable *entries;      /* "DIR/ENTRY" -> FsFile* of data directories
                               (fs_file_lookup_path) */
} FsContext;
