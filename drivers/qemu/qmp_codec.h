/* qmp_codec.h — the QEMU Machine Protocol as data: command lines built from
 * arguments, received lines parsed into tagged messages, QMP error classes
 * mapped to errno, and the arguments and replies of the commands virtfs
 * issues. Pure: no I/O, no globals, no threads; qmp_client.[ch] carries the
 * text over the socket.
 *
 * Contract:
 *  - Functions that can fail return 0 or a negative errno and write their
 *    outputs only on success; `ret_error` parameters (nullable) receive a
 *    newly allocated sentence on failure.
 *  - A received line that is not valid JSON (strict RFC 8259: no comments,
 *    no single quotes, no trailing data, no "\u0000", integers within
 *    [INT64_MIN, UINT64_MAX]), is deeper than QMP_MAX_NESTING, is not UTF-8,
 *    or contains NUL is -EBADMSG; valid JSON that is not a QMP message (not
 *    an object, no known key, members of the wrong type) is -EPROTO; a line
 *    longer than QMP_LINE_MAX is -EMSGSIZE. Nothing in a line can crash or
 *    exhaust the stack: JSON is validated iteratively before json-glib
 *    (which recurses) sees it.
 *  - JsonNode values handed out are immutable and owned by exactly one
 *    owner, so they can be passed to another thread with their ownership.
 *  - JsonNode parameters are borrowed unless a comment says otherwise.
 *  - Unsigned 64-bit QMP fields (sizes, byte counters) are read back exactly
 *    even above INT64_MAX: json-glib stores them as int64 two's complement
 *    and the reply parsers cast them back. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "objects/enum_table.h"

/* Longest line accepted from QEMU, newline included. The largest replies
 * virtfs asks for (query-blockstats with many disks) are a few hundred KiB. */
#define QMP_LINE_MAX (16 * 1024 * 1024)
/* Deepest nesting of arrays and objects accepted (QEMU's own parser allows
 * 1024; nothing virtfs reads goes deeper than 6). */
#define QMP_MAX_NESTING 128

/* Commands virtfs issues; spelled once here so a typo cannot hide. */
#define QMP_CMD_CAPABILITIES "qmp_capabilities"
#define QMP_CMD_CONT "cont"
#define QMP_CMD_STOP "stop"
#define QMP_CMD_SYSTEM_POWERDOWN "system_powerdown"
#define QMP_CMD_SYSTEM_RESET "system_reset"
#define QMP_CMD_QUIT "quit"
#define QMP_CMD_QUERY_STATUS "query-status"
#define QMP_CMD_QUERY_CPUS_FAST "query-cpus-fast"
#define QMP_CMD_QUERY_HOTPLUGGABLE_CPUS "query-hotpluggable-cpus"
#define QMP_CMD_BALLOON "balloon"
#define QMP_CMD_QUERY_BALLOON "query-balloon"
#define QMP_CMD_QUERY_BLOCKSTATS "query-blockstats"
#define QMP_CMD_QUERY_CHARDEV "query-chardev"
#define QMP_CMD_HUMAN_MONITOR_COMMAND "human-monitor-command"
#define QMP_CMD_DEVICE_ADD "device_add"
#define QMP_CMD_DEVICE_DEL "device_del"

/* ---- building commands ---- */

/* One command line: {"execute": EXECUTE, "arguments": ARGUMENTS, "id": ID}
 * followed by "\r\n". `arguments` (borrowed, nullable) must be a JSON
 * object; `id` is nullable (QMP then answers without an id). -EINVAL for an
 * empty command name or non-object arguments. */
int qmp_command_build(const char *execute, JsonNode *arguments, const char *id,
                      char **ret_text);

/* ---- parsing received lines ---- */

typedef enum {
  QMP_MESSAGE_GREETING, /* {"QMP": {"version": ..., "capabilities": [...]}} */
  QMP_MESSAGE_RETURN,   /* {"return": VALUE, "id": ID} */
  QMP_MESSAGE_ERROR,    /* {"error": {"class": C, "desc": D}, "id": ID} */
  QMP_MESSAGE_EVENT,    /* {"event": NAME, "data": {...}, "timestamp": {...}} */
} QmpMessageKind;

/* Events virtfs acts on. Every other event is QMP_EVENT_UNKNOWN and still
 * delivered with its name in QmpMessage.event_name. QMP_EVENT_UNKNOWN is not
 * in the name table: qmp_event_to_string() returns NULL for it. */
typedef enum {
  QMP_EVENT_SHUTDOWN,       /* data: guest (bool), reason (string) */
  QMP_EVENT_POWERDOWN,      /* no data: ACPI power button pressed */
  QMP_EVENT_STOP,           /* no data: vCPUs stopped */
  QMP_EVENT_RESUME,         /* no data: vCPUs running again */
  QMP_EVENT_RESET,          /* data: guest (bool), reason (string) */
  QMP_EVENT_GUEST_PANICKED, /* data: action (pause/poweroff/run), info */
  QMP_EVENT_DEVICE_DELETED, /* data: device (id, optional), path */
  QMP_EVENT_BALLOON_CHANGE, /* data: actual (bytes) */
  QMP_EVENT_SUSPEND,        /* no data: guest entered S3 */
  QMP_EVENT_WAKEUP,         /* no data: guest left S3 */
  QMP_EVENT_UNKNOWN,
} QmpEvent;
ENUM_TABLE_DECL(qmp_event, QmpEvent)

typedef struct {
  int major, minor, micro;
} QmpVersion;

/* One parsed line. Fields not listed for a kind are NULL / 0. */
typedef struct {
  QmpMessageKind kind;

  /* RETURN, ERROR: the command id; a non-string id (QMP allows any JSON
   * value) is given as its compact JSON text. NULL when absent. */
  char *id;

  /* RETURN: the "return" value (any JSON type).
   * EVENT: the "data" object, NULL when the event has none. */
  JsonNode *value;

  /* ERROR */
  char *error_class; /* "GenericError", "CommandNotFound", ... */
  char *error_desc;  /* QEMU's sentence */

  /* EVENT */
  char *event_name; /* as sent, e.g. "SHUTDOWN" */
  QmpEvent event;
  /* QEMU's wall-clock time of the event; -1/-1 when QEMU could not read
   * the clock or the line had no timestamp. */
  int64_t timestamp_seconds;
  int64_t timestamp_microseconds;

  /* GREETING */
  QmpVersion version;
  char *package;  /* e.g. "Debian 1:7.2+dfsg-7", may be empty */
  bool cap_oob;   /* QEMU offers out-of-band execution */
} QmpMessage;

void qmp_message_free(QmpMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpMessage, qmp_message_free)

/* Parses one line of `len` bytes (a trailing "\n" or "\r\n" is allowed; the
 * line need not be NUL-terminated). Errors as described at the top. */
int qmp_message_parse(const char *line, size_t len, QmpMessage **ret_message,
                      char **ret_error);

/* Detaches the message's value (caller owns it; may be NULL). */
JsonNode *qmp_message_steal_value(QmpMessage *message);

/* ---- errors ---- */

/* The one place where QMP error classes become errno (style rule 9):
 *   CommandNotFound  -> -EOPNOTSUPP  this QEMU lacks the command
 *   KVMMissingCap    -> -EOPNOTSUPP  the accelerator lacks a capability
 *   DeviceNotFound   -> -ENODEV      no device with that id
 *   DeviceNotActive  -> -ENODEV      the device exists but is not active
 *   GenericError     -> -EIO         "the hypervisor failed" (spec rule 2)
 *   anything else, NULL included -> -EIO
 * GenericError is deliberately not refined by matching QEMU's description
 * texts: they are not a stable interface and change between releases. The
 * description still reaches the user through the error sentence. */
int qmp_error_class_to_errno(const char *error_class);

/* "QEMU refused 'device_del': Device 'x' not found (DeviceNotFound)". */
char *qmp_error_sentence(const char *command, const char *error_class,
                         const char *error_desc);

/* ---- arguments of the commands virtfs issues ----
 * cont, stop, system_powerdown, system_reset, quit and the query-* commands
 * take no arguments: pass NULL. Each builder returns a new object node
 * (caller owns it). */

/* balloon: {"value": BYTES}; -EINVAL for 0, -ERANGE above INT64_MAX. */
int qmp_args_balloon(uint64_t bytes, JsonNode **ret_args);
/* human-monitor-command: {"command-line": LINE}. -EINVAL when empty. */
int qmp_args_human_monitor_command(const char *command_line, JsonNode **ret_args);
/* device_del: {"id": ID}. -EINVAL when empty. */
int qmp_args_device_del(const char *id, JsonNode **ret_args);

/* snapshot-save / snapshot-load / snapshot-delete (jobs):
 * {"job-id": JOB, "tag": TAG, ["vmstate": NODE,] "devices": [NODE...]}.
 * vmstate NULL for snapshot-delete. -EINVAL when job, tag or devices are
 * empty. */
int qmp_args_snapshot_job(const char *job_id, const char *tag, const char *vmstate,
                          const char *const *devices, JsonNode **ret_args);
/* job-dismiss: {"id": ID}. */
int qmp_args_job_id(const char *id, JsonNode **ret_args);
/* migrate: {"uri": URI}; migrate-incoming takes the same. */
int qmp_args_migrate(const char *uri, JsonNode **ret_args);

/* One entry of query-hotpluggable-cpus. */
typedef struct {
  char *type;          /* the CPU model's device type, e.g. "qemu64-x86_64-cpu" */
  int64_t vcpus_count; /* threads this slot adds */
  char *qom_path;      /* NULL when the slot is empty (hot-pluggable) */
  /* Topology properties; -1 when QEMU did not list the property. */
  int64_t node_id, socket_id, die_id, cluster_id, core_id, thread_id;
} QmpHotpluggableCpu;

void qmp_hotpluggable_cpu_free(QmpHotpluggableCpu *cpu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpHotpluggableCpu, qmp_hotpluggable_cpu_free)

/* device_add of a CPU into `slot`: {"driver": TYPE, "id": ID, and the
 * slot's listed topology properties}. -EINVAL when id is empty, the slot
 * has no type, or the slot is already occupied. */
int qmp_args_device_add_cpu(const QmpHotpluggableCpu *slot, const char *id,
                            JsonNode **ret_args);

/* ---- replies of those commands (value = the "return" member) ---- */

/* query-status: running (vCPUs run) and QEMU's run-state name ("running",
 * "paused", "prelaunch", "shutdown", "guest-panicked", "io-error", ...). */
int qmp_reply_parse_status(JsonNode *value, bool *ret_running, char **ret_status);

/* query-cpus-fast: the number of vCPUs and, if `ret_thread_ids` is not
 * NULL, their host thread ids (GArray of int64_t, in cpu-index order as
 * QEMU lists them). */
int qmp_reply_parse_cpus_fast(JsonNode *value, guint *ret_count, GArray **ret_thread_ids);

/* query-hotpluggable-cpus: GPtrArray of QmpHotpluggableCpu (owns them). */
int qmp_reply_parse_hotpluggable_cpus(JsonNode *value, GPtrArray **ret_cpus);

/* screendump of the primary display to `filename` in `format` ("png",
 * QEMU 7.1 and later; "ppm"). */
int qmp_args_screendump(const char *filename, const char *format, JsonNode **ret_args);

/* query-vnc: whether a VNC server runs and its address ("vnc://HOST:PORT",
 * an IPv6 host in brackets); *ret_address is NULL when disabled. */
int qmp_reply_parse_vnc(JsonNode *value, char **ret_address);

/* The state of a job (query-jobs) or of a migration (query-migrate). */
typedef struct {
  char *status;      /* "running", "concluded", "completed", "failed", ... */
  char *error;       /* QEMU's message once it failed, else NULL */
  uint64_t done;     /* bytes done (current-progress, ram transferred) */
  uint64_t total;    /* bytes expected (total-progress, ram total) */
} QmpProgress;

void qmp_progress_clear(QmpProgress *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QmpProgress, qmp_progress_clear)

/* query-jobs: the job with id `id`; -ENOENT when it is not listed. */
int qmp_reply_parse_job(JsonNode *value, const char *id, QmpProgress *ret_job);
/* query-migrate: status "none" when no migration ran yet. */
int qmp_reply_parse_migrate(JsonNode *value, QmpProgress *ret_progress);

/* query-balloon: the guest's current memory in bytes. */
int qmp_reply_parse_balloon(JsonNode *value, uint64_t *ret_actual_bytes);

/* One entry of query-blockstats (the frontend's own counters, "stats";
 * the "parent" protocol-level counters are not read). */
typedef struct {
  char *device;    /* the -drive id; NULL for -blockdev backends */
  char *node_name; /* top block node, NULL if QEMU gave none */
  char *qdev;      /* the guest device's id or QOM path, NULL if none;
                      see qmp_qdev_id() */
  uint64_t rd_bytes, wr_bytes;
  uint64_t rd_operations, wr_operations, flush_operations;
} QmpBlockStats;

void qmp_block_stats_free(QmpBlockStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpBlockStats, qmp_block_stats_free)

/* query-blockstats: GPtrArray of QmpBlockStats (owns them). */
int qmp_reply_parse_blockstats(JsonNode *value, GPtrArray **ret_stats);

/* The device id in a qdev field: "vda" for "vda" and for
 * "/machine/peripheral/vda/virtio-backend"; NULL (no id) for other QOM
 * paths such as "/machine/unattached/device[3]". Newly allocated. */
char *qmp_qdev_id(const char *qdev);

/* query-chardev: a table chardev label -> pty path ("/dev/pts/3") holding
 * only the chardevs that are ptys. Keys and values are owned by the table. */
int qmp_reply_parse_chardev_ptys(JsonNode *value, GHashTable **ret_ptys);

/* A reply that is a plain string (human-monitor-command). */
int qmp_reply_parse_string(JsonNode *value, char **ret_string);

/* ---- event data (data = QmpMessage.value of an event, may be NULL) ---- */

/* SHUTDOWN and RESET: whether the guest asked for it, and QEMU's reason
 * ("guest-shutdown", "host-qmp-quit", "host-signal", "guest-reset",
 * "guest-panic", ...). */
int qmp_event_parse_shutdown(JsonNode *data, bool *ret_guest, char **ret_reason);
/* GUEST_PANICKED: the action QEMU took: "pause", "poweroff" or "run". */
int qmp_event_parse_guest_panicked(JsonNode *data, char **ret_action);
/* DEVICE_DELETED: the device id (*ret_device = NULL when the device had
 * none) and its QOM path. */
int qmp_event_parse_device_deleted(JsonNode *data, char **ret_device, char **ret_path);
/* BALLOON_CHANGE: the guest's new memory size in bytes. */
int qmp_event_parse_balloon_change(JsonNode *data, uint64_t *ret_actual_bytes);
