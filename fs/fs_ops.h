/* fs_ops.h — the FUSE operations of virtfs (high-level libfuse API). The
 * private data given to fuse_new() must be an FsContext. */
#pragma once

struct fuse_operations;
extern const struct fuse_operations fs_operations;
