/* qemu_console.c — the first serial port: the daemon is the one client of
 * QEMU's console socket; what the guest prints goes into the domain's
 * console ring (qemu_driver_priv.h), from which every reader of `console`
 * and `console.log` is served; what readers write goes to the socket. */
#include "drivers/qemu/qemu_driver_priv.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static gboolean on_console_data(gint fd, GIOCondition cond, gpointer data) {
  QemuDomain *dom = data;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n > 0) {
    console_ring_append(dom->record->console, buf, (size_t)n);
    return G_SOURCE_CONTINUE;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;
  /* EOF: QEMU closed the socket (it is exiting). */
  g_mutex_lock(&dom->obj->lock);
  g_clear_pointer(&dom->console_source, g_source_unref);
  g_mutex_unlock(&dom->obj->lock);
  return G_SOURCE_REMOVE;
}

typedef struct {
  QemuDomain *dom;
  int fd;
} ConsoleAttach;

static gboolean attach_source(gpointer data) {
  ConsoleAttach *a = data;
  QemuDomain *dom = a->dom;
  GSource *src = g_unix_fd_source_new(a->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_console_data, dom,
                        (GDestroyNotify)qemu_domain_unref);
  qemu_domain_ref(dom);
  g_source_attach(src, dom->driver->main_context);
  g_mutex_lock(&dom->obj->lock);
  dom->console_source = src;
  g_mutex_unlock(&dom->obj->lock);
  g_free(a);
  return G_SOURCE_REMOVE;
}

int qemu_console_connect(QemuDomain *dom, const char *path, char **ret_error) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(addr.sun_path)) {
    *ret_error = g_strdup_printf("console socket path too long: %s", path);
    return -ENAMETOOLONG;
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    *ret_error = g_strdup_printf("cannot connect to the console: %s", g_strerror(e));
    return -e;
  }
  g_unix_set_fd_nonblocking(fd, TRUE, NULL);
  g_mutex_lock(&dom->obj->lock);
  dom->console_fd = fd;
  g_mutex_unlock(&dom->obj->lock);
  ConsoleAttach *a = g_new0(ConsoleAttach, 1);
  a->dom = dom;
  a->fd = fd;
  g_main_context_invoke(dom->driver->main_context, attach_source, a);
  return 0;
}

/* Main loop thread (or shutdown of the driver). */
void qemu_console_disconnect(QemuDomain *dom) {
  g_mutex_lock(&dom->obj->lock);
  GSource *src = g_steal_pointer(&dom->console_source);
  int fd = dom->console_fd;
  dom->console_fd = -1;
  g_mutex_unlock(&dom->obj->lock);
  if (src) {
    g_source_destroy(src);
    g_source_unref(src);
  }
  if (fd >= 0)
    close(fd);
}

struct QemuConsoleReader {
  QemuDriver *driver;
  Obj *obj;
  QemuRecord *record;
  uint64_t pos;
};

int qemu_console_open(QemuDriver *driver, Obj *obj, QemuConsoleNotify notify, void *user_data,
                      QemuConsoleReader **ret_reader) {
  g_mutex_lock(&obj->lock);
  const char *uuid = ((const DomainDef *)obj->def)->uuid;
  QemuRecord *rec = qemu_record_hold(driver, uuid);
  g_mutex_unlock(&obj->lock);
  QemuConsoleReader *r = g_new0(QemuConsoleReader, 1);
  r->driver = driver;
  r->obj = obj_ref(obj);
  r->record = rec;
  r->pos = console_ring_position(rec->console);
  if (notify)
    console_ring_set_notify(rec->console, notify, user_data);
  *ret_reader = r;
  return 0;
}

int qemu_console_read(QemuConsoleReader *r, size_t max, GString *out, int64_t timeout_us) {
  size_t n = console_ring_read(r->record->console, &r->pos, max, out, timeout_us);
  if (n == 0 && !qemu_domain_is_active(r->obj) && console_ring_readable(r->record->console, r->pos))
    return -EPIPE;
  return (int)n;
}

bool qemu_console_readable(QemuConsoleReader *r) {
  return console_ring_readable(r->record->console, r->pos);
}

int qemu_console_write(QemuConsoleReader *r, const char *data, size_t len) {
  g_autoptr(QemuDomain) dom = NULL;
  if (qemu_get_active(r->obj, &dom, NULL) < 0)
    return -EPIPE;
  g_mutex_lock(&dom->console_write_lock);
  size_t done = 0;
  int res = 0;
  while (done < len) {
    g_mutex_lock(&r->obj->lock);
    int fd = dom->console_fd;
    g_mutex_unlock(&r->obj->lock);
    if (fd < 0) {
      res = -EPIPE;
      break;
    }
    ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      g_usleep(1000);
      continue;
    }
    if (n < 0) {
      res = -errno;
      break;
    }
    done += (size_t)n;
  }
  g_mutex_unlock(&dom->console_write_lock);
  return res < 0 ? res : (int)done;
}

void qemu_console_close(QemuConsoleReader *r) {
  if (!r)
    return;
  qemu_record_release(r->driver, r->record);
  obj_unref(r->obj);
  g_free(r);
}

int qemu_console_log(QemuDriver *driver, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  const char *uuid = ((const DomainDef *)obj->def)->uuid;
  /* Reading (or stat-ing) console.log of a domain that never ran creates
   * nothing: such a domain has no output. */
  g_mutex_lock(&driver->lock);
  QemuRecord *rec = g_hash_table_lookup(driver->records, uuid);
  if (rec)
    console_ring_snapshot(rec->console, out);
  g_mutex_unlock(&driver->lock);
  g_mutex_unlock(&obj->lock);
  return 0;
}
