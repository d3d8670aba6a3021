/* qmp_client.h — one QMP connection to one QEMU process, driven by a GLib
 * main loop. The client connects to the monitor's unix socket (retrying
 * while QEMU has not created it yet), reads the greeting, negotiates with
 * qmp_capabilities, then carries commands and events. The text itself is
 * made and read by qmp_codec.[ch].
 *
 * Threads. Everything the client does happens in the thread that runs its
 * GMainContext (the "loop thread"): socket I/O, timeouts, and every callback
 * below. Other threads (FUSE workers) use only the functions marked
 * "any thread"; qmp_client_execute_sync() is for them and must not be
 * called from the loop thread (it would wait for itself).
 *
 * Lifetime. A QmpClient is reference-counted (atomically). While the
 * connection is open it also holds a reference on itself, so the memory
 * outlives every callback; a FUSE thread holding a reference while QEMU
 * dies gets clean errors (-ENOTCONN, -ECONNRESET), never a dangling pointer.
 * The owner ends the connection with qmp_client_close() and drops its
 * reference with qmp_client_unref(), or both with qmp_client_free().
 *
 * Errors: negative errno, and a sentence through nullable `ret_error` /
 * `error_sentence` arguments. QMP error replies are mapped by
 * qmp_error_class_to_errno(). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "drivers/qemu/qmp_codec.h"

typedef struct QmpClient QmpClient;

/* Connected and negotiated (error == 0), or the connection could not be
 * made before the deadline, QEMU closed it, or the greeting or negotiation
 * failed (error < 0, with a sentence). Called once, unless the owner closes
 * the client first. */
typedef void (*QmpReadyFunc)(QmpClient *client, int error, const char *error_sentence,
                             gpointer user_data);

/* An event (event->kind == QMP_MESSAGE_EVENT). `event` is borrowed for the
 * duration of the call; keep event->value with json_node_ref(). */
typedef void (*QmpEventFunc)(QmpClient *client, const QmpMessage *event, gpointer user_data);

/* The connection ended after it was ready: QEMU exited or crashed
 * (-ECONNRESET), sent something that is not QMP (-EPROTO), a line longer
 * than QMP_LINE_MAX (-EMSGSIZE), or a socket error. Called at most once,
 * after the pending commands have been failed; not called when the owner
 * closes the client. The client may be closed and unreffed from inside. */
typedef void (*QmpDisconnectFunc)(QmpClient *client, int error, const char *sentence,
                                  gpointer user_data);

/* The outcome of one command, called exactly once in the loop thread:
 *  - error == 0: `value` is the "return" member (transfer full: the callee
 *    owns it and must json_node_unref() it), error_sentence is NULL;
 *  - error < 0: value is NULL, error_sentence says what happened.
 *    QMP error replies give qmp_error_class_to_errno(class); -ETIMEDOUT when
 *    QEMU did not answer in time (the command may still take effect later);
 *    -ECONNRESET when the connection was lost; -ECANCELED when the owner
 *    closed the client; the connect error when the connection never became
 *    ready. */
typedef void (*QmpCommandFunc)(QmpClient *client, int error, JsonNode *value,
                               const char *error_sentence, gpointer user_data);

typedef struct {
  QmpReadyFunc on_ready;           /* nullable */
  QmpEventFunc on_event;           /* nullable */
  QmpDisconnectFunc on_disconnect; /* nullable */
  gpointer user_data;              /* passed to the three; not freed */
} QmpClientCallbacks;

/* Default deadline for connecting plus negotiating. */
#define QMP_CLIENT_CONNECT_TIMEOUT_MS 10000

/* Any thread. Creates a client for the unix socket at `socket_path` that
 * will run on `context` (referenced; NULL means the global default
 * context). Connecting starts on the loop thread at its next iteration; it
 * retries while the socket is missing or refuses connections, and gives up
 * when the client is not ready `connect_timeout_ms` after creation (<= 0:
 * QMP_CLIENT_CONNECT_TIMEOUT_MS). `callbacks` (nullable) is copied.
 * Commands may be submitted at once; they are sent when the client is ready.
 * -ENAMETOOLONG when the path does not fit a sockaddr_un, -EINVAL when empty.
 * *ret_client holds the caller's reference. */
int qmp_client_new(GMainContext *context, const char *socket_path, int connect_timeout_ms,
                   const QmpClientCallbacks *callbacks, QmpClient **ret_client);

/* Any thread. */
QmpClient *qmp_client_ref(QmpClient *client);
/* Any thread; NULL-tolerant. Dropping the last reference of a client that
 * is still open leaves the connection running until QEMU closes it (the
 * connection holds its own reference): the owner should close first. */
void qmp_client_unref(QmpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_client_unref)

/* Any thread; idempotent; NULL-tolerant. Ends the connection: pending
 * commands fail with -ECANCELED and no ready, event or disconnect callback
 * is called afterwards. From the loop thread (or any thread while no thread
 * runs the context) this happens before it returns, the command callbacks
 * running inside this call; from another thread it is scheduled on the
 * loop and happens shortly after. */
void qmp_client_close(QmpClient *client);

/* qmp_client_close() then qmp_client_unref(): the owner's release. */
void qmp_client_free(QmpClient *client);

/* Any thread. True once negotiated and until the connection ends. */
bool qmp_client_is_ready(QmpClient *client);

/* Any thread. The QEMU version from the greeting; -ENOTCONN before it. */
int qmp_client_get_version(QmpClient *client, QmpVersion *ret_version);

/* Not the loop thread. Waits until the client is ready (0) or failed (the
 * connect error), or -ETIMEDOUT after timeout_ms (<= 0: until one of the
 * two). */
int qmp_client_wait_ready(QmpClient *client, int timeout_ms, char **ret_error);

/* Loop thread only (or any thread while no thread runs the context).
 * Sends `command` with `arguments` (borrowed, nullable, a JSON object; it is
 * serialized before this returns) and calls `callback` (nullable) once with
 * the outcome. The command fails with -ETIMEDOUT if no reply arrives within
 * timeout_ms (<= 0: no timeout). Returns 0 when submitted; or, without
 * calling the callback: -EINVAL for bad arguments, -ENOTCONN (with the
 * reason) when the connection has ended. */
int qmp_client_execute(QmpClient *client, const char *command, JsonNode *arguments,
                       int timeout_ms, QmpCommandFunc callback, gpointer user_data,
                       char **ret_error);

/* Any thread except the loop thread (g_return_val_if_fail: -EDEADLK).
 * Submits the command on the loop thread and waits for its outcome, with
 * the same results as qmp_client_execute(), plus -ENOTCONN at once when the
 * connection has ended. On success *ret_return (nullable) receives the
 * "return" value (caller owns it). On failure *ret_error (nullable)
 * receives a sentence. Should the loop thread not run at all, it gives up
 * one second after timeout_ms with -ETIMEDOUT (timeout_ms <= 0 waits for
 * ever: avoid on FUSE threads). The caller must hold a reference on the
 * client for the duration. */
int qmp_client_execute_sync(QmpClient *client, const char *command, JsonNode *arguments,
                            int timeout_ms, JsonNode **ret_return, char **ret_error);

/* qmp_client_execute_sync() with a descriptor sent along with the command
 * (SCM_RIGHTS), as QEMU's getfd takes it. `fd` is duplicated: the caller
 * keeps and closes its own. */
int qmp_client_execute_sync_fd(QmpClient *client, const char *command, JsonNode *arguments,
                               int fd, int timeout_ms, JsonNode **ret_return, char **ret_error);
