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
/* A `shutoff` write presses the power button again this often while the
 * guest has not reacted (one still booting has not seen the first press). */
#define QEMU_POWER_BUTTON_RETRY_MS 5000
/* How often a waiting worker checks whether its caller gave up. */
#define QEMU_CANCEL_POLL_MS 100

/* Kept per domain UUID from the domain's first start or console open
 * until it is undefined (qemu_driver_forget_domain). `users` (a run, open
 * console readers) and `forgotten` are protected by QemuDriver.lock: a
 * forgotten record leaves the table at once and is freed by its last
 * user. */
typedef struct {
  DomainState state;      /* when inactive: shutoff or crashed */
  char *reason;
  ConsoleRing *console;
  int users;
  bool forgotten;
  /* A long job on the domain (qemu_job.c): its name ("snapshot", "revert",
   * "save", "restore", ...) while it runs, else NULL; one at a time. Its
   * progress in bytes, for `info`. Protected by QemuDriver.lock. */
  const char *job;
  uint64_t job_done, job_total;
  /* The `job` file's text of the last migration out or in that ended
   * (qemu_migrate.c), or NULL. Protected by QemuDriver.lock. */
  char *last_migration;
} QemuRecord;

typedef struct QemuDomain {
  gint refcount;            /* Obj.runtime holds one; waiters take one */
  QemuDriver *driver;
  Obj *obj;                 /* reference, dropped when the runtime goes */
  QemuRecord *record;       /* held (qemu_record_hold) */
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
  bool ran;                 /* the vCPUs ran since the start (not started
                               paused and never resumed) */
  guint shutdown_events;    /* SHUTDOWN events seen during this run */
  bool restored;            /* started from a saved state (qemu_save.c) */
  GCond changed;
  int console_fd;           /* connected to console.sock, or -1 */
  GSource *console_source;  /* main loop only */
  GMutex console_write_lock;
  GPtrArray *taps;          /* names of taps opened for this run */
  GBytes *screen;           /* the last screendump (PNG), or NULL */
  int64_t screen_us;        /* when it was taken (monotonic) */
  /* The guest agent (qemu_agent.c): one request at a time, by the thread
   * that set agent_busy under agent_lock; only that thread uses agent_fd
   * (-1: not connected) and agent_buf (bytes received, not yet read). */
  GMutex agent_lock;
  GCond agent_cond;
  bool agent_busy;
  int agent_fd;
  GString *agent_buf;
  /* Live migration (qemu_migrate.c). */
  char *incoming_uri;       /* target: the address asked for at the start */
  char *incoming_address;   /* target: where QEMU listens, while incoming */
  char *migrate_uri;        /* source: where the guest goes, while migrating */
  bool migrating;           /* source: a migration out runs */
  bool migrated;            /* source: it completed; QEMU's exit is `migrated` */
  char *log_path;           /* QEMU's log, and its size when this run began */
  goffset log_offset;
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
  char *migration_host;     /* where `echo incoming > state` listens */
  int next_id;
};

/* The record of a domain, created on first use, counted as used until
 * qemu_record_release. */
QemuRecord *qemu_record_hold(QemuDriver *driver, const char *uuid);
void qemu_record_release(QemuDriver *driver, QemuRecord *record);

/* The runtime of obj, or NULL (call with obj->lock held). */
static inline QemuDomain *qemu_domain_of_locked(Obj *obj) {
  return obj->runtime;
}

/* Sets state and reason, signals waiters, emits an event when `event` is
 * not NULL. Call with obj->lock held; the event is emitted after unlocking
 * by the caller through qemu_emit(). */
void qemu_set_state_locked(QemuDomain *dom, DomainState state, const char *reason);
void qemu_emit(QemuDomain *dom, const char *event, const char *detail);

/* Reattach: finishes or undoes the hot plug operation a killed daemon
 * left in its journal, so that the guest and the definition agree. */
void qemu_hotplug_recover(QemuDriver *d, QemuDomain *dom);

/* Runs a QMP command from a worker thread on the domain's client. */
int qemu_qmp_sync(QemuDomain *dom, const char *command, JsonNode *args, JsonNode **ret_value,
                  char **ret_error);
/* The same with its own timeout, for commands QEMU answers only after long
 * work (snapshot-save runs in QEMU's main loop and holds its monitor). */
int qemu_qmp_sync_timeout(QemuDomain *dom, const char *command, JsonNode *args, int timeout_ms,
                          JsonNode **ret_value, char **ret_error);
/* The same with a descriptor sent along with the command (getfd). */
int qemu_qmp_sync_fd(QemuDomain *dom, const char *command, JsonNode *args, int fd,
                     int timeout_ms, JsonNode **ret_value, char **ret_error);

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

/* Builds the cloud-init seed of a starting domain and adds its disk to
 * live_def; nothing when its cloud-init/ is empty (qemu_seed.c). */
int qemu_seed_prepare(QemuDomain *dom, char **ret_error);

/* One guest agent command (qemu_agent.c), within QEMU_AGENT_TIMEOUT_MS.
 * `args` is borrowed. `no_reply`: the agent answers only on failure
 * (guest-shutdown); done once sent. -ENOTCONN when the domain has no agent
 * channel or the guest has not opened it, -ETIMEDOUT, -EIO when the agent
 * refused (its sentence in *ret_error), -EPROTO for a bad reply. */
int qemu_agent_command(QemuDriver *driver, Obj *obj, const char *command, JsonNode *args,
                       bool no_reply, JsonNode **ret_value, char **ret_error);

/* Writes the live definition and id to the run dir. */
void qemu_save_live(QemuDomain *dom);

/* Builds the runtime for obj (not yet attached). */
QemuDomain *qemu_domain_new(QemuDriver *driver, Obj *obj, const DomainDef *def);
QemuDomain *qemu_domain_ref(QemuDomain *dom);
void qemu_domain_unref(QemuDomain *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuDomain, qemu_domain_unref)

/* Attaches watch + QMP + console to a running QEMU (start and reattach). */
int qemu_attach(QemuDomain *dom, char **ret_error);

/* ---- live migration (qemu_migrate.c) ---- */
/* The start of a target (dom->incoming_uri set): capabilities,
 * migrate-incoming, and the address QEMU bound. Before `cont`. */
int qemu_migrate_start_incoming(QemuDomain *dom, char **ret_error);
/* After a reattach (qemu_lifecycle.c), with QEMU's run status: takes up a
 * migration the daemon was in when it stopped. True when it dealt with
 * the QEMU (one that migrated away is quit; a waiting target stays
 * `incoming`), so the saved-state recovery must leave it alone. */
bool qemu_migrate_recover(QemuDomain *dom, const char *status);
/* Main loop, no lock held: a MIGRATION event (its data). */
void qemu_migrate_on_event(QemuDomain *dom, JsonNode *data);
/* The last lines QEMU wrote to its log during this run, or NULL. */
char *qemu_log_tail(const char *log_path, goffset offset);
/* Starts the domain; with `incoming_uri`, as a migration target. */
int qemu_domain_start_full(QemuDriver *driver, Obj *obj, bool paused, const char *incoming_uri,
                           char **ret_error);

/* ---- long jobs (qemu_job.c) ----
 * One job per domain at a time, announced in its record so `info` shows
 * its progress and a second snapshot, revert, save or restore is refused
 * (-EBUSY) while one runs. */
int qemu_job_begin(QemuDriver *driver, const char *uuid, const char *name, char **ret_error);
void qemu_job_progress(QemuDriver *driver, const char *uuid, uint64_t done, uint64_t total);
void qemu_job_end(QemuDriver *driver, const char *uuid);
/* "job: NAME|none", "job_done_bytes: N", "job_total_bytes: N" lines. */
void qemu_job_info(QemuDriver *driver, Obj *obj, GString *out);
/* Runs a QMP command that starts a job `job_id` (snapshot-save, -load,
 * -delete), follows it with query-jobs every 100 ms (progress into the
 * record of dom), dismisses it and returns 0 or its error (-EIO). Waits as
 * long as the job runs: a snapshot of a large guest takes time. */
int qemu_job_run_qmp(QemuDomain *dom, const char *command, JsonNode *args, const char *job_id,
                     char **ret_error);
