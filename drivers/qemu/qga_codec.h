/* qga_codec.h — the QEMU guest agent protocol as data (issue 15, step 2):
 * the commands virtfs sends to qemu-ga, the guest-sync-delimited resync,
 * the verbs of guest/ctl, and the text of the guest/ files rendered from
 * the agent's replies. Pure, like qmp_codec.h, whose framing it reuses:
 * the agent speaks QMP's JSON lines ({"execute": ...} / {"return": ...} /
 * {"error": ...}), so lines are built with qmp_command_build() and parsed
 * with qmp_message_parse(). The transport is qemu_agent.c. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <sys/types.h>

#define QGA_CMD_SYNC_DELIMITED "guest-sync-delimited"
#define QGA_CMD_INFO "guest-info"
#define QGA_CMD_FSFREEZE_STATUS "guest-fsfreeze-status"
#define QGA_CMD_NETWORK_GET_INTERFACES "guest-network-get-interfaces"
#define QGA_CMD_GET_OSINFO "guest-get-osinfo"
#define QGA_CMD_GET_HOST_NAME "guest-get-host-name"
#define QGA_CMD_GET_USERS "guest-get-users"
#define QGA_CMD_GET_FSINFO "guest-get-fsinfo"
#define QGA_CMD_GET_TIME "guest-get-time"
#define QGA_CMD_FSFREEZE_FREEZE "guest-fsfreeze-freeze"
#define QGA_CMD_FSFREEZE_THAW "guest-fsfreeze-thaw"
#define QGA_CMD_SHUTDOWN "guest-shutdown"
#define QGA_CMD_SET_USER_PASSWORD "guest-set-user-password"
#define QGA_CMD_SSH_ADD_AUTHORIZED_KEYS "guest-ssh-add-authorized-keys"

/* The channel name virt-install gives the agent's virtio-serial port. */
#define QGA_CHANNEL_NAME "org.qemu.guest_agent.0"

/* guest-sync-delimited: {"id": ID}. The agent answers with a 0xFF byte and
 * then {"return": ID}; everything before the last 0xFF is stale output of an
 * earlier, abandoned exchange. */
JsonNode *qga_args_sync(int64_t id);
/* The offset just past the last 0xFF in buf, or -1 when there is none. */
ssize_t qga_after_sync_marker(const char *buf, size_t len);
/* 0 when `value` (the "return" member) is `id`, else -EPROTO. */
int qga_reply_check_sync(JsonNode *value, int64_t id);

/* ---- guest/ctl ---- */
typedef struct {
  const char *command;   /* QGA_CMD_* to send */
  JsonNode *args;        /* owned; NULL: none */
  /* set-password: the password comes on the next line written to ctl;
   * the caller calls qga_ctl_set_password() with it. */
  char *await_password_for;
} QgaCtl;
void qga_ctl_clear(QgaCtl *ctl);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QgaCtl, qga_ctl_clear)

/* One line of guest/ctl: fsfreeze, thaw, shutdown, reboot, set-password
 * USER, ssh-key USER KEY... (the rest of the line is the key). -EINVAL with
 * a sentence for anything else. */
int qga_ctl_parse(const char *line, QgaCtl *ret_ctl, char **ret_error);
/* guest-set-user-password of USER with PASSWORD (sent base64, as the agent
 * wants; never part of any sentence). */
JsonNode *qga_args_set_password(const char *user, const char *password);

/* ---- the files of guest/ (value = the "return" member) ---- */
/* addresses: "IFNAME MAC FAMILY ADDR/PREFIX" per address, "IFNAME MAC - -"
 * for an interface without one; MAC "-" when the agent gives none. */
int qga_render_addresses(JsonNode *value, GString *out, char **ret_error);
/* os: "key: value" lines from guest-get-osinfo and the host name. */
int qga_render_os(JsonNode *osinfo, JsonNode *hostname, GString *out, char **ret_error);
/* users: "USER LOGIN-TIME" (UTC, ISO 8601), with "@DOMAIN" when given. */
int qga_render_users(JsonNode *value, GString *out, char **ret_error);
/* filesystems: "MOUNTPOINT TYPE DEVICE USED_BYTES TOTAL_BYTES" ("-" when
 * the agent does not know the sizes). */
int qga_render_filesystems(JsonNode *value, GString *out, char **ret_error);
/* time: the guest's clock, "ISO-8601 NANOSECONDS". */
int qga_render_time(JsonNode *value, GString *out, char **ret_error);
/* state, while the agent answers: "connected: yes", "version: V" (from
 * guest-info) and "filesystems: thawed|frozen" (guest-fsfreeze-status). */
int qga_render_state(JsonNode *info, JsonNode *freeze_status, GString *out, char **ret_error);
