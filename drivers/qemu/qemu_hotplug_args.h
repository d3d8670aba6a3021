/* qemu_hotplug_args.h — the QMP arguments of device hot plug, built from a
 * definition's device (pure: no I/O, no state; golden-tested in
 * tests/unit/test_qemu_hotplug_args.c).
 *
 * Names, for a device with QEMU id ID: block nodes ID-file (protocol) and
 * ID-format (format, the one the device attaches to), as qemu_argv.c names
 * those of disk<i>. Hot-plugged disks get the id "dev-TARGET".
 *
 * Values go into JSON, not into option strings: commas need no escaping,
 * but paths must still be absolute (no protocol prefix) and formats are
 * always explicit (never probed).
 *
 * Each builder returns 0 and new JSON objects (caller owns them), or
 * -EINVAL / -EOPNOTSUPP with a sentence. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "objects/domain_def.h"

/* The QEMU id a hot-plugged disk gets: "dev-" + its target (newly allocated). */
char *qemu_hotplug_disk_id(const char *target);

/* blockdev-add of the protocol node and of the format node, and
 * device_add of the guest device, for `disk` whose image is at `path`
 * (a block device when is_block). `pci_slot` is the slot on bus 0 of a
 * virtio disk without a PCI <address> (ignored otherwise). Buses:
 * virtio (virtio-blk-pci) and scsi (scsi-hd/scsi-cd on scsiN.0, N the
 * drive address's controller); ide and sata are -EOPNOTSUPP (QEMU cannot
 * hot-plug on them). */
int qemu_hotplug_disk_args(const DomainDisk *disk, const char *path, bool is_block,
                           const char *id, unsigned pci_slot, JsonNode **ret_file,
                           JsonNode **ret_format, JsonNode **ret_device, char **ret_error);

/* netdev_add and device_add of an interface, with netdev `netdev_id` and
 * device `id`, at the PCI slot of its <address> or `pci_slot`. A network or
 * bridge interface's netdev is a tap whose descriptor QEMU got with getfd
 * under the name `tap_fdname` (NULL for user: -EINVAL otherwise). */
int qemu_hotplug_nic_args(const DomainInterface *iface, const char *id, const char *netdev_id,
                          const char *tap_fdname, unsigned pci_slot, JsonNode **ret_netdev,
                          JsonNode **ret_device, char **ret_error);

/* Arguments of getfd and closefd: {"fdname": NAME}. */
JsonNode *qemu_hotplug_fdname_args(const char *fdname);

/* blockdev-change-medium of device `id` to `path` with the disk's format,
 * read-only. */
int qemu_hotplug_change_medium_args(const char *id, const DomainDisk *disk, const char *path,
                                    JsonNode **ret_args, char **ret_error);

/* eject of device `id` (force: even if the guest locked the tray). */
JsonNode *qemu_hotplug_eject_args(const char *id, bool force);

/* {"id": ID}: netdev_del. */
JsonNode *qemu_hotplug_id_args(const char *id);

/* blockdev-del of node `node`. */
JsonNode *qemu_hotplug_blockdev_del_args(const char *node);

/* query-pci: the slots used on bus 0, as a mask (bit n = slot n). */
int qemu_hotplug_parse_pci_slots(JsonNode *value, guint32 *ret_used);

/* The first of `candidates` (unsigned PCI controller indexes, in order)
 * whose bus QEMU's query-pci answer shows empty: a root port pci.N with
 * nothing behind it. 0 and *ret_bus, -ENOSPC when none is free, -EPROTO
 * when the answer is not understood. */
int qemu_hotplug_parse_free_buses(JsonNode *value, GArray *candidates, int *ret_bus);

/* qom-list of /machine/peripheral: whether a child named `id` is there. */
bool qemu_hotplug_qom_list_has(JsonNode *value, const char *id);

/* The lowest free slot of bus 0 for a hot-plugged device (from 2: slot 0
 * is the host bridge, 1 the PIIX3 on pc), or -ENOSPC. */
int qemu_hotplug_pick_slot(guint32 used);
