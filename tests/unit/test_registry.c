/* test_registry.c — the registry with a real store in a scratch directory:
 * an object that was undefined refuses every later change, so a file
 * handle opened before an rmdir cannot leave anything of it on disk (the
 * race test_concurrency found: `echo 1 > autostart` against `rmdir` left
 * NAME.autostart behind, and the next domain of that name autostarted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "objects/domain_obj.h"
#include "objects/registry.h"

typedef struct {
  char *dir;
  Registry *registry;
} Fixture;

static int setup(void **state) {
  Fixture *f = g_new0(Fixture, 1);
  f->dir = g_dir_make_tmp("virtfs-test-registry-XXXXXX", NULL);
  assert_non_null(f->dir);
  Store *store = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(store_open(f->dir, &store, &error), 0);
  obj_type_register(&domain_obj_type);
  f->registry = registry_new(store, event_bus_new());
  *state = f;
  return 0;
}

static void remove_tree(const char *path) {
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name(dir))) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR))
      remove_tree(child);
    else
      g_unlink(child);
  }
  g_rmdir(path);
}

static int teardown(void **state) {
  Fixture *f = *state;
  registry_free(f->registry);
  remove_tree(f->dir);
  g_free(f->dir);
  g_free(f);
  return 0;
}

static bool stored(Fixture *f, const char *file) {
  g_autofree char *path = g_build_filename(f->dir, "domains", file, NULL);
  return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* Defines domain `name` and returns a reference to it. */
static Obj *define(Fixture *f, const char *name) {
  DomainDef *def = domain_def_new_default(name, false);
  Obj *obj = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(registry_define(f->registry, OBJ_DOMAIN, NULL, (void **)&def, &obj, &error), 0);
  domain_def_free(def);
  return obj;
}

static void test_removed_object_refuses_changes(void **state) {
  Fixture *f = *state;
  g_autoptr(Obj) held = define(f, "x");  /* what an open handle holds */
  assert_true(stored(f, "x.xml"));
  g_autofree char *error = NULL;
  assert_int_equal(registry_undefine(f->registry, held, &error), 0);
  assert_false(stored(f, "x.xml"));

  assert_int_equal(registry_set_autostart(f->registry, held, true, &error), -ENOENT);
  assert_non_null(strstr(error, "removed"));
  g_clear_pointer(&error, g_free);
  assert_false(stored(f, "x.autostart"));

  DomainDef *def = domain_def_new_default("x", false);
  assert_int_equal(registry_update(f->registry, held, (void **)&def, &error), -ENOENT);
  domain_def_free(def);
  g_clear_pointer(&error, g_free);
  assert_false(stored(f, "x.xml"));

  assert_int_equal(registry_rename(f->registry, held, "y", &error), -ENOENT);
  g_clear_pointer(&error, g_free);
  assert_false(stored(f, "y.xml"));

  /* A new domain of the same name starts without autostart. */
  g_autoptr(Obj) again = define(f, "x");
  assert_false(again->autostart);
  assert_false(stored(f, "x.autostart"));
}

static void test_autostart_mark_follows_the_object(void **state) {
  Fixture *f = *state;
  g_autoptr(Obj) obj = define(f, "a");
  g_autofree char *error = NULL;
  assert_int_equal(registry_set_autostart(f->registry, obj, true, &error), 0);
  assert_true(stored(f, "a.autostart"));
  assert_int_equal(registry_rename(f->registry, obj, "b", &error), 0);
  assert_false(stored(f, "a.autostart"));
  assert_true(stored(f, "b.autostart"));
  assert_int_equal(registry_undefine(f->registry, obj, &error), 0);
  assert_false(stored(f, "b.autostart"));
  assert_false(stored(f, "b.xml"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_removed_object_refuses_changes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_autostart_mark_follows_the_object, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
