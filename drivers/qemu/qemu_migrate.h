/* qemu_migrate.h — live migration between two virtfs hosts, with QEMU's own
 * migration and nothing between the daemons but what a user (or
 * scripts/virtfs-migrate over ssh) writes into their files.
 *
 * Target: qemu_domain_incoming() starts QEMU with -incoming defer and
 * without -S (so QEMU runs the guest as soon as it arrived if it ran on the
 * source; `cont` cannot ask for that while the source holds the disks'
 * locks), turns on the `events` capability and listens with
 * migrate-incoming on a tcp or unix address. The domain's
 * state is `incoming` until QEMU resumes the guest (RESUME: running, reason
 * `migrated`) or the stream ends complete with a paused guest (MIGRATION
 * completed: paused, reason `migrated`). A failed stream makes QEMU exit:
 * shutoff, reason `migration-failed`, QEMU's words in `error`.
 *
 * Source: qemu_domain_migrate() turns on `events` and `return-path` (the
 * target confirms on it that it loaded the whole state, so a target that
 * dies before it runs the guest fails the migration on the source, which
 * resumes it), sets the bandwidth and downtime, and runs `migrate`; the
 * rest happens on the main loop from MIGRATION events: `completed` asks
 * query-migrate for the final figures and quits QEMU (shutoff, reason
 * `migrated`); `failed` and `cancelled` keep the guest (QEMU resumes it)
 * and store QEMU's reason in `error`. While it runs, one job "migrate" is
 * the domain's job (qemu_job.c), and the `job` file shows QEMU's figures.
 *
 * Files in the run dir (for a daemon that restarts meanwhile):
 *   migrate-out   the URI of a migration out in progress; a reattached QEMU
 *                 found in postmigrate with it has moved away and is quit,
 *                 never resumed (that would run the guest twice)
 *   incoming      the address a waiting target listens on
 *
 * Functions return 0 or -errno with a sentence in *ret_error. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "drivers/qemu/qemu_driver.h"

/* ---- pure parts ---- */

/* Checks a migration address strictly, so nothing but an address reaches
 * QEMU: `tcp:HOST:PORT` (HOST an IPv4 address, an IPv6 address in
 * brackets, or a host name of letters, digits, dots and dashes not
 * starting with a dash; PORT decimal, 1-65535, or 0 when `listen` to let
 * the kernel choose) or `unix:PATH` (absolute, at most 107 bytes, no
 * control characters). Returns the address in canonical form. */
int qemu_migrate_parse_address(const char *text, bool listen, char **ret_address,
                               char **ret_error);

typedef struct {
  char *address;           /* checked by qemu_migrate_parse_address */
  uint64_t bandwidth_mib;  /* MiB/s; 0 = unlimited */
  uint64_t downtime_ms;    /* the most the guest may stand still; 0 = QEMU's 300 */
} QemuMigrateRequest;
void qemu_migrate_request_clear(QemuMigrateRequest *req);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QemuMigrateRequest, qemu_migrate_request_clear)

/* The argument of `ctl migrate`: "ADDRESS [bandwidth=MIB_PER_S]
 * [downtime=MS]", words separated by blanks. -EINVAL with the reason. */
int qemu_migrate_parse_request(const char *text, QemuMigrateRequest *ret_req, char **ret_error);

/* What query-migrate says, the parts the `job` file shows. */
typedef struct {
  char *status;                 /* none, setup, active, completed, failed, cancelled, ... */
  char *error;                  /* error-desc, or NULL */
  char *socket_address;         /* target: the first address it listens on, or NULL */
  int64_t total_time_ms, setup_time_ms, downtime_ms, expected_downtime_ms;
  uint64_t transferred, remaining, total, dirty_pages_rate, page_size, dirty_sync_count;
  double mbps;
} QemuMigrateInfo;
void qemu_migrate_info_clear(QemuMigrateInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QemuMigrateInfo, qemu_migrate_info_clear)

/* Parses the query-migrate reply. -EPROTO when it is not one. */
int qemu_migrate_info_parse(JsonNode *value, QemuMigrateInfo *ret_info);
/* The `job` file's lines for job `job` ("migrate" out, "incoming") with
 * `address` (key: value; figures QEMU does not give at this stage are 0). */
void qemu_migrate_info_format(const QemuMigrateInfo *info, const char *job, const char *address,
                              GString *out);

/* ---- the verbs ---- */

/* echo incoming > state (address NULL: tcp:MIGRATION_HOST:0, the daemon's
 * --migration-address and a port the kernel chooses) or `ctl incoming
 * ADDRESS`: starts QEMU waiting for a migration stream; returns once it
 * listens. -EBUSY when the domain is active or saved. */
int qemu_domain_incoming(QemuDriver *driver, Obj *obj, const char *address, char **ret_error);
/* The address a waiting target listens on, as QEMU reports it ("tcp:
 * 127.0.0.1:41234"), or NULL. */
char *qemu_domain_incoming_address(Obj *obj);

/* ctl migrate ARGS: starts the migration out; returns once QEMU accepted
 * it. -EBUSY unless running or paused, or while another job runs. */
int qemu_domain_migrate(QemuDriver *driver, Obj *obj, const char *args, char **ret_error);
/* ctl cancel: a migration out is cancelled (returns once QEMU says so; the
 * guest goes on here); a waiting target is ended. -EBUSY otherwise. */
int qemu_domain_migrate_cancel(QemuDriver *driver, Obj *obj, char **ret_error);

/* The `job` file: the job running now (a migration with QEMU's figures),
 * else the figures of the last migration of this daemon's run, else
 * "job: none". */
int qemu_domain_job_read(QemuDriver *driver, Obj *obj, GString *out);
