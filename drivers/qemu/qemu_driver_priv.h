/* qemu_driver_priv.h — what the files of the QEMU driver share: the driver,
 * the per-domain record that outlives a run (last state, console output),
 * and the runtime of an active domain. Not for use outside drivers/qemu/.
 *
 * Locking: QemuDomain fields are protected by the Obj's lock (obj->lock),
 * and `changed` is signalled under it whenever state or `gone` changes.
 * QemuDriver.lock protects the records table only. Lock order:
 * registry locks, then obj->lock, then driver->lock. A start sets
 * Obj.runtime under the registry's write_lock too, as undefine and rename
 * check it under that lock. */
#pragma once

#include "drivers/qemu/console_ring.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_process.h"
#include "drivers/qemu/qmp_client.h"

#define QEMU_CONSOLE_LOG_SIZE (256 * 1024)
/* The default of QemuDriverConfig.qmp_timeout_ms (daemon option --qmp-timeout). */
#define QEMU_QMP_TIMEOUT_MS 10000
#define QEMU_DESTROY_GRACE_MS 3000

/* Kept per domain UUID for the daemon's lifetime. */
typedef struct {
  DomainState state;      /* when inactive: shutoff or crashed */
  char *reason;
  ConsoleRing *console;
} QemuRecord;

typedef struct QemuDomain {
  gint refcount;            /* Obj.runtime holds one; waiters take one */
  QemuDriver *driver;
  Obj *obj;                 /* reference, dropped when the runtime goes */
  QemuRecord *record;       /* owned by the driver */
  char *uuid;
  char *dir;                /* RUN/domains/UUID */
  pid_t pid;
  QemuProcessWatch *watch;  /* main loop only */
  QmpClient *qmp;
  DomainDef *live_def;
  int id;
  DomainState state;
  char *reason;
  bool starting;
  bool gone;                /* QEMU exited; the runtime is being removed */
  bool destroying;          /* destroy asked: the exit is not a crash */
  bool quitting;            /* we sent quit after a guest shutdown */
  bool fake_reboot;         /* reboot verb: reset at the next SHUTDOWN */
  bool shutdown_seen;       /* QEMU reported SHUTDOWN: the exit is clean */
  GCond changed;
  int console_fd;           /* connected to console.sock, or -1 */
  GSource *console_source;  /* main loop only */
  GMutex console_write_lock;
  GPtrArray *taps;          /* names of taps opened for this run */
} QemuDomain;

struct QemuDriver {
  Registry *registry;
  char *state_dir;
  char *run_dir;
  char *qemu_binary;
  bool kvm_available;
  char *kvm_unavailable_reason;   /* owned; NULL when KVM is available */
  int qmp_timeout_ms;       /* QMP connect, negotiation and command timeout */
  GMainContext *main_context;
  QemuDriverHooks hooks;
  GMutex lock;
  GHashTable *records;      /* uuid -> QemuRecord* */
  GMutex hotplug_lock;      /* serializes device hot plug (qemu_hotplug.c) */
  int next_id;
};

/* The record of a domain, created on first use. */
QemuRecord *qemu_record_get(QemuDriver *driver, const char *uuid);

/* The runtime of obj, or NULL (call with obj->lock held). */
static inline QemuDomain *qemu_domain_of_locked(Obj *obj) {
  return obj->runtime;
}

/* Sets state and reason, signals waiters, emits an event when `event` is
 * not NULL. Call with obj->lock held; the event is emitted after unlocking
 * by the caller through qemu_emit(). */
void qemu_set_state_locked(QemuDomain *dom, DomainState state, const char *reason);
void qemu_emit(QemuDomain *dom, const char *event, const char *detail);

/* Runs a QMP command from a worker thread on the domain's client. */
int qemu_qmp_sync(QemuDomain *dom, const char *command, JsonNode *args, JsonNode **ret_value,
                  char **ret_error);

/* Takes a reference on the active runtime's object and returns the runtime,
 * or -EBUSY with a sentence when the domain is not active. */
int qemu_get_active(Obj *obj, QemuDomain **ret_dom, char **ret_error);

/* Main loop: the QMP event handler and the process exit handler. */
void qemu_on_qmp_event(QmpClient *client, const QmpMessage *event, gpointer user_data);
void qemu_on_process_exit(pid_t pid, int status, void *user_data);

/* Waits (worker thread) until pred(dom) holds or timeout; obj->lock held.
 * Returns 0, or -ETIMEDOUT. */
int qemu_wait_locked(QemuDomain *dom, bool (*pred)(QemuDomain *dom), int64_t timeout_ms);

/* Console socket plumbing (qemu_console.c). */
int qemu_console_connect(QemuDomain *dom, const char *path, char **ret_error);
void qemu_console_disconnect(QemuDomain *dom);

/* Writes the live definition and id to the run dir. */
void qemu_save_live(QemuDomain *dom);

/* Builds the runtime for obj (not yet attached). */
QemuDomain *qemu_domain_new(QemuDriver *driver, Obj *obj, const DomainDef *def);
QemuDomain *qemu_domain_ref(QemuDomain *dom);
void qemu_domain_unref(QemuDomain *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuDomain, qemu_domain_unref)

/* Attaches watch + QMP + console to a running QEMU (start and reattach). */
int qemu_attach(QemuDomain *dom, char **ret_error);
