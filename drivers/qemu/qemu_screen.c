/* qemu_screen.c — a running domain's screen as PNG (QMP screendump into a
 * file of its run dir, read back and removed; the last one is kept for
 * QEMU_SCREEN_MAX_AGE_US) and its VNC address. */
#include "drivers/qemu/qemu_driver_priv.h"

#include <errno.h>
#include <glib/gstdio.h>

/* How long a screendump is served again: the open and the stat of one
 * read (cat, sshfs) see the same picture and size. */
#define QEMU_SCREEN_MAX_AGE_US (1000 * 1000)

/* The primary display exists when the first <video> is not 'none'
 * (QEMU runs with -nodefaults: no <video>, no display adapter). */
static bool def_has_display(const DomainDef *def) {
  if (!def->videos || def->videos->len == 0)
    return false;
  const DomainVideo *v = def->videos->pdata[0];
  return v->model != VIDEO_NONE;
}

bool qemu_domain_has_display(Obj *obj) {
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = qemu_domain_of_locked(obj);
  const DomainDef *def = dom && dom->live_def ? dom->live_def : obj->def;
  bool has = def_has_display(def);
  g_mutex_unlock(&obj->lock);
  return has;
}

bool qemu_domain_has_graphics(Obj *obj) {
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = qemu_domain_of_locked(obj);
  const DomainDef *def = dom && dom->live_def ? dom->live_def : obj->def;
  bool has = def->graphics && def->graphics->len > 0;
  g_mutex_unlock(&obj->lock);
  return has;
}

int qemu_domain_screendump(QemuDriver *d, Obj *obj, GBytes **ret_png, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&obj->lock);
  bool display = def_has_display(dom->live_def);
  GBytes *recent = dom->screen && g_get_monotonic_time() - dom->screen_us < QEMU_SCREEN_MAX_AGE_US
                       ? g_bytes_ref(dom->screen) : NULL;
  g_mutex_unlock(&obj->lock);
  if (recent) {
    *ret_png = recent;
    return 0;
  }
  if (!display) {
    *ret_error = g_strdup("the domain has no display (add a <video>)");
    return -EOPNOTSUPP;
  }
  /* One file per request (a thread serves one at a time): readers may ask
   * at the same time. */
  g_autofree char *file = g_strdup_printf("screen-%p.png", (void *)g_thread_self());
  g_autofree char *path = g_build_filename(dom->dir, file, NULL);
  JsonNode *args = NULL;
  if ((r = qmp_args_screendump(path, "png", &args)) < 0)
    return r;
  r = qemu_qmp_sync(dom, "screendump", args, NULL, ret_error);
  if (r < 0) {
    g_unlink(path);
    return r;
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) err = NULL;
  bool ok = g_file_get_contents(path, &data, &len, &err);
  g_unlink(path);
  if (!ok) {
    *ret_error = g_strdup_printf("QEMU's screendump left no readable file: %s", err->message);
    return -EIO;
  }
  GBytes *png = g_bytes_new_take(g_steal_pointer(&data), len);
  g_mutex_lock(&obj->lock);
  if (dom->screen)
    g_bytes_unref(dom->screen);
  dom->screen = g_bytes_ref(png);
  dom->screen_us = g_get_monotonic_time();
  g_mutex_unlock(&obj->lock);
  *ret_png = png;
  return 0;
}

int qemu_domain_display_address(QemuDriver *d, Obj *obj, char **ret_address, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  JsonNode *value = NULL;
  if ((r = qemu_qmp_sync(dom, "query-vnc", NULL, &value, ret_error)) < 0)
    return r;
  char *address = NULL;
  r = qmp_reply_parse_vnc(value, &address);
  json_node_unref(value);
  if (r < 0) {
    *ret_error = g_strdup("QEMU's query-vnc answer was not understood");
    return -EIO;
  }
  if (!address) {
    *ret_error = g_strdup("the domain has no VNC display");
    return -ENOENT;
  }
  *ret_address = address;
  return 0;
}
