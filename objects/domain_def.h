/* domain_def.h — the persistent definition of a domain (a VM), as a plain
 * struct that mirrors the subset of libvirt's domain XML virtfs supports.
 *
 * Contract:
 *  - domain_def_parse() and domain_def_format() are pure: no I/O, no globals.
 *    libxml2 is confined to domain_xml.c.
 *  - Parsing fills defaults that make the definition canonical (UUID, MAC
 *    addresses, currentMemory = memory, vcpu current = count, units in KiB),
 *    so format(parse(x)) is a fixed point: parse(format(parse(x))) formats to
 *    the same text.
 *  - Every string is owned by the struct; DomainDef is freed with
 *    domain_def_free() (NULL-tolerant) or g_autoptr(DomainDef).
 *  - Optional numbers use 0 or a *_set flag, as noted per field.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "objects/enum_table.h"

/* <domain type='...'> */
typedef enum {
  DOMAIN_VIRT_QEMU,
  DOMAIN_VIRT_KVM,
} DomainVirtType;
ENUM_TABLE_DECL(domain_virt_type, DomainVirtType)

/* on_poweroff / on_reboot / on_crash */
typedef enum {
  DOMAIN_LIFECYCLE_DESTROY,
  DOMAIN_LIFECYCLE_RESTART,
  DOMAIN_LIFECYCLE_PRESERVE,
  DOMAIN_LIFECYCLE_RENAME_RESTART,
} DomainLifecycleAction;
ENUM_TABLE_DECL(domain_lifecycle_action, DomainLifecycleAction)

/* <address type='...'> on a device; DEVICE_ADDRESS_NONE when absent. */
typedef enum {
  DEVICE_ADDRESS_NONE,
  DEVICE_ADDRESS_PCI,
  DEVICE_ADDRESS_DRIVE,
  DEVICE_ADDRESS_ISA,
  DEVICE_ADDRESS_USB,
  DEVICE_ADDRESS_VIRTIO_SERIAL,
} DeviceAddressType;
ENUM_TABLE_DECL(device_address_type, DeviceAddressType)

typedef struct {
  DeviceAddressType type;
  /* pci */
  unsigned domain, bus, slot, function;
  bool multifunction;
  /* drive */
  unsigned controller, drive_bus, target, unit;
  /* isa */
  unsigned iobase, irq;
  bool iobase_set, irq_set;
  /* usb: bus = drive_bus (the controller index), port as written ("1",
   * "1.2" behind a hub); virtio-serial: controller, drive_bus, vs_port */
  char usb_port[16];
  unsigned vs_port;
} DeviceAddress;

/* An element kept as validated data rather than as C fields: its name, its
 * attributes (name/value pairs in the order of the table that validated
 * them, see domain_xml_priv.h), its text and its child elements in document
 * order, and the typed <address> child if the table allows one. Used for
 * the elements and attributes added in the form libvirt writes them
 * (<pm>, <channel>, <sound>, timers, hyperv, ...): a new attribute is a row
 * in a table, and the drivers read values with domain_xnode_attr(). Also
 * used as `ext` on typed elements for their attributes and children beyond
 * the typed ones. */
typedef struct DomainXNode {
  char *name;
  GPtrArray *attrs;           /* char *: name, value, name, value, ... */
  char *text;                 /* NULL: none */
  GPtrArray *children;        /* DomainXNode * */
  DeviceAddress address;
} DomainXNode;

/* The value of attribute `attr`, or NULL (also when `n` is NULL). */
const char *domain_xnode_attr(const DomainXNode *n, const char *attr);
/* The first child named `name`, or NULL (also when `n` is NULL). */
const DomainXNode *domain_xnode_child(const DomainXNode *n, const char *name);
/* The text of the first child named `name`, or NULL. */
const char *domain_xnode_attr_text(const DomainXNode *n, const char *name);
/* attr == value, NULL-tolerant. */
bool domain_xnode_is(const DomainXNode *n, const char *attr, const char *value);
DomainXNode *domain_xnode_new(const char *name);
DomainXNode *domain_xnode_copy(const DomainXNode *n);
void domain_xnode_free(DomainXNode *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainXNode, domain_xnode_free)

/* <os><boot dev='...'/> */
typedef enum {
  DOMAIN_BOOT_HD,
  DOMAIN_BOOT_CDROM,
  DOMAIN_BOOT_NETWORK,
  DOMAIN_BOOT_FD,
} DomainBootDev;
ENUM_TABLE_DECL(domain_boot_dev, DomainBootDev)

#define DOMAIN_MAX_BOOT_DEVS 4

typedef struct {
  char *type;     /* "hvm" */
  char *arch;     /* "x86_64" */
  char *machine;  /* "pc", "q35", "pc-i440fx-7.2", ... */
  DomainBootDev boot[DOMAIN_MAX_BOOT_DEVS];
  size_t nboot;
  bool bootmenu_set, bootmenu;
  char *kernel, *initrd, *cmdline; /* direct kernel boot, NULL if absent */
  char *firmware;                  /* <os firmware='efi|bios'>, NULL if absent */
  DomainXNode *ext;                /* <loader>, <nvram>, <firmware> */
} DomainOs;

typedef struct {
  bool acpi, apic, pae;
  DomainXNode *ext;                /* vmport, smm, hyperv, kvm, ioapic, pmu, ... */
} DomainFeatures;

typedef enum {
  DOMAIN_CPU_MODE_NONE,            /* no <cpu> element */
  DOMAIN_CPU_MODE_CUSTOM,
  DOMAIN_CPU_MODE_HOST_MODEL,
  DOMAIN_CPU_MODE_HOST_PASSTHROUGH,
  DOMAIN_CPU_MODE_MAXIMUM,
} DomainCpuMode;
ENUM_TABLE_DECL(domain_cpu_mode, DomainCpuMode)

typedef struct {
  DomainCpuMode mode;
  char *model;                       /* custom mode only, may be NULL */
  unsigned sockets, dies, cores, threads; /* 0 = no <topology> */
  char *model_fallback;              /* <model fallback='allow|forbid'> */
  DomainXNode *ext;                  /* attributes match, check; <feature> children */
} DomainCpu;

typedef enum {
  DOMAIN_CLOCK_UTC,
  DOMAIN_CLOCK_LOCALTIME,
} DomainClockOffset;
ENUM_TABLE_DECL(domain_clock_offset, DomainClockOffset)

/* ---- devices ---- */

typedef enum { DISK_TYPE_FILE, DISK_TYPE_BLOCK, DISK_TYPE_VOLUME } DiskType;
ENUM_TABLE_DECL(disk_type, DiskType)
typedef enum { DISK_DEVICE_DISK, DISK_DEVICE_CDROM, DISK_DEVICE_FLOPPY } DiskDevice;
ENUM_TABLE_DECL(disk_device, DiskDevice)
typedef enum { DISK_FORMAT_RAW, DISK_FORMAT_QCOW2 } DiskFormat;
ENUM_TABLE_DECL(disk_format, DiskFormat)
typedef enum { DISK_BUS_VIRTIO, DISK_BUS_IDE, DISK_BUS_SATA, DISK_BUS_SCSI, DISK_BUS_FDC } DiskBus;
ENUM_TABLE_DECL(disk_bus, DiskBus)

typedef struct {
  DiskType type;
  DiskDevice device;
  DiskFormat format;          /* <driver name='qemu' type='raw|qcow2'/> */
  char *source;               /* file path (file) or device path (block); NULL = empty
                                 cdrom or floppy drive */
  char *source_pool;          /* type='volume' */
  char *source_volume;        /* type='volume' */
  char *target_dev;           /* "vda", "hdc", "sda" */
  DiskBus target_bus;
  bool readonly, shareable;
  bool snapshot_excluded;     /* <disk snapshot='no'>: left out of snapshots */
  char *serial;
  unsigned boot_order;        /* 0 = no <boot order=.../> */
  DeviceAddress address;
  DomainXNode *driver_ext;    /* <driver> cache, io, discard, ... */
  DomainXNode *target_ext;    /* <target> tray, removable, rotation_rate */
  DomainXNode *ext;           /* <blockio>, <wwn>, ... */
} DomainDisk;

typedef enum {
  CONTROLLER_USB, CONTROLLER_IDE, CONTROLLER_PCI, CONTROLLER_SATA,
  CONTROLLER_SCSI, CONTROLLER_VIRTIO_SERIAL,
} ControllerType;
ENUM_TABLE_DECL(controller_type, ControllerType)

typedef struct {
  ControllerType type;
  unsigned index;
  char *model;                /* validated per type; NULL when absent */
  DeviceAddress address;
  DomainXNode *ext;           /* ports; <model name>, <target chassis port>, <master> */
} DomainController;

typedef enum { INTERFACE_USER, INTERFACE_NETWORK, INTERFACE_BRIDGE } InterfaceType;
ENUM_TABLE_DECL(interface_type, InterfaceType)

/* User aliases (<alias name='ua-NAME'/>), libvirt's form: NAME is 1 to
 * DOMAIN_ALIAS_NAME_MAX of [A-Za-z0-9_-], not starting with '-'. */
#define DOMAIN_USER_ALIAS_PREFIX "ua-"
#define DOMAIN_ALIAS_NAME_MAX 64
bool domain_alias_name_is_valid(const char *name);

typedef struct {
  InterfaceType type;
  char mac[18];               /* "52:54:00:xx:xx:xx", always filled after parse */
  bool mac_generated;         /* the parser invented `mac` (no <mac> given);
                                 never formatted, see domain_def_inherit_generated */
  char *source;               /* network name or bridge name; NULL for user */
  char *portgroup;            /* <source portgroup=''> (type network), NULL = the network's
                                 default portgroup */
  char *model;                /* "virtio", "e1000", "rtl8139"; NULL = hypervisor default */
  char *target_dev;           /* tap name: live state only, never persisted */
  char *alias;                /* <alias name='ua-NAME'/>: names the interface's entry
                                 NAME.xml in devices/; the parser gives one ("ua-netN",
                                 lowest N free) to each interface without it */
  unsigned boot_order;
  DeviceAddress address;
  DomainXNode *ext;           /* <driver>, <link>, <mtu>, <rom> */
} DomainInterface;

typedef enum { CHARDEV_PTY, CHARDEV_FILE, CHARDEV_UNIX } ChardevType;
ENUM_TABLE_DECL(chardev_type, ChardevType)

/* <serial> and <console>: both are character devices.
 *
 * The serial console alias (libvirt's behaviour, kept by domain_def_parse):
 * after parsing, whenever `serials` is non-empty, consoles[0] exists with
 * target_type "serial" and is a mirror of serials[0] (same type, source and
 * port). It names the same character device, not a second one: builders
 * create serials[0] once and skip consoles[0]. A <console> with target type
 * serial given without any <serial> creates serials[0] from it. Every other
 * console has target_type "virtio". */
typedef struct {
  ChardevType type;
  char *source_path;          /* file or unix socket path; pty: live pty path or NULL */
  bool unix_listen;           /* unix: mode='bind' (true) or 'connect' */
  unsigned target_port;
  char *target_type;          /* serial: "isa-serial"; console: "serial" or "virtio" */
  DeviceAddress address;      /* added: serial only, ISA (iobase/irq) or none */
} DomainChardev;

typedef struct {
  char *listen;               /* address, NULL = 127.0.0.1 */
  int port;                   /* -1 = autoport */
  bool spice;                 /* type='spice' (else vnc) */
  DomainXNode *ext;           /* spice: <image compression>, ... */
} DomainGraphicsVnc;

typedef enum { VIDEO_VGA, VIDEO_CIRRUS, VIDEO_VIRTIO, VIDEO_QXL, VIDEO_BOCHS, VIDEO_NONE } VideoModel;
ENUM_TABLE_DECL(video_model, VideoModel)

typedef struct {
  VideoModel model;
  unsigned vram;              /* KiB, 0 = default */
  unsigned heads;             /* 0 = default */
  DeviceAddress address;
  DomainXNode *model_ext;     /* <model> ram, vgamem, primary */
} DomainVideo;

typedef enum { INPUT_MOUSE, INPUT_KEYBOARD, INPUT_TABLET } InputType;
ENUM_TABLE_DECL(input_type, InputType)
typedef enum { INPUT_BUS_PS2, INPUT_BUS_USB, INPUT_BUS_VIRTIO } InputBus;
ENUM_TABLE_DECL(input_bus, InputBus)

typedef struct {
  InputType type;
  InputBus bus;
  DeviceAddress address;
} DomainInput;

typedef enum { MEMBALLOON_VIRTIO, MEMBALLOON_NONE } MemballoonModel;
ENUM_TABLE_DECL(memballoon_model, MemballoonModel)

typedef struct {
  bool present;               /* false: no <memballoon> element */
  MemballoonModel model;
  unsigned stats_period;      /* seconds, 0 = off */
  DeviceAddress address;
} DomainMemballoon;

typedef struct {
  char *backend;              /* <backend model='random'>PATH</backend>, default /dev/urandom */
  DeviceAddress address;
} DomainRng;

typedef struct {
  unsigned id;                /* <audio id='1' type='none|spice'/> */
  bool spice;
} DomainAudio;

/* Limits checked by domain_def_parse (and usable by attribute files). */
#define DOMAIN_MAX_MEMORY_KIB (16ULL << 30) /* 16 TiB */
#define DOMAIN_MAX_VCPUS 255                /* QEMU's pc/q35 limit without an IOMMU */

typedef struct DomainDef {
  DomainVirtType virt_type;
  char *name;
  char uuid[37];              /* canonical lowercase, always filled after parse */
  bool uuid_generated;        /* the parser invented `uuid` (no <uuid> given);
                                 never formatted, see domain_def_inherit_generated */
  char *title;
  char *description;
  char *metadata;             /* <metadata> as written, namespaces declared in it */

  uint64_t memory_kib;        /* <memory> */
  uint64_t current_memory_kib;/* <currentMemory>, = memory when absent */
  unsigned vcpus;             /* <vcpu>N</vcpu> */
  unsigned vcpus_current;     /* current='..', = vcpus when absent */
  bool vcpu_placement_auto;   /* placement='auto' (default static) */
  char *vcpu_cpuset;          /* cpuset='..' in canonical form (values.h), NULL = any
                                 CPU; the driver pins QEMU's threads to it */

  DomainOs os;
  DomainFeatures features;
  DomainCpu cpu;
  DomainClockOffset clock;
  DomainXNode *clock_ext;     /* <timer> children */
  DomainXNode *pm;            /* <pm>, NULL when absent */
  GPtrArray *seclabels;       /* <seclabel> as DomainXNode (see docs: not enforced) */
  DomainXNode *root_ext;      /* <iothreads>, <maxMemory>, <memoryBacking> */

  DomainLifecycleAction on_poweroff, on_reboot, on_crash;

  char *emulator;             /* NULL = the daemon's configured QEMU */

  GPtrArray *disks;           /* DomainDisk* */
  GPtrArray *controllers;     /* DomainController* */
  GPtrArray *interfaces;      /* DomainInterface* */
  GPtrArray *serials;         /* DomainChardev* */
  GPtrArray *consoles;        /* DomainChardev* */
  GPtrArray *graphics;        /* DomainGraphicsVnc* */
  GPtrArray *videos;          /* DomainVideo* */
  GPtrArray *inputs;          /* DomainInput* */
  GPtrArray *rngs;            /* DomainRng* */
  GPtrArray *audios;          /* DomainAudio* */
  DomainMemballoon memballoon;
  /* <channel>, <tpm>, <sound>, <redirdev>, <watchdog>, <panic>, as
   * DomainXNode in document order */
  GPtrArray *xdevices;
} DomainDef;

/* An empty definition: every device array allocated and empty, no name,
 * no UUID, zero memory. For builders that fill every field; it is not valid
 * until they do. Never fails. */
DomainDef *domain_def_new(void);

/* A new definition with the defaults `mkdir domains/NAME` gives: a fresh
 * UUID, 1 vCPU, 512 MiB, a pty serial port with a serial console, virt type
 * kvm if `kvm_available` else qemu. Never fails. */
DomainDef *domain_def_new_default(const char *name, bool kvm_available);

/* Parses libvirt domain XML of at most `len` bytes (not NUL-terminated
 * necessarily). Returns 0 and stores a new DomainDef in *ret_def, or -EINVAL
 * (malformed, unsupported element/attribute, invalid value) or -EFBIG (the
 * input, or its canonical form, over XML_MAX_DOCUMENT_SIZE) with a human
 * sentence naming the element and line in *ret_error (caller frees). Never touches the network or the filesystem.
 * Besides the defaults above it adds, like libvirt: <boot dev='hd'/> when no
 * boot device is given, a virtio <memballoon>, the serial console alias
 * (see DomainChardev), ports and controller indexes left out. The accepted
 * subset and every choice are listed at the top of domain_xml.c. */
int domain_def_parse(const char *xml, size_t len, DomainDef **ret_def, char **ret_error);

/* Formats the canonical XML (2-space indent, stable order, trailing newline).
 * `live` includes live-only state (interface target dev, pty paths, id when
 * id >= 0). Returns a newly allocated string. */
char *domain_def_format(const DomainDef *def, bool live, int id);

/* Deep copy, including uuid_generated and mac_generated. */
DomainDef *domain_def_copy(const DomainDef *def);

/* Free pcie-root-ports for hot plug, the way virt-install adds them: on a
 * q35 definition, appends pcie-root-port controllers (the lowest free
 * indexes below 32, where QEMU's bus numbers go) until `want` root ports
 * have no device behind them. Returns how many were added (0 on other
 * machines). Called when a user writes a definition, not when virtfs
 * stores one it changed (a hot plug), so a running guest's saved state
 * still matches its definition. */
#define DOMAIN_SPARE_ROOT_PORTS 4
unsigned domain_def_add_spare_root_ports(DomainDef *def, unsigned want);

/* Keeps identities the parser had to invent stable across redefinitions:
 * writing a definition without <uuid> (or an <interface> without <mac>) over
 * an existing domain `old` must not give the domain a new UUID or its NICs
 * new MACs each time, or copying the same file twice would change the guest
 * and never converge (config management sees a change on every run).
 *
 *  - When def->uuid_generated, def takes old's UUID.
 *  - Interfaces are matched by position: for each interface i of def with
 *    mac_generated, if old has an interface at the same index i and of the
 *    same type (user, network, bridge), def's interface takes its MAC,
 *    whether old's MAC was written or generated. Inserting or removing an
 *    interface before others therefore shifts the match; give <mac>
 *    explicitly when reordering NICs.
 *  - A MAC written in def wins: an interface whose counterpart's MAC is
 *    written on another interface of def keeps its generated MAC.
 *  - An inherited MAC wins over a generated one: a generated MAC (of an
 *    interface that inherits nothing) that equals an inherited one is drawn
 *    again, so the result never holds a MAC twice and writing the same
 *    document again always gives the same result.
 *
 * The flags stay set (the values were still not written by the user). Only
 * def changes; old is read. No I/O; like the parser it may draw random
 * MACs. Linear in the number of interfaces. */
void domain_def_inherit_generated(DomainDef *def, const DomainDef *old);

void domain_def_free(DomainDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainDef, domain_def_free)

/* NULL-tolerant free functions of the device structs; they are the free
 * functions of the DomainDef arrays. */
void domain_disk_free(DomainDisk *disk);
void domain_controller_free(DomainController *controller);
void domain_interface_free(DomainInterface *iface);
void domain_chardev_free(DomainChardev *chr);
void domain_graphics_vnc_free(DomainGraphicsVnc *graphics);
void domain_video_free(DomainVideo *video);
void domain_input_free(DomainInput *input);
void domain_rng_free(DomainRng *rng);
void domain_audio_free(DomainAudio *audio);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainDisk, domain_disk_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainController, domain_controller_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainInterface, domain_interface_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainChardev, domain_chardev_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainGraphicsVnc, domain_graphics_vnc_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainVideo, domain_video_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainInput, domain_input_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainRng, domain_rng_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DomainAudio, domain_audio_free)

/* Device copies (deep), used by domain_def_copy and by the parser's console
 * alias. Never fail. */
DomainDisk *domain_disk_copy(const DomainDisk *disk);
DomainController *domain_controller_copy(const DomainController *controller);
DomainInterface *domain_interface_copy(const DomainInterface *iface);
DomainChardev *domain_chardev_copy(const DomainChardev *chr);
