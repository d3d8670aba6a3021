/* domain_device.h — one device of a domain definition as a stand-alone
 * fragment, the format `virsh attach-device` takes: the view behind
 * /virt/domains/NAME/devices/.
 *
 * Entry names (docs/domains.md, "devices/"):
 *   <target dev>.xml   a <disk>, named by its target dev ("vdb.xml")
 *   <target dev>.media a CD-ROM's medium: its source path, one line
 *   NAME.xml           an <interface> whose alias is "ua-NAME" ("net0.xml":
 *                      the parser names unnamed interfaces ua-net0, ua-net1…
 *                      and the name then stays with the interface)
 *
 * Contract: pure, like domain_xml.c whose parser and formatter this reuses
 * through their public API (a fragment is parsed inside a minimal domain
 * skeleton; a device is formatted inside a definition that holds only it).
 * Functions return 0 or a negative errno with a sentence in *ret_error. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "objects/domain_def.h"

typedef enum {
  DOMAIN_DEVICE_DISK,
  DOMAIN_DEVICE_INTERFACE,
} DomainDeviceKind;

/* What an entry name of devices/ designates. */
typedef enum {
  DEVICE_ENTRY_XML,     /* a fragment */
  DEVICE_ENTRY_MEDIA,   /* a CD-ROM's medium */
} DeviceEntryType;

typedef struct {
  DomainDeviceKind kind;
  DomainDisk *disk;           /* DISK */
  DomainInterface *iface;     /* INTERFACE */
} DomainDevice;

void domain_device_free(DomainDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainDevice, domain_device_free)

/* Parses a fragment of at most `len` bytes: exactly one <disk> or
 * <interface> element, with the checks and defaults of domain_def_parse
 * (a MAC is generated when absent). -EINVAL or -EFBIG with a sentence. */
int domain_device_parse(const char *xml, size_t len, DomainDevice **ret_dev, char **ret_error);

/* The canonical fragment (2-space indentation, trailing newline) of a disk
 * or an interface, exactly as config.xml shows it, dedented. */
char *domain_device_format_disk(const DomainDisk *disk);
char *domain_device_format_interface(const DomainInterface *iface);

/* Whether `entry` is a well-formed entry name (NAME.xml or NAME.media,
 * NAME as an alias name allows); fills its type and NAME (newly
 * allocated). No lookup in any definition: which device NAME is, the
 * definition tells (domain_def_find_entry). */
bool domain_device_entry_parse(const char *entry, DeviceEntryType *ret_type, char **ret_name);

/* The entry names of a definition, in definition order (g_free'd strings). */
GPtrArray *domain_device_entries(const DomainDef *def);

/* The index in def->disks of the disk with target `target`, or -1. */
int domain_def_find_disk(const DomainDef *def, const char *target);

/* The index in def->interfaces of the interface named `name` (its alias
 * without "ua-"), or -1. */
int domain_def_find_interface(const DomainDef *def, const char *name);

/* The device an entry NAME designates: a disk by target, else an interface
 * by name; its index and kind, or -1. */
int domain_def_find_entry(const DomainDef *def, const char *name, DomainDeviceKind *ret_kind);

/* The definition with `entry` set to `dev` (consumed on success: *dev is
 * cleared): an existing disk or interface is replaced in place, a new disk
 * or interface is appended; an interface takes the entry's NAME as its
 * alias. Refuses, changing nothing: a fragment whose kind or target
 * does not match the entry's name (-EINVAL), a target that another entry
 * already uses (-EEXIST). An interface written without <mac> over an
 * existing one keeps that one's MAC. *ret_replaced tells whether an
 * existing device was replaced. */
int domain_def_set_device(DomainDef *def, const char *entry, DomainDevice **dev,
                          bool *ret_replaced, char **ret_error);

/* Removes the device of `entry`. -ENOENT when there is none. */
int domain_def_remove_device(DomainDef *def, const char *entry, char **ret_error);
