/* qemu_seed.c — the cloud-init NoCloud seed of a starting domain: the files
 * of STATE/domains/NAME.cloud-init/ (with the default meta-data) go into
 * RUN/domains/UUID/cidata.img, a vfat image labelled CIDATA made by
 * mkfs.vfat and filled by mcopy (no loop mount, no filesystem writer of our
 * own), attached read-only as a virtio disk of the live definition only. */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "drivers/qemu/qemu_driver_priv.h"
#include "objects/cloud_init.h"
#include "objects/registry.h"
#include "objects/store.h"

/* argv[0] as found in PATH, or in the sbin directories a user's PATH may
 * lack (mkfs.vfat lives in /usr/sbin). */
static char *find_tool(const char *name) {
  char *path = g_find_program_in_path(name);
  static const char *const dirs[] = {"/usr/sbin", "/sbin"};
  for (size_t i = 0; !path && i < G_N_ELEMENTS(dirs); i++) {
    g_autofree char *p = g_build_filename(dirs[i], name, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_EXECUTABLE))
      path = g_steal_pointer(&p);
  }
  return path;
}

static int run_tool(GStrv argv, char **ret_error) {
  g_autofree char *tool = find_tool(argv[0]);
  if (!tool) {
    *ret_error = g_strdup_printf("cloud-init seed: %s is not installed (Debian package %s)",
                                 argv[0], strcmp(argv[0], "mcopy") == 0 ? "mtools" : "dosfstools");
    return -EOPNOTSUPP;
  }
  g_free(argv[0]);
  argv[0] = g_steal_pointer(&tool);
  g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "MTOOLS_SKIP_CHECK", "1", TRUE);
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr(GError) gerr = NULL;
  if (!g_spawn_sync(NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &gerr)) {
    *ret_error = g_strdup_printf("cloud-init seed: %s", gerr->message);
    return -EIO;
  }
  if (!g_spawn_check_wait_status(status, NULL)) {
    *ret_error = g_strdup_printf("cloud-init seed: %s failed: %s", argv[0],
                                 g_strstrip(err ? err : out));
    return -EIO;
  }
  return 0;
}

/* Writes the files into `staging`, makes `image` from them and adds the
 * seed disk to the live definition. */
static int build_seed(QemuDomain *dom, char *contents[CLOUD_INIT_N_FILES], const char *name,
                      const char *staging, const char *image, char **ret_error) {
  g_autofree char *iid = cloud_init_instance_id((const char *const *)contents);
  char *meta = cloud_init_meta_data(contents[1], iid, name);
  g_free(contents[1]);
  contents[1] = meta;
  g_mkdir_with_parents(staging, 0700);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  size_t total = 0;
  for (size_t i = 0; i < CLOUD_INIT_N_FILES; i++) {
    if (!contents[i])
      continue;
    char *p = g_build_filename(staging, cloud_init_files[i], NULL);
    g_ptr_array_add(paths, p);
    g_autoptr(GError) gerr = NULL;
    if (!g_file_set_contents(p, contents[i], -1, &gerr)) {
      *ret_error = g_strdup_printf("cloud-init seed: %s", gerr->message);
      return -EIO;
    }
    total += strlen(contents[i]);
  }
  g_ptr_array_add(paths, NULL);
  g_auto(GStrv) mkfs = cloud_init_mkfs_argv(image, cloud_init_seed_size_kib(total));
  g_auto(GStrv) mcopy = cloud_init_mcopy_argv(image, (const char *const *)paths->pdata);
  int r;
  if ((r = run_tool(mkfs, ret_error)) < 0 || (r = run_tool(mcopy, ret_error)) < 0)
    return r;
  g_mutex_lock(&dom->obj->lock);
  DomainDisk *disk = cloud_init_seed_disk(dom->live_def, image);
  if (disk)
    g_ptr_array_add(dom->live_def->disks, disk);
  g_mutex_unlock(&dom->obj->lock);
  if (!disk) {
    *ret_error = g_strdup("cloud-init seed: no free virtio disk name (vda..vdz are all used)");
    return -ENOSPC;
  }
  return 0;
}

int qemu_seed_prepare(QemuDomain *dom, char **ret_error) {
  QemuDriver *d = dom->driver;
  g_autofree char *image = g_build_filename(dom->dir, "cidata.img", NULL);
  g_autofree char *staging = g_build_filename(dom->dir, "cidata", NULL);
  g_unlink(image);
  g_autofree char *name = obj_dup_name(dom->obj);
  char *contents[CLOUD_INIT_N_FILES] = {0};
  int r = 0;
  registry_write_lock(d->registry);
  for (size_t i = 0; i < CLOUD_INIT_N_FILES && r == 0; i++)
    r = store_extra_read(registry_store(d->registry), OBJ_DOMAIN, name, cloud_init_files[i],
                         &contents[i], ret_error);
  registry_write_unlock(d->registry);
  if (r == 0 && cloud_init_has_files((const char *const *)contents))
    r = build_seed(dom, contents, name, staging, image, ret_error);
  for (size_t i = 0; i < CLOUD_INIT_N_FILES; i++) {
    g_autofree char *p = g_build_filename(staging, cloud_init_files[i], NULL);
    g_unlink(p);
    g_free(contents[i]);
  }
  g_rmdir(staging);
  return r;
}
