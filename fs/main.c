/* main.c — the virtfs daemon: command line, state and run directories,
 * loading of stored objects, the embedded defaults, the GLib main loop
 * thread that drivers use, and the FUSE session until unmount or
 * SIGINT/SIGTERM. Unmounting never stops a VM. */
#include "config.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <getopt.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "drivers/bridge/network_manager.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_migrate.h"
#include "drivers/qemu/qemu_snapshot.h"
#include "fs/fs_context.h"
#include "fs/fs_domain_hooks.h"
#include "fs/fs_events_notify.h"
#include "fs/fs_files.h"
#include "fs/fs_metrics.h"
#include "fs/fs_ops.h"
#include "fs/fs_pools.h"
#include "objects/domain_obj.h"
#include "objects/history.h"
#include "objects/log.h"
#include "objects/network_obj.h"
#include "objects/node_caps.h"
#include "objects/registry.h"
#include "objects/snapshot_def.h"

typedef struct {
  bool foreground;
  bool debug;
  GPtrArray *fuse_opts;   /* -o values */
  char *state_dir;
  char *run_dir;
  char *group;
  char *mountpoint;
  int state_timeout_s;
  int max_threads;
  int qmp_timeout_s;
  char *dnsmasq;
  char *migration_address;
  bool lvm_no_dm;
  int history_max;
} Options;

static void options_clear(Options *o) {
  g_clear_pointer(&o->fuse_opts, g_ptr_array_unref);
  g_clear_pointer(&o->state_dir, g_free);
  g_clear_pointer(&o->run_dir, g_free);
  g_clear_pointer(&o->group, g_free);
  g_clear_pointer(&o->dnsmasq, g_free);
  g_clear_pointer(&o->migration_address, g_free);
  g_clear_pointer(&o->mountpoint, g_free);
}
/* Every return from main, early ones included, frees the options (a leak
 * report at a refused start would hide the real one). */
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

static void usage(FILE *out) {
  fprintf(out,
          "usage: virtfs [-f] [-d] [-o OPTIONS] [--state-dir DIR] [--run-dir DIR]\n"
          "              [--group GROUP] [--state-timeout SECONDS] [--max-threads N]\n"
          "              [--qmp-timeout SECONDS] [--dnsmasq PATH] [--history N]\n"
          "              [--migration-address HOST]\n"
          "              [SOURCE] MOUNTPOINT\n"
          "\n"
          "  -f                    stay in the foreground (log to stderr)\n"
          "  -d                    debug: foreground, debug log lines and FUSE tracing\n"
          "  -o OPTIONS            FUSE mount options (comma-separated); the long\n"
          "                        options below also work here as state_dir=DIR,\n"
          "                        run_dir=DIR, group=GROUP, state_timeout=SECS,\n"
          "                        max_threads=N, qmp_timeout=SECS, dnsmasq=PATH,\n"
          "                        history=N, migration_address=HOST\n"
          "                        (for fstab, through mount.fuse3)\n"
          "  --state-dir DIR       definitions (default /var/lib/virtfs as root,\n"
          "                        $XDG_DATA_HOME/virtfs otherwise)\n"
          "  --run-dir DIR         QMP sockets, pid files, live XML (default /run/virtfs\n"
          "                        as root, $XDG_RUNTIME_DIR/virtfs otherwise)\n"
          "  --group GROUP         members of GROUP may change things, like the owner\n"
          "  --state-timeout SECS  how long a write to a state file waits (default 120)\n"
          "  --max-threads N       FUSE worker threads (default 64)\n"
          "  --qmp-timeout SECS    how long QEMU may take to answer on its QMP socket,\n"
          "                        when it starts and per command (default 10)\n"
          "  --dnsmasq PATH        the dnsmasq binary networks run (default: dnsmasq\n"
          "                        from PATH, /usr/sbin or /sbin)\n"
          "  --history N           past definitions kept per object in history/\n"
          "                        (default 50; 0 keeps none)\n"
          "  --migration-address HOST  where `echo incoming > state` listens for a\n"
          "                        migration (default 0.0.0.0: every address)\n"
          "  --lvm-without-device-mapper  let logical pools change LVM metadata on a\n"
          "                        kernel without device-mapper (volumes hold no data)\n"
          "  -h, --help            this text\n"
          "  -V, --version         the version\n"
          "SOURCE is ignored: mount.fuse3 passes the first field of an fstab line.\n");
}

/* Sets one of virtfs's own options, named as on the command line
 * ("state-dir") or as in -o ("state_dir"). 0, -ENOENT when `name` is not
 * one of them, -EINVAL (with a message) for a bad value. */
static int set_option(Options *o, const char *name, const char *value) {
  g_autofree char *key = g_strdelimit(g_strdup(name), "_", '-');
  char **target = NULL;
  if (strcmp(key, "state-dir") == 0)
    target = &o->state_dir;
  else if (strcmp(key, "run-dir") == 0)
    target = &o->run_dir;
  else if (strcmp(key, "group") == 0)
    target = &o->group;
  else if (strcmp(key, "dnsmasq") == 0)
    target = &o->dnsmasq;
  else if (strcmp(key, "migration-address") == 0) {
    g_autofree char *uri = g_strdup_printf(strchr(value, ':') ? "tcp:[%s]:0" : "tcp:%s:0", value);
    g_autofree char *canonical = NULL, *error = NULL;
    if (qemu_migrate_parse_address(uri, true, &canonical, &error) < 0) {
      fprintf(stderr, "virtfs: %s: '%s' is not an IP address or a host name\n", name, value);
      return -EINVAL;
    }
    target = &o->migration_address;
  }
  if (target) {
    if (!*value) {
      fprintf(stderr, "virtfs: %s needs a value\n", name);
      return -EINVAL;
    }
    g_free(*target);
    *target = g_strdup(value);
    return 0;
  }
  if (strcmp(key, "state-timeout") == 0) {
    o->state_timeout_s = atoi(value);
    if (o->state_timeout_s <= 0) {
      fprintf(stderr, "virtfs: %s needs a positive number of seconds\n", name);
      return -EINVAL;
    }
    return 0;
  }
  if (strcmp(key, "qmp-timeout") == 0) {
    o->qmp_timeout_s = atoi(value);
    if (o->qmp_timeout_s <= 0 || o->qmp_timeout_s > 3600) {
      fprintf(stderr, "virtfs: %s needs a number of seconds from 1 to 3600\n", name);
      return -EINVAL;
    }
    return 0;
  }
  if (strcmp(key, "history") == 0) {
    char *end;
    long n = strtol(value, &end, 10);
    if (!*value || *end || n < 0 || n > HISTORY_MAX_MAX) {
      fprintf(stderr, "virtfs: %s needs a number from 0 to %d\n", name, HISTORY_MAX_MAX);
      return -EINVAL;
    }
    o->history_max = (int)n;
    return 0;
  }
  if (strcmp(key, "max-threads") == 0) {
    o->max_threads = atoi(value);
    if (o->max_threads < 4) {
      fprintf(stderr, "virtfs: %s needs at least 4\n", name);
      return -EINVAL;
    }
    return 0;
  }
  return -ENOENT;
}

/* Takes virtfs's own NAME=VALUE options out of a -o list (fstab lines
 * carry them that way) and keeps the rest for FUSE. */
static int add_mount_options(Options *o, const char *list) {
  g_auto(GStrv) items = g_strsplit(list, ",", -1);
  g_autoptr(GPtrArray) rest = g_ptr_array_new();
  for (char **i = items; *i; i++) {
    char *eq = strchr(*i, '=');
    if (eq) {
      g_autofree char *name = g_strndup(*i, (gsize)(eq - *i));
      int r = set_option(o, name, eq + 1);
      if (r == 0)
        continue;
      if (r != -ENOENT)
        return r;
    }
    if (**i)
      g_ptr_array_add(rest, *i);
  }
  if (rest->len > 0) {
    g_ptr_array_add(rest, NULL);
    g_ptr_array_add(o->fuse_opts, g_strjoinv(",", (char **)rest->pdata));
  }
  return 0;
}

static int parse_options(int argc, char **argv, Options *o) {
  enum { OPT_STATE_DIR = 256, OPT_RUN_DIR, OPT_GROUP, OPT_STATE_TIMEOUT, OPT_MAX_THREADS,
         OPT_QMP_TIMEOUT, OPT_DNSMASQ, OPT_LVM_NO_DM, OPT_HISTORY, OPT_MIGRATION_ADDRESS };
  static const struct option longopts[] = {
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"run-dir", required_argument, NULL, OPT_RUN_DIR},
    {"group", required_argument, NULL, OPT_GROUP},
    {"state-timeout", required_argument, NULL, OPT_STATE_TIMEOUT},
    {"max-threads", required_argument, NULL, OPT_MAX_THREADS},
    {"qmp-timeout", required_argument, NULL, OPT_QMP_TIMEOUT},
    {"dnsmasq", required_argument, NULL, OPT_DNSMASQ},
    {"lvm-without-device-mapper", no_argument, NULL, OPT_LVM_NO_DM},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"migration-address", required_argument, NULL, OPT_MIGRATION_ADDRESS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {0},
  };
  o->fuse_opts = g_ptr_array_new_with_free_func(g_free);
  o->state_timeout_s = 120;
  o->max_threads = 64;
  o->history_max = HISTORY_DEFAULT_MAX;
  int c, index;
  while ((c = getopt_long(argc, argv, "fdo:hV", longopts, &index)) != -1) {
    switch (c) {
    case 'f': o->foreground = true; break;
    case 'd': o->foreground = o->debug = true; break;
    case 'o':
      if (add_mount_options(o, optarg) < 0)
        return -EINVAL;
      break;
    case OPT_STATE_DIR:
    case OPT_RUN_DIR:
    case OPT_GROUP:
    case OPT_STATE_TIMEOUT:
    case OPT_MAX_THREADS:
    case OPT_QMP_TIMEOUT:
    case OPT_DNSMASQ:
    case OPT_HISTORY:
    case OPT_MIGRATION_ADDRESS:
      if (set_option(o, longopts[index].name, optarg) < 0)
        return -EINVAL;
      break;
    case OPT_LVM_NO_DM: o->lvm_no_dm = true; break;
    case 'h': usage(stdout); exit(0);
    case 'V': printf("virtfs %s\n", VIRTFS_VERSION); exit(0);
    default: usage(stderr); return -EINVAL;
    }
  }
  /* mount.fuse3 runs "virtfs SOURCE MOUNTPOINT -o OPTIONS" for an fstab
   * line of type fuse.virtfs; SOURCE means nothing to virtfs. */
  int positional = argc - optind;
  if (positional != 1 && positional != 2) {
    usage(stderr);
    return -EINVAL;
  }
  o->mountpoint = g_canonicalize_filename(argv[argc - 1], NULL);
  return 0;
}

/* System mode as root, session mode otherwise (like qemu:///session). */
static void default_dirs(Options *o, bool privileged) {
  if (!o->state_dir)
    o->state_dir = privileged ? g_strdup("/var/lib/virtfs")
                              : g_build_filename(g_get_user_data_dir(), "virtfs", NULL);
  if (!o->run_dir)
    o->run_dir = privileged ? g_strdup("/run/virtfs")
                            : g_build_filename(g_get_user_runtime_dir(), "virtfs", NULL);
}

/* Refuses a directory the daemon cannot write (a read-only mount, a
 * directory of another user) before mounting: otherwise every start and
 * every definition would fail later, one by one, with the same cause. */
static int check_writable(const char *what, const char *dir) {
  if (access(dir, W_OK | X_OK) < 0) {
    fprintf(stderr, "virtfs: the %s directory %s is not writable: %s\n", what, dir,
            g_strerror(errno));
    return -1;
  }
  return 0;
}

static gpointer main_loop_thread(gpointer data) {
  g_main_loop_run(data);
  return NULL;
}

/* Networks before the tree answers: reattach what a previous daemon left
 * running, define the default network once (system mode only), then start
 * the autostart ones, so domains started later find them active. */
static void start_networks(FsContext *ctx, const char *dnsmasq, GMainContext *main_context) {
  NetworkManagerConfig cfg = {.run_dir = ctx->run_dir, .dnsmasq_binary = dnsmasq,
                              .main_context = main_context};
  ctx->networks = network_manager_new(ctx->registry, &cfg);
  int n = network_manager_reattach_all(ctx->networks);
  if (n > 0)
    log_info("%d networks are active", n);
  if (ctx->privileged) {
    g_autofree char *error = NULL;
    if (network_manager_define_default(ctx->networks, &error) < 0)
      log_error("cannot define the default network: %s", error);
  }
  network_manager_autostart(ctx->networks);
}

int main(int argc, char **argv) {
  g_auto(Options) o = {0};
  if (parse_options(argc, argv, &o) < 0)
    return 2;
  log_set_debug(o.debug);
  bool privileged = geteuid() == 0;
  default_dirs(&o, privileged);

  FsContext ctx = {0};
  ctx.privileged = privileged;
  ctx.start_time_us = g_get_real_time();
  ctx.owner_uid = geteuid();
  ctx.owner_gid = getegid();
  ctx.state_timeout_ms = o.state_timeout_s * 1000;
  /* Freed with main's scope: early returns below must not leak it. */
  g_autofree char *kvm_reason = NULL;
  ctx.kvm_available = node_kvm_usable(&kvm_reason);
  ctx.kvm_reason = kvm_reason;
  if (o.group) {
    struct group *gr = getgrnam(o.group);
    if (!gr) {
      char *end;
      long gid = strtol(o.group, &end, 10);
      if (*end || gid < 0) {
        fprintf(stderr, "virtfs: no group named '%s'\n", o.group);
        return 2;
      }
      ctx.owner_gid = (gid_t)gid;
    } else {
      ctx.owner_gid = gr->gr_gid;
    }
    ctx.group_writable = true;
  }
  ctx.state_dir = o.state_dir;
  ctx.run_dir = o.run_dir;
  if (g_mkdir_with_parents(o.run_dir, 0700) < 0) {
    fprintf(stderr, "virtfs: cannot create the run directory %s: %s\n", o.run_dir,
            g_strerror(errno));
    return 1;
  }
  if (check_writable("run", o.run_dir) < 0)
    return 1;

  g_autofree char *error = NULL;
  Store *store = NULL;
  if (store_open(o.state_dir, &store, &error) < 0) {
    fprintf(stderr, "virtfs: %s\n", error);
    return 1;
  }
  if (check_writable("state", o.state_dir) < 0) {
    store_free(store);
    return 1;
  }
  obj_type_register(&domain_obj_type);
  obj_type_register(&network_obj_type);
  obj_type_register(&snapshot_obj_type);
  ctx.registry = registry_new(store, event_bus_new());
  History *history = NULL;
  if (history_open(o.state_dir, (unsigned)o.history_max, &history, &error) < 0) {
    fprintf(stderr, "virtfs: %s\n", error);
    registry_free(ctx.registry);
    return 1;
  }
  registry_set_history(ctx.registry, history);
  int n = registry_load(ctx.registry, OBJ_DOMAIN);
  log_info("loaded %d domains from %s", n, o.state_dir);
  n = registry_load(ctx.registry, OBJ_NETWORK);
  log_info("loaded %d networks", n);

  signal(SIGPIPE, SIG_IGN);

  /* A QEMU whose parent died is reparented to us, not to PID 1, so the
   * daemon can reap QEMU processes it did not start itself. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  g_autoptr(GPtrArray) args = g_ptr_array_new();
  g_ptr_array_add(args, argv[0]);
  g_autofree char *base_opts = g_strdup_printf(
      "fsname=virtfs,subtype=virtfs,default_permissions%s", privileged ? ",allow_other" : "");
  g_ptr_array_add(args, "-o");
  g_ptr_array_add(args, base_opts);
  for (guint i = 0; i < o.fuse_opts->len; i++) {
    g_ptr_array_add(args, "-o");
    g_ptr_array_add(args, o.fuse_opts->pdata[i]);
  }
  if (o.debug)
    g_ptr_array_add(args, "-d");
  struct fuse_args fargs = FUSE_ARGS_INIT((int)args->len, (char **)args->pdata);
  struct fuse_session *se =
      fuse_session_new(&fargs, &fs_operations, sizeof(fs_operations), &ctx);
  if (!se) {
    fprintf(stderr, "virtfs: invalid FUSE options\n");
    return 2;
  }
  ctx.session = se;
  if (fuse_session_mount(se, o.mountpoint) != 0) {
    fprintf(stderr, "virtfs: cannot mount on %s\n", o.mountpoint);
    fuse_session_destroy(se);
    return 1;
  }
  if (fuse_daemonize(o.foreground) != 0) {
    fuse_session_unmount(se);
    fuse_session_destroy(se);
    return 1;
  }
  if (!o.foreground)
    log_use_syslog();
  if (fuse_set_signal_handlers(se) != 0) {
    fuse_session_unmount(se);
    fuse_session_destroy(se);
    return 1;
  }

  /* Threads start only now: fuse_daemonize forks. */
  GMainContext *main_context = g_main_context_new();
  GMainLoop *loop = g_main_loop_new(main_context, FALSE);
  GThread *loop_thread = g_thread_new("virtfs-main", main_loop_thread, loop);
  fs_events_notify_init(&ctx);
  fs_metrics_init(&ctx);
  StorageDriverOptions storage_opts = {.lvm_without_device_mapper = o.lvm_no_dm};
  if (fs_pools_init(&ctx, &storage_opts, &error) < 0)
    log_error("storage pools are not available: %s", error);

  start_networks(&ctx, o.dnsmasq, main_context);

  QemuDriverConfig qcfg = {
    .state_dir = o.state_dir,
    .run_dir = o.run_dir,
    .qemu_binary = VIRTFS_QEMU_BINARY,
    .kvm_available = ctx.kvm_available,
    .kvm_unavailable_reason = ctx.kvm_reason,
    .qmp_timeout_ms = o.qmp_timeout_s * 1000,
    .main_context = main_context,
    .migration_host = o.migration_address,
  };
  fs_domain_hooks_fill(&ctx, &qcfg.hooks);
  g_clear_pointer(&error, g_free);
  if (qemu_driver_new(ctx.registry, &qcfg, &ctx.qemu, &error) < 0) {
    log_error("%s", error);
    fuse_remove_signal_handlers(se);
    fuse_session_unmount(se);
    fuse_session_destroy(se);
    return 1;
  }
  fs_domain_hooks_install_volume_check(&ctx);
  int reattached = qemu_driver_reattach_all(ctx.qemu);
  if (reattached > 0)
    log_info("reattached to %d running domains", reattached);
  n = qemu_snapshot_load_all(ctx.qemu);
  if (n > 0)
    log_info("loaded %d snapshots", n);
  qemu_driver_autostart(ctx.qemu);
  if (!ctx.kvm_available)
    log_info("KVM is not used: %s; new domains default to type 'qemu' (TCG)", ctx.kvm_reason);
  log_info("virtfs %s mounted on %s (state %s, run %s)", VIRTFS_VERSION, o.mountpoint,
           o.state_dir, o.run_dir);

  struct fuse_loop_config *cfg = fuse_loop_cfg_create();
  fuse_loop_cfg_set_clone_fd(cfg, 0);
  fuse_loop_cfg_set_max_threads(cfg, (unsigned)o.max_threads);
  fuse_loop_cfg_set_idle_threads(cfg, 8);
  int res = fuse_session_loop_mt(se, cfg);
  fuse_loop_cfg_destroy(cfg);

  /* The loop returns 0, -errno, or the number of the signal that ended it. */
  if (res > 0)
    log_info("signal %d (%s) received", res, g_strsignal(res));
  else if (res < 0)
    log_error("the FUSE session ended with an error: %s", g_strerror(-res));
  log_info("unmounting %s", o.mountpoint);
  fs_events_notify_shutdown(&ctx);
  fuse_remove_signal_handlers(se);
  fuse_session_unmount(se);
  fuse_session_destroy(se);
  qemu_driver_free(ctx.qemu);
  network_manager_free(ctx.networks);
  fs_pools_shutdown(&ctx);
  g_main_loop_quit(loop);
  g_thread_join(loop_thread);
  g_main_loop_unref(loop);
  g_main_context_unref(main_context);
  fs_node_cleanup(&ctx);
  fs_metrics_cleanup(&ctx);
  fs_files_cleanup(&ctx);
  registry_free(ctx.registry);
  fuse_opt_free_args(&fargs);
  return res >= 0 ? 0 : 1;
}
