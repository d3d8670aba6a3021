/* fs_ops.h — the FUSE operations of virtfs (low-level libfuse API). The
 * user data given to fuse_session_new() must be an FsContext whose
 * `session` is set before the session loop starts. */
#pragma once

struct fuse_lowlevel_ops;
extern const struct fuse_lowlevel_ops fs_operations;
