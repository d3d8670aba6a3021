/* fs_guest_files.h — domains/NAME/guest/: what the QEMU guest agent
 * reports (state, addresses, os, users, filesystems, time) and guest/ctl,
 * its verbs. The agent is asked when a file is opened, on the FUSE
 * thread, never on the main loop (qemu_agent.c); stat does not ask it, so
 * the files show size 0 and are read to their end as usual (direct I/O).
 * The entries go into the domain table with FS_GUEST_FILES. */
#pragma once

#include "fs/fs_files.h"

extern const FsStreamOps fs_guest_state_ops;
extern const FsStreamOps fs_guest_addresses_ops;
extern const FsStreamOps fs_guest_os_ops;
extern const FsStreamOps fs_guest_users_ops;
extern const FsStreamOps fs_guest_filesystems_ops;
extern const FsStreamOps fs_guest_time_ops;
int fs_guest_ctl_read(FsContext *ctx, Obj *obj, GString *out);
int fs_guest_ctl_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error);
bool fs_guest_ctl_joins_next(const char *line);

#define FS_GUEST_FILES                                                                    \
  {"guest", FS_FILE_DIR, 0755, NULL, NULL},                                               \
  {"guest/state", FS_FILE_STREAM, 0444, NULL, NULL, &fs_guest_state_ops},                 \
  {"guest/addresses", FS_FILE_STREAM, 0444, NULL, NULL, &fs_guest_addresses_ops},         \
  {"guest/os", FS_FILE_STREAM, 0444, NULL, NULL, &fs_guest_os_ops},                       \
  {"guest/users", FS_FILE_STREAM, 0444, NULL, NULL, &fs_guest_users_ops},                 \
  {"guest/filesystems", FS_FILE_STREAM, 0444, NULL, NULL, &fs_guest_filesystems_ops},     \
  {"guest/time", FS_FILE_STREAM, 0444, NULL, NULL, &fs_guest_time_ops},                   \
  {.name = "guest/ctl", .kind = FS_FILE_CTL, .mode = 0600, .read = fs_guest_ctl_read,      \
   .write = fs_guest_ctl_write, .ctl_joins_next = fs_guest_ctl_joins_next}
