/* fs_guest_files.c — the handlers of domains/NAME/guest/FILE; see
 * fs_guest_files.h and docs/domains.md. */
#include "fs/fs_guest_files.h"

#include <errno.h>

#include "drivers/qemu/qemu_driver.h"
#include "fs/fs_common_files.h"
#include "fs/fs_handle.h"

/* The content, rendered once at open: a reader sees one answer of the
 * agent, read at any offset. */
static int guest_open(FsContext *ctx, Obj *obj, FsHandle *h, QemuGuestFile file,
                      const char *name) {
  g_autoptr(GString) out = g_string_new(NULL);
  g_autofree char *error = NULL;
  int r = ctx->qemu ? qemu_guest_read(ctx->qemu, obj, file, out, &error) : -EOPNOTSUPP;
  if (r < 0) {
    obj_set_error(obj, "guest/%s: %s", name, error ? error : g_strerror(-r));
    return r;
  }
  h->stream = g_string_free_to_bytes(g_steal_pointer(&out));
  return 0;
}

static ssize_t guest_pread(FsContext *ctx, FsHandle *h, char *buf, size_t size, off_t offset) {
  return fs_bytes_pread(h->stream, buf, size, offset);
}

/* Not the agent: ls -l of guest/ must not wait for it. */
static int guest_stat(FsContext *ctx, Obj *obj, struct stat *st) {
  return 0;
}

static void guest_release(FsContext *ctx, FsHandle *h) {
  g_clear_pointer(&h->stream, g_bytes_unref);
}

#define GUEST_FILE(fn, file, name)                                                        \
  static int fn##_open(FsContext *ctx, Obj *obj, FsHandle *h, int flags) {                \
    return guest_open(ctx, obj, h, file, name);                                           \
  }                                                                                       \
  const FsStreamOps fs_guest_##fn##_ops = {                                               \
    .open = fn##_open,                                                                    \
    .pread = guest_pread,                                                                 \
    .stat = guest_stat,                                                                   \
    .release = guest_release,                                                             \
  };

GUEST_FILE(state, QEMU_GUEST_STATE, "state")
GUEST_FILE(addresses, QEMU_GUEST_ADDRESSES, "addresses")
GUEST_FILE(os, QEMU_GUEST_OS, "os")
GUEST_FILE(users, QEMU_GUEST_USERS, "users")
GUEST_FILE(filesystems, QEMU_GUEST_FILESYSTEMS, "filesystems")
GUEST_FILE(time, QEMU_GUEST_TIME, "time")

int fs_guest_ctl_read(FsContext *ctx, Obj *obj, GString *out) {
  g_string_append(out, "fsfreeze\nthaw\nshutdown\nreboot\nssh-key USER KEY\n"
                       "set-password USER (the password on the next line)\n");
  return 0;
}

/* set-password USER: the password is the next line. */
bool fs_guest_ctl_joins_next(const char *line) {
  return g_str_has_prefix(line, "set-password ");
}

int fs_guest_ctl_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) {
  if (!ctx->qemu) {
    *ret_error = g_strdup("no QEMU driver");
    return -EOPNOTSUPP;
  }
  g_autofree char *line = g_strndup(data, len);
  g_autofree char *why = NULL;
  int r = qemu_guest_ctl(ctx->qemu, obj, line, &why);
  if (r < 0)
    *ret_error = g_str_has_prefix(why, "guest/ctl:") ? g_steal_pointer(&why)
                                                     : g_strdup_printf("guest/ctl: %s", why);
  return r;
}
