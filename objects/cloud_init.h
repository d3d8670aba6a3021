/* cloud_init.h — the pure parts of a domain's cloud-init NoCloud seed:
 * which files a seed holds, checking them at write, the instance-id that
 * changes with their content, the default meta-data, the seed disk added to
 * the live definition and the argv of the tools that build the image
 * (mkfs.vfat and mcopy: no loop mount, no filesystem writer of our own).
 * No I/O here; drivers/qemu/qemu_seed.c builds the image at each start. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "objects/domain_def.h"

/* The files of cloud-init/, in the order they are hashed and copied. */
#define CLOUD_INIT_N_FILES 4
extern const char *const cloud_init_files[CLOUD_INIT_N_FILES];

/* Whether `name` is one of cloud_init_files. */
bool cloud_init_file_known(const char *name);

/* Checks the content written to cloud-init/NAME. user-data and vendor-data
 * that start with "#cloud-config" must be YAML whose top is a mapping (other
 * user-data, scripts and MIME archives, pass unchecked: cloud-init decides);
 * meta-data and network-config must always be such YAML. NUL bytes are
 * refused. Returns 0, or -EINVAL with a sentence naming the line. */
int cloud_init_validate(const char *name, const char *data, size_t len, char **ret_error);

/* "iid-" and 16 hex digits of the SHA-256 of every file's name and content
 * (contents[i] belongs to cloud_init_files[i]; NULL: absent). */
char *cloud_init_instance_id(const char *const contents[CLOUD_INIT_N_FILES]);

/* The meta-data the seed carries: the user's, with `instance-id` and
 * `local-hostname` lines added first when it has no such top-level key
 * (a key at column 0); without a user meta-data, just those two lines. */
char *cloud_init_meta_data(const char *user_meta_data, const char *instance_id,
                           const char *hostname);

/* Whether a seed is attached: at least one file is present. */
bool cloud_init_has_files(const char *const contents[CLOUD_INIT_N_FILES]);

/* The seed disk: raw, read-only, virtio, at the first free vdX target
 * (NULL when vda..vdz are all taken). */
DomainDisk *cloud_init_seed_disk(const DomainDef *def, const char *image_path);

/* The image size in KiB for contents of `total` bytes. */
unsigned cloud_init_seed_size_kib(size_t total);

/* argv that create the image (mkfs.vfat -C -n CIDATA IMAGE KIB) and copy
 * the files into its root (mcopy -i IMAGE FILE... ::/). */
GStrv cloud_init_mkfs_argv(const char *image_path, unsigned size_kib);
GStrv cloud_init_mcopy_argv(const char *image_path, const char *const *paths);
