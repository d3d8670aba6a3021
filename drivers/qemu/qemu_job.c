/* qemu_job.c — long jobs on a domain (snapshots, save, restore): one at a
 * time per domain, with their progress in the domain's record for `info`,
 * and QEMU's own job API followed to its end. See qemu_driver_priv.h. */
#include "drivers/qemu/qemu_driver_priv.h"

#include <errno.h>

#define QEMU_JOB_POLL_US (100 * 1000)
/* How long QEMU may keep its monitor busy with a job (QEMU 7.2 runs
 * snapshot-save/-load/-delete in its main loop, so neither the command nor
 * query-jobs is answered before the work is done): an hour covers a
 * snapshot of a large guest on slow storage; a QEMU that dies ends the wait
 * at once. */
#define QEMU_JOB_TIMEOUT_MS (3600 * 1000)

int qemu_job_begin(QemuDriver *d, const char *uuid, const char *name, char **ret_error) {
  QemuRecord *rec = qemu_record_hold(d, uuid);
  g_mutex_lock(&d->lock);
  const char *running = rec->job;
  if (!running) {
    rec->job = name;
    rec->job_done = rec->job_total = 0;
  }
  g_mutex_unlock(&d->lock);
  qemu_record_release(d, rec);
  if (running) {
    *ret_error = g_strdup_printf("a %s is in progress on this domain: wait for it to end",
                                 running);
    return -EBUSY;
  }
  return 0;
}

void qemu_job_progress(QemuDriver *d, const char *uuid, uint64_t done, uint64_t total) {
  QemuRecord *rec = qemu_record_hold(d, uuid);
  g_mutex_lock(&d->lock);
  rec->job_done = done;
  rec->job_total = total;
  g_mutex_unlock(&d->lock);
  qemu_record_release(d, rec);
}

void qemu_job_end(QemuDriver *d, const char *uuid) {
  QemuRecord *rec = qemu_record_hold(d, uuid);
  g_mutex_lock(&d->lock);
  rec->job = NULL;
  rec->job_done = rec->job_total = 0;
  g_mutex_unlock(&d->lock);
  qemu_record_release(d, rec);
}

void qemu_job_info(QemuDriver *d, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  g_autofree char *uuid = g_strdup(((const DomainDef *)obj->def)->uuid);
  g_mutex_unlock(&obj->lock);
  QemuRecord *rec = qemu_record_hold(d, uuid);
  g_mutex_lock(&d->lock);
  g_string_append_printf(out, "job: %s\n", rec->job ? rec->job : "none");
  g_string_append_printf(out, "job_done_bytes: %" G_GUINT64_FORMAT "\n", rec->job_done);
  g_string_append_printf(out, "job_total_bytes: %" G_GUINT64_FORMAT "\n", rec->job_total);
  g_mutex_unlock(&d->lock);
  qemu_record_release(d, rec);
}

int qemu_job_run_qmp(QemuDomain *dom, const char *command, JsonNode *args, const char *job_id,
                     char **ret_error) {
  int r = qemu_qmp_sync_timeout(dom, command, args, QEMU_JOB_TIMEOUT_MS, NULL, ret_error);
  if (r < 0)
    return r;
  for (;;) {
    JsonNode *value = NULL;
    g_autofree char *error = NULL;
    if ((r = qemu_qmp_sync_timeout(dom, "query-jobs", NULL, QEMU_JOB_TIMEOUT_MS, &value,
                                   &error)) < 0) {
      *ret_error = g_strdup_printf("%s: %s", command, error);
      return r;
    }
    g_auto(QmpProgress) job = {0};
    r = qmp_reply_parse_job(value, job_id, &job);
    json_node_unref(value);
    if (r < 0) {
      *ret_error = g_strdup_printf("%s: QEMU lost track of job %s", command, job_id);
      return -EIO;
    }
    qemu_job_progress(dom->driver, dom->uuid, job.done, job.total);
    if (g_strcmp0(job.status, "concluded") == 0 || g_strcmp0(job.status, "null") == 0) {
      JsonNode *dismiss = NULL;
      if (qmp_args_job_id(job_id, &dismiss) == 0) {
        g_autofree char *e = NULL;
        qemu_qmp_sync(dom, "job-dismiss", dismiss, NULL, &e);
      }
      if (job.error) {
        *ret_error = g_strdup_printf("QEMU's %s failed: %s", command, job.error);
        return -EIO;
      }
      return 0;
    }
    g_usleep(QEMU_JOB_POLL_US);
  }
}
