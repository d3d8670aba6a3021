/* fs_domain_files.c — the files of /virt/domains/NAME/ and their handlers.
 * The table at the end is the list users see; docs/domains.md documents
 * each entry and tests/integration/test_docs.sh checks that it does. */
#include <errno.h>
#include <string.h>

#include <fuse_lowlevel.h>
#include <poll.h>

#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_firmware.h"
#include "drivers/qemu/qemu_tpm.h"
#include "drivers/qemu/qemu_migrate.h"
#include "drivers/qemu/qemu_save.h"
#include "fs/fs_cloud_init_files.h"
#include "fs/fs_guest_files.h"
#include "fs/fs_common_files.h"
#include "fs/fs_events_notify.h"
#include "fs/fs_handle.h"
#include "fs/fs_network_files.h"
#include "fs/fs_request.h"
#include "objects/domain_def.h"
#include "objects/values.h"

/* The smallest and largest memory a definition may ask for. */
#define DOMAIN_MEMORY_MIN_KIB (16 * 1024ULL)
#define DOMAIN_MEMORY_MAX_KIB (16ULL * 1024 * 1024 * 1024)
#define DOMAIN_VCPUS_MAX 255

static int memory_read(FsContext *ctx, Obj *obj, GString *out) {
  uint64_t live = 0;
  g_autofree char *error = NULL;
  if (qemu_domain_is_active(obj) && qemu_domain_get_live_memory(ctx->qemu, obj, &live, &error) == 0) {
    g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", live);
    return 0;
  }
  g_mutex_lock(&obj->lock);
  const DomainDef *def = obj->def;
  g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", def->memory_kib);
  g_mutex_unlock(&obj->lock);
  return 0;
}

static int memory_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                        char **ret_error) {
  uint64_t bytes;
  int r = units_parse_value(data, 1024, &bytes);
  if (r < 0) {
    *ret_error = g_strdup_printf("memory: '%s' is not a size (KiB, or with a unit such as "
                                 "512M or 2G)", data);
    return -EINVAL;
  }
  uint64_t kib = (bytes + 1023) / 1024;
  if (qemu_domain_is_active(obj)) {
    /* Running: the balloon; the definition is changed through config.xml. */
    g_autofree char *error = NULL;
    r = qemu_domain_set_live_memory(ctx->qemu, obj, kib, &error);
    if (r < 0)
      *ret_error = g_strdup(error);
    return r;
  }
  if (kib < DOMAIN_MEMORY_MIN_KIB || kib > DOMAIN_MEMORY_MAX_KIB) {
    *ret_error = g_strdup_printf("memory: %" G_GUINT64_FORMAT " KiB is outside %llu KiB..%llu KiB",
                                 kib, DOMAIN_MEMORY_MIN_KIB, DOMAIN_MEMORY_MAX_KIB);
    return -EINVAL;
  }
  g_autoptr(DomainDef) def = fs_obj_copy_def(obj);
  if (def->current_memory_kib == def->memory_kib || def->current_memory_kib > kib)
    def->current_memory_kib = kib;
  def->memory_kib = kib;
  g_autofree char *error = NULL;
  r = registry_update(ctx->registry, obj, (void **)&def, &error);
  if (r < 0)
    *ret_error = g_strdup_printf("memory: %s", error);
  return r;
}

static int vcpus_read(FsContext *ctx, Obj *obj, GString *out) {
  unsigned live = 0;
  g_autofree char *error = NULL;
  if (qemu_domain_is_active(obj) && qemu_domain_get_live_vcpus(ctx->qemu, obj, &live, &error) == 0) {
    g_string_append_printf(out, "%u\n", live);
    return 0;
  }
  g_mutex_lock(&obj->lock);
  const DomainDef *def = obj->def;
  g_string_append_printf(out, "%u\n", def->vcpus);
  g_mutex_unlock(&obj->lock);
  return 0;
}

static int vcpus_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                       char **ret_error) {
  uint64_t n;
  if (value_parse_uint(data, 1, DOMAIN_VCPUS_MAX, &n) < 0) {
    *ret_error = g_strdup_printf("vcpus: '%s' is not a number from 1 to %d", data,
                                 DOMAIN_VCPUS_MAX);
    return -EINVAL;
  }
  if (qemu_domain_is_active(obj)) {
    g_autofree char *error = NULL;
    int r = qemu_domain_set_live_vcpus(ctx->qemu, obj, (unsigned)n, &error);
    if (r < 0)
      *ret_error = g_strdup(error);
    return r;
  }
  g_autoptr(DomainDef) def = fs_obj_copy_def(obj);
  if (def->vcpus_current == def->vcpus || def->vcpus_current > n)
    def->vcpus_current = (unsigned)n;
  def->vcpus = (unsigned)n;
  g_autofree char *error = NULL;
  int r = registry_update(ctx->registry, obj, (void **)&def, &error);
  if (r < 0)
    *ret_error = g_strdup_printf("vcpus: %s", error);
  return r;
}

static int info_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  const DomainDef *def = obj->def;
  g_string_append_printf(out, "name: %s\n", def->name);
  g_string_append_printf(out, "uuid: %s\n", def->uuid);
  g_string_append_printf(out, "type: %s\n", domain_virt_type_to_string(def->virt_type));
  g_string_append_printf(out, "memory: %" G_GUINT64_FORMAT "\n", def->memory_kib);
  g_string_append_printf(out, "current_memory: %" G_GUINT64_FORMAT "\n",
                         def->current_memory_kib);
  g_string_append_printf(out, "vcpus: %u\n", def->vcpus);
  g_string_append_printf(out, "autostart: %d\n", obj->autostart ? 1 : 0);
  g_mutex_unlock(&obj->lock);
  qemu_domain_info(ctx->qemu, obj, out);
  return 0;
}

/* ---- lifecycle ---- */

static int state_read(FsContext *ctx, Obj *obj, GString *out) {
  g_string_append_printf(out, "%s\n", domain_state_to_string(qemu_domain_get_state(ctx->qemu, obj, NULL)));
  return 0;
}

/* The writer was interrupted (a signal: libfuse marks the request) or the
 * daemon is unmounting: a blocking write stops waiting. */
static bool caller_gave_up(void *data) {
  FsContext *ctx = data;
  return fs_request_interrupted(ctx);
}

static int state_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) {
  DomainState target;
  if (domain_state_from_string(data, &target) < 0 || target == DOMAIN_STATE_CRASHED) {
    *ret_error = g_strdup_printf("state: '%s' is not running, paused, shutoff, saved or incoming",
                                 data);
    return -EINVAL;
  }
  g_autofree char *error = NULL;
  QemuCancel cancel = {caller_gave_up, ctx};
  int r = qemu_domain_set_state(ctx->qemu, obj, target, ctx->state_timeout_ms, &cancel, &error);
  if (r < 0)
    *ret_error = g_strdup_printf("state %s: %s", data, error ? error : g_strerror(-r));
  return r;
}

static int start_verb(QemuDriver *driver, Obj *obj, char **ret_error) {
  return qemu_domain_start(driver, obj, false, ret_error);
}

/* incoming [ADDRESS]: without an address, as `echo incoming > state`. */
static int incoming_verb(QemuDriver *driver, Obj *obj, const char *arg, char **ret_error) {
  return qemu_domain_incoming(driver, obj, *arg ? arg : NULL, ret_error);
}

/* The verbs of ctl: what docs/domains.md documents. Each takes no
 * argument; the state checks are the driver's. */
static const FsQemuVerb domain_verbs[] = {
  {"start", start_verb},
  {"shutdown", qemu_domain_shutdown},
  {"destroy", qemu_domain_destroy},
  {"reboot", qemu_domain_reboot},
  {"reset", qemu_domain_reset},
  {"suspend", qemu_domain_suspend},
  {"resume", qemu_domain_resume},
  {"discard-saved", qemu_domain_discard_saved},
  {"incoming", .func_arg = incoming_verb},
  {"migrate", .func_arg = qemu_domain_migrate},
  {"cancel", qemu_domain_migrate_cancel},
};

static int ctl_read(FsContext *ctx, Obj *obj, GString *out) {
  return fs_qemu_verbs_read(domain_verbs, G_N_ELEMENTS(domain_verbs), out);
}

static int ctl_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) {
  return fs_qemu_verbs_dispatch(ctx, obj, domain_verbs, G_N_ELEMENTS(domain_verbs), data,
                                ret_error);
}

static int incoming_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autofree char *address = qemu_domain_incoming_address(obj);
  if (address)
    g_string_append_printf(out, "%s\n", address);
  return 0;
}

static int job_read(FsContext *ctx, Obj *obj, GString *out) {
  return qemu_domain_job_read(ctx->qemu, obj, out);
}

static int id_read(FsContext *ctx, Obj *obj, GString *out) {
  g_string_append_printf(out, "%d\n", qemu_domain_get_id(obj));
  return 0;
}

static int live_xml_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autofree char *xml = qemu_domain_live_xml(obj);
  if (xml)
    g_string_append(out, xml);
  return 0;
}

static int stats_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autofree char *error = NULL;
  return qemu_domain_stats(ctx->qemu, obj, out, &error);
}

static int console_log_read(FsContext *ctx, Obj *obj, GString *out) {
  return qemu_console_log(ctx->qemu, obj, out);
}

/* ---- console: a byte stream ---- */

#define CONSOLE_WAIT_SLICE_US (200 * 1000)

static int console_open(FsContext *ctx, Obj *obj, FsHandle *h, int flags) {
  QemuConsoleReader *reader = NULL;
  int r = qemu_console_open(ctx->qemu, obj, fs_pollers_notify, ctx, &reader);
  if (r < 0)
    return r;
  h->stream = reader;
  fs_pollers_add(ctx, h);
  return 0;
}

static int console_read(FsContext *ctx, FsHandle *h, size_t size, GString *out) {
  for (;;) {
    int n = qemu_console_read(h->stream, size, out, CONSOLE_WAIT_SLICE_US);
    if (n == -EPIPE)
      return 0; /* the domain stopped: end of file */
    if (n != 0)
      return n < 0 ? n : 0;
    if (fs_request_interrupted(ctx))
      return -EINTR;
  }
}

static int console_write(FsContext *ctx, FsHandle *h, const char *data, size_t len) {
  int r = qemu_console_write(h->stream, data, len);
  return r == -EPIPE ? -EIO : r;
}

static unsigned console_poll(FsContext *ctx, FsHandle *h) {
  return (qemu_console_readable(h->stream) ? POLLIN : 0) | POLLOUT;
}

static void console_release(FsContext *ctx, FsHandle *h) {
  fs_pollers_remove(ctx, h);
  qemu_console_close(h->stream);
  h->stream = NULL;
}

static const FsStreamOps console_ops = {
  .open = console_open,
  .read = console_read,
  .write = console_write,
  .poll = console_poll,
  .release = console_release,
};

/* node/domains: every domain in one read, "ID STATE NAME" a line, by name
 * (virsh list --all). The name is last: it may hold blanks. */
static gint name_cmp(gconstpointer a, gconstpointer b, gpointer unused) {
  return strcmp(a, b);
}

static gboolean append_line(gpointer name, gpointer line, gpointer out) {
  g_string_append(out, line);
  return FALSE;
}

int fs_domains_list_read(FsContext *ctx, Obj *unused, GString *out) {
  g_autoptr(GPtrArray) list = registry_list(ctx->registry, OBJ_DOMAIN, NULL);
  g_autoptr(GTree) by_name = g_tree_new_full(name_cmp, NULL, g_free, g_free);
  for (guint i = 0; i < list->len; i++) {
    Obj *obj = list->pdata[i];
    char *name = obj_dup_name(obj);
    DomainState state = qemu_domain_get_state(ctx->qemu, obj, NULL);
    g_tree_insert(by_name, name, g_strdup_printf("%d %s %s\n", qemu_domain_get_id(obj),
                                                 domain_state_to_string(state), name));
  }
  g_tree_foreach(by_name, append_line, out);
  return 0;
}

/* ---- the screen ---- */

static bool screen_present(FsContext *ctx, Obj *obj) {
  return ctx->qemu && qemu_domain_is_active(obj) && qemu_domain_has_display(obj);
}

static bool display_present(FsContext *ctx, Obj *obj) {
  return ctx->qemu && qemu_domain_is_active(obj) && qemu_domain_has_graphics(obj);
}

/* screen.png: a PNG taken at open, read at any offset (scp and sshfs read
 * in pieces). */
static int screen_open(FsContext *ctx, Obj *obj, FsHandle *h, int flags) {
  g_autofree char *error = NULL;
  GBytes *png = NULL;
  int r = qemu_domain_screendump(ctx->qemu, obj, &png, &error);
  if (r < 0) {
    obj_set_error(obj, "screen.png: %s", error ? error : g_strerror(-r));
    return r;
  }
  h->stream = png;
  return 0;
}

static ssize_t screen_pread(FsContext *ctx, FsHandle *h, char *buf, size_t size, off_t offset) {
  return fs_bytes_pread(h->stream, buf, size, offset);
}

static int screen_stat(FsContext *ctx, Obj *obj, struct stat *st) {
  g_autoptr(GBytes) png = NULL;
  g_autofree char *error = NULL;
  if (qemu_domain_screendump(ctx->qemu, obj, &png, &error) == 0) {
    st->st_size = (off_t)g_bytes_get_size(png);
    st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
  }
  return 0;
}

static void screen_release(FsContext *ctx, FsHandle *h) {
  g_clear_pointer(&h->stream, g_bytes_unref);
}

static const FsStreamOps screen_ops = {
  .open = screen_open,
  .pread = screen_pread,
  .stat = screen_stat,
  .release = screen_release,
};

static int display_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autofree char *address = NULL;
  g_autofree char *error = NULL;
  int r = qemu_domain_display_address(ctx->qemu, obj, &address, &error);
  if (r < 0)
    return r == -ENOENT || r == -EBUSY ? 0 : r;
  g_string_append_printf(out, "%s\n", address);
  return 0;
}

static int domain_create(FsContext *ctx, Obj *parent, const char *name, char **ret_error) {
  DomainDef *def = domain_def_new_default(name, ctx->kvm_available);
  int r = registry_define(ctx->registry, OBJ_DOMAIN, NULL, (void **)&def, NULL, ret_error);
  domain_def_free(def);
  return r;
}

static const FsFile domain_files[] = {
  {"config.xml", FS_FILE_DOCUMENT, 0644, fs_config_read, fs_config_write},
  {"uuid", FS_FILE_VALUE, 0444, fs_uuid_read, NULL},
  {"autostart", FS_FILE_VALUE, 0644, fs_autostart_read, fs_autostart_write},
  {"memory", FS_FILE_VALUE, 0644, memory_read, memory_write},
  {"vcpus", FS_FILE_VALUE, 0644, vcpus_read, vcpus_write},
  {"info", FS_FILE_VALUE, 0444, info_read, NULL},
  {"state", FS_FILE_VALUE, 0644, state_read, state_write},
  {"ctl", FS_FILE_CTL, 0644, ctl_read, ctl_write},
  {"id", FS_FILE_VALUE, 0444, id_read, NULL},
  {"incoming", FS_FILE_VALUE, 0444, incoming_read, NULL},
  {"job", FS_FILE_VALUE, 0444, job_read, NULL},
  {"live.xml", FS_FILE_DOCUMENT, 0444, live_xml_read, NULL},
  {"stats", FS_FILE_VALUE, 0444, stats_read, NULL},
  {"console", FS_FILE_STREAM, 0600, NULL, NULL, &console_ops},
  {"console.log", FS_FILE_VALUE, 0440, console_log_read, NULL},
  {"addresses", FS_FILE_VALUE, 0444, fs_domain_addresses_read, NULL},
  {"screen.png", FS_FILE_STREAM, 0440, NULL, NULL, &screen_ops, screen_present},
  {"display", FS_FILE_VALUE, 0444, display_read, NULL, NULL, display_present},
  {.name = "history", .kind = FS_FILE_DIR, .mode = 0755, .dir = &fs_history_dir},
  {"snapshots", FS_FILE_DIR, 0755, NULL, NULL},
  FS_CLOUD_INIT_FILES,
  {"devices", FS_FILE_DIR, 0755, .data_dir = &fs_device_dir_ops},
  FS_GUEST_FILES,
  FS_ERROR_FILE,
};

/* rmdir: undefine, then let go of what the domain owned beside its
 * definition: the QEMU driver's console record (so defining and removing
 * domains keeps no memory), its UEFI variables (qemu_firmware.h) and its TPM
 * state (qemu_tpm.h). A
 * saved state holds the guest's memory; undefining would orphan it, so it
 * is refused until the domain is started or the state discarded. */
static int domain_remove(FsContext *ctx, Obj *obj, char **ret_error) {
  if (ctx->qemu && qemu_domain_get_state(ctx->qemu, obj, NULL) == DOMAIN_STATE_SAVED) {
    *ret_error = g_strdup("the domain has a saved state: start it, or discard it first "
                          "(echo discard-saved > ctl)");
    return -EBUSY;
  }
  g_mutex_lock(&obj->lock);
  g_autofree char *uuid = g_strdup(((const DomainDef *)obj->def)->uuid);
  g_mutex_unlock(&obj->lock);
  int r = registry_undefine(ctx->registry, obj, ret_error);
  if (r == 0 && ctx->qemu)
    qemu_driver_forget_domain(ctx->qemu, uuid);
  if (r == 0 && *uuid) {
    qemu_firmware_remove_nvram(ctx->state_dir, uuid);
    qemu_tpm_remove_state(ctx->state_dir, uuid);
  }
  return r;
}

const FsFileTable fs_domain_files = {
  .files = domain_files,
  .count = G_N_ELEMENTS(domain_files),
  .create = domain_create,
  .remove = domain_remove,
};
