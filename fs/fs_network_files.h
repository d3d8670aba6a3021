/* fs_network_files.h — handlers of network-related files that other kinds'
 * tables use (the domain's `addresses`). */
#pragma once

#include "fs/fs_files.h"

/* domains/NAME/addresses: "TAP MAC IP/PREFIX" lines from the leases of the
 * networks the domain's interfaces are on (network_manager.h). */
int fs_domain_addresses_read(FsContext *ctx, Obj *obj, GString *out);
