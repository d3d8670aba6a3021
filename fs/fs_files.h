/* fs_files.h — the file tables: each object type declares its files once
 * (name, kind, mode, handlers) and readdir, getattr, open, read, write and
 * permissions all come from the table. Adding a file is one line in the
 * kind's table (fs_domain_files.c, ...).
 *
 * Kinds of file and when their content is applied:
 *   VALUE     one value; rendered at open; a written line ending in '\n' is
 *             applied in write() itself (so `echo bad > f` fails there);
 *             anything left without a newline is applied at flush.
 *   DOCUMENT  XML; buffered per handle by offset, applied whole at flush.
 *   CTL       verbs; each complete line is dispatched in write(), a last
 *             line without newline at flush. Reads list the verbs.
 *   STREAM    console, events, a volume's data: handled by their own ops
 *             (FsStreamOps).
 *   DIR       a subdirectory: pools' volumes/; one whose read-only entries
 *             come from FsDirOps (history/); or a domain's cloud-init/,
 *             whose files are the table's entries named "cloud-init/FILE".
 *
 * Handlers run in FUSE worker threads without any lock held and return 0 or
 * -errno with a sentence in *ret_error; the caller stores the sentence in
 * the object's `error` file. Writing the value a file already holds must
 * succeed and change nothing. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fs/fs_context.h"
#include "objects/obj.h"

typedef enum {
  FS_FILE_VALUE,
  FS_FILE_DOCUMENT,
  FS_FILE_CTL,
  FS_FILE_STREAM,
  FS_FILE_DIR,
} FsFileKind;

typedef struct FsHandle FsHandle;
struct fuse_bufvec;

typedef struct FsStreamOps {
  int (*open)(FsContext *ctx, Obj *obj, FsHandle *h, int flags);
  /* Blocking read of new data; appends at most `size` bytes to out. */
  int (*read)(FsContext *ctx, FsHandle *h, size_t size, GString *out);
  int (*write)(FsContext *ctx, FsHandle *h, const char *data, size_t len);
  /* Returns poll events ready now (POLLIN...). */
  unsigned (*poll)(FsContext *ctx, FsHandle *h);
  void (*release)(FsContext *ctx, FsHandle *h);
  /* Optional, for streams that are files with offsets (a volume's data):
   * when pread is set, reads and writes go through pread/pwrite with the
   * caller's offset, straight between the FUSE buffer and the stream (the
   * file is seekable); truncate serves ftruncate on the handle, flush
   * every close (its error reaches close()), and stat completes the file's
   * stat (size, blocks, blksize) when no handle is given. Return byte
   * counts or -errno. */
  ssize_t (*pread)(FsContext *ctx, FsHandle *h, char *buf, size_t size, off_t offset);
  ssize_t (*pwrite)(FsContext *ctx, FsHandle *h, const char *buf, size_t size, off_t offset);
  int (*truncate)(FsContext *ctx, FsHandle *h, off_t size);
  int (*flush)(FsContext *ctx, FsHandle *h);
  int (*stat)(FsContext *ctx, Obj *obj, struct stat *st);
  /* Optional, with pread: the descriptor whose bytes at the same offsets
   * pread would return, valid until release, so FUSE can splice them to
   * the reader without a copy through the daemon; -errno to use pread. */
  int (*read_fd)(FsContext *ctx, FsHandle *h);
  /* Optional, with pwrite: writes a FUSE buffer (memory, or the pipe a
   * request was spliced into) at offset, e.g. with fuse_buf_copy into a
   * descriptor. Returns the byte count or -errno, like pwrite. */
  ssize_t (*pwrite_buf)(FsContext *ctx, FsHandle *h, struct fuse_bufvec *buf, off_t offset);
} FsStreamOps;

/* The entries of a DIR file that lists read-only files of its own
 * (history/). Each returns 0 or -errno; no lock is held. */
typedef struct FsDirOps {
  /* Appends the entry names, in the order ls shows them. */
  int (*list)(FsContext *ctx, Obj *obj, GPtrArray *names);
  /* The content of entry `name` and its mtime (µs since the epoch);
   * -ENOENT when there is none. */
  int (*read)(FsContext *ctx, Obj *obj, const char *name, GString *out, int64_t *ret_mtime_us);
} FsDirOps;

/* A directory whose entries are data, not a fixed list (a domain's
 * devices/). It is a DIR entry of its kind's table with `data_dir` set; each
 * of its entries is served as an FsFile of its own (kind VALUE or DOCUMENT,
 * name "DIR/ENTRY", `data_dir` set), made once per name by fs_file_lookup_path()
 * and kept until exit, so handles may point at it. The handlers get the
 * entry's name within the directory; they follow the FsFile conventions. */
typedef struct FsDataDirOps {
  /* The kind of file `entry` would be, or -1 when the name can never be an
   * entry (then it is a scratch file, see fs_ops.c). */
  int (*entry_kind)(const char *entry);
  /* Appends the names of the entries there are now (g_free'd strings). */
  void (*list)(FsContext *ctx, Obj *obj, GPtrArray *names);
  bool (*exists)(FsContext *ctx, Obj *obj, const char *entry);
  int (*read)(FsContext *ctx, Obj *obj, const char *entry, GString *out);
  int (*write)(FsContext *ctx, Obj *obj, const char *entry, const char *data, size_t len,
               char **ret_error);
  /* rm of the entry. */
  int (*remove)(FsContext *ctx, Obj *obj, const char *entry, char **ret_error);
} FsDataDirOps;

typedef struct FsFile {
  const char *name;
  FsFileKind kind;
  mode_t mode;   /* owner/other bits; group bits follow --group (see fs_attr.c) */
  /* Renders the current content (snapshot). NULL: reads as empty. */
  int (*read)(FsContext *ctx, Obj *obj, GString *out);
  /* VALUE: the value without surrounding blanks; DOCUMENT: the whole
   * content; CTL: one line without its newline. NULL: read-only file. */
  int (*write)(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error);
  const FsStreamOps *stream;
  /* Optional: the file exists only when this says so (e.g. while active). */
  bool (*present)(FsContext *ctx, Obj *obj);
  /* VALUE: emptying the file (open with O_TRUNC, truncate to 0) applies
   * the empty value at once, as a write would (`: > error` clears it). */
  bool empty_applies;
  /* DIR: its entries (NULL for volumes/, which the path parser knows). */
  const FsDirOps *dir;
  /* Optional: what `rm` of the file does (else it is hidden until written
   * again, as the tools that replace a file expect). Returns 0 when done,
   * FS_REMOVE_HIDE to be hidden like any other file instead, or -errno. */
  int (*remove)(FsContext *ctx, Obj *obj, char **ret_error);
  /* A directory with data entries (kind DIR), or one of its entries. */
  const FsDataDirOps *data_dir;
  /* CTL, optional: the line (stripped) needs the next one, which may be a
   * secret never to be logged (guest/ctl's set-password USER, then the
   * password): write gets "LINE\nNEXT" once both are in. */
  bool (*ctl_joins_next)(const char *line);
} FsFile;

/* What a remove handler returns to be treated as an ordinary table file. */
#define FS_REMOVE_HIDE 1

/* A kind's files and what mkdir, rmdir and rename of its directories do.
 * create: defines a new object with defaults (mkdir); `parent` is the pool
 * for volumes. remove/rename: NULL means registry_undefine/registry_rename.
 * before_list: optional, called before the objects of the kind under
 * `parent` (NULL for top-level kinds) are listed by readdir, to bring the
 * registry in step with the host (volumes of a pool). */
typedef struct {
  const FsFile *files;
  size_t count;
  int (*create)(FsContext *ctx, Obj *parent, const char *name, char **ret_error);
  int (*remove)(FsContext *ctx, Obj *obj, char **ret_error);
  int (*rename)(FsContext *ctx, Obj *obj, const char *new_name, char **ret_error);
  void (*before_list)(FsContext *ctx, Obj *parent);
} FsFileTable;

/* The table of an object kind, or of the node directory. */
const FsFileTable *fs_files_of_kind(ObjKind kind);
const FsFileTable *fs_files_of_node(void);
/* The files of the root directory besides node/ and the kinds' directories
 * (events, events.log, metrics). */
const FsFileTable *fs_files_of_root(void);

/* The entry named `name`, or NULL. */
const FsFile *fs_file_lookup(const FsFileTable *table, const char *name);

/* Like fs_file_lookup, and also finds the entries of data directories:
 * "devices/vdb.xml" gives the FsFile of that entry whether it exists now
 * or not (fs_file_present says), NULL when the name can never be one.
 * *ret_in_dir (nullable) tells whether `name` lies inside a data directory. */
const FsFile *fs_file_lookup_path(FsContext *ctx, const FsFileTable *table, const char *name,
                                  bool *ret_in_dir);

/* Whether a table file or data entry exists now for obj (its `present`,
 * or its directory's `exists`). */
bool fs_file_present(FsContext *ctx, Obj *obj, const FsFile *file);

/* The entry of a data directory's FsFile ("vdb.xml" of "devices/vdb.xml"),
 * or NULL for other files. */
const char *fs_file_entry_name(const FsFile *file);

/* Frees the entries made by fs_file_lookup_path (at exit). */
void fs_files_cleanup(FsContext *ctx);

/* The hypervisor facts of node/ (fs_node_files.c): probed once, on first
 * use, NULL when QEMU is unusable. fs_node_cleanup frees them at exit. */
typedef struct NodeHypervisor NodeHypervisor;
const NodeHypervisor *fs_node_hypervisor(FsContext *ctx);
void fs_node_cleanup(FsContext *ctx);

/* node/domains: the id, state and name of every domain (fs_domain_files.c). */
int fs_domains_list_read(FsContext *ctx, Obj *unused, GString *out);

/* Per-kind tables, defined in fs_<kind>_files.c. */
extern const FsFileTable fs_domain_files;
extern const FsFileTable fs_network_files;
extern const FsFileTable fs_node_files;
extern const FsFileTable fs_pool_files;
extern const FsFileTable fs_volume_files;
/* Shared entries: history/ of every kind (fs_history_files.c), and the
 * root's streams (fs_events_file.c, fs_metrics.c). */
extern const FsDirOps fs_history_dir;
extern const FsStreamOps fs_events_ops;
extern const FsStreamOps fs_events_log_ops;
extern const FsStreamOps fs_metrics_ops;
extern const FsFileTable fs_snapshot_files;

/* The devices/ directory of a domain (fs_device_files.c). */
extern const FsDataDirOps fs_device_dir_ops;
