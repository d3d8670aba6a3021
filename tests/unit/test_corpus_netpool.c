/* test_corpus_netpool.c — the network and storage corpus made by libvirt
 * itself (tests/corpus/make-net-pool-fixtures.sh): every file of
 * tests/data/corpus-networks and tests/data/corpus-storage must be
 * accepted, its canonical form must be a fixed point, and both what
 * libvirt wrote and what virtfs writes back must validate against
 * libvirt's RelaxNG schemas (network.rng, storagepool.rng, storagevol.rng;
 * package libvirt0, /usr/share/libvirt/schemas, or VIRTFS_LIBVIRT_SCHEMAS).
 * Volumes are read against the pool they were made in (pool-images.xml).
 *
 * Without the schemas the test is skipped (77), unless CI=true, where that
 * fails. Prints the number of fixtures of each kind accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/network_def.h"
#include "objects/pool_def.h"
#include "objects/volume_def.h"

static const char *schema_dir(void) {
  const char *d = g_getenv("VIRTFS_LIBVIRT_SCHEMAS");
  return d ? d : "/usr/share/libvirt/schemas";
}

static char *data_path(const char *sub) {
  const char *root = g_getenv("VIRTFS_TEST_DATA");
  return g_build_filename(root ? root : "tests/data", sub, NULL);
}

static void quiet(void *ctx, const char *msg, ...) {}

/* Parsed schemas by file name, loaded once (parsing one takes longer than
 * validating every fixture). */
static GHashTable *schemas;

static void schema_free(void *p) {
  xmlRelaxNGFree(p);
}

/* NULL when `xml` is valid against SCHEMA_DIR/rng, else the failure. */
static char *validate(const char *rng, const char *xml) {
  if (!schemas)
    schemas = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, schema_free);
  xmlRelaxNGPtr schema = g_hash_table_lookup(schemas, rng);
  g_autofree char *path = g_build_filename(schema_dir(), rng, NULL);
  if (!schema) {
    xmlRelaxNGParserCtxtPtr pctx = xmlRelaxNGNewParserCtxt(path);
    schema = xmlRelaxNGParse(pctx);
    xmlRelaxNGFreeParserCtxt(pctx);
    if (!schema)
      return g_strdup_printf("cannot load %s", path);
    g_hash_table_insert(schemas, g_strdup(rng), schema);
  }
  xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "fixture.xml", NULL, XML_PARSE_NONET);
  char *why = NULL;
  if (!doc) {
    why = g_strdup("not well-formed");
  } else {
    xmlRelaxNGValidCtxtPtr vctx = xmlRelaxNGNewValidCtxt(schema);
    xmlRelaxNGSetValidErrors(vctx, (xmlRelaxNGValidityErrorFunc)quiet,
                             (xmlRelaxNGValidityWarningFunc)quiet, NULL);
    if (xmlRelaxNGValidateDoc(vctx, doc) != 0)
      why = g_strdup_printf("does not validate against %s", rng);
    xmlRelaxNGFreeValidCtxt(vctx);
    xmlFreeDoc(doc);
  }
  return why;
}

/* The fixture files of `sub` starting with `prefix`, sorted. */
static GPtrArray *fixtures(const char *sub, const char *prefix) {
  g_autofree char *dir = data_path(sub);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  assert_non_null(d);
  GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  while ((n = g_dir_read_name(d)))
    if (g_str_has_suffix(n, ".xml") && g_str_has_prefix(n, prefix))
      g_ptr_array_add(files, g_build_filename(dir, n, NULL));
  g_ptr_array_sort(files, (GCompareFunc)g_strcmp0);
  return files;
}

static char *slurp(const char *path) {
  char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    fail_msg("cannot read %s", path);
  return text;
}

static void check_valid(const char *rng, const char *file, const char *what, const char *xml) {
  g_autofree char *why = validate(rng, xml);
  if (why)
    fail_msg("%s: %s %s:\n%s", file, what, why, xml);
}

/* Parses `xml` (for volumes against the pool in ctx) and formats it
 * canonically; fails the test when refused. */
typedef char *(*CanonFn)(const char *file, const char *xml, const void *ctx);

/* Every fixture of sub/prefix*: libvirt's XML valid, accepted, its
 * canonical form a fixed point and valid. Returns how many. */
static unsigned check_corpus(const char *sub, const char *prefix, const char *rng, CanonFn canon,
                             const void *ctx) {
  g_autoptr(GPtrArray) files = fixtures(sub, prefix);
  for (guint i = 0; i < files->len; i++) {
    const char *f = files->pdata[i];
    g_autofree char *xml = slurp(f);
    check_valid(rng, f, "libvirt's XML", xml);
    g_autofree char *once = canon(f, xml, ctx);
    g_autofree char *twice = canon(f, once, ctx);
    assert_string_equal(once, twice);
    check_valid(rng, f, "virtfs's canonical form", once);
  }
  return files->len;
}

static char *network_canon(const char *file, const char *xml, const void *ctx) {
  g_autoptr(NetworkDef) def = NULL;
  g_autofree char *err = NULL;
  if (network_def_parse(xml, strlen(xml), &def, &err) < 0)
    fail_msg("%s: refused: %s", file, err);
  return network_def_format(def);
}

static char *pool_canon(const char *file, const char *xml, const void *ctx) {
  g_autoptr(PoolDef) def = NULL;
  g_autofree char *err = NULL;
  if (pool_def_parse(xml, strlen(xml), &def, &err) < 0)
    fail_msg("%s: refused: %s", file, err);
  /* The live form (with sizes, as an active pool shows) is valid too. */
  PoolSizes sizes = {1, 2, 3};
  g_autofree char *live = pool_def_format(def, &sizes);
  check_valid("storagepool.rng", file, "virtfs's live form", live);
  return pool_def_format(def, NULL);
}

static char *volume_canon(const char *file, const char *xml, const void *ctx) {
  g_autoptr(VolumeDef) def = NULL;
  g_autofree char *err = NULL;
  if (volume_def_parse(xml, strlen(xml), ctx, &def, &err) < 0)
    fail_msg("%s: refused: %s", file, err);
  return volume_def_format(def);
}

static void test_networks(void **state) {
  unsigned n = check_corpus("corpus-networks", "", "network.rng", network_canon, NULL);
  /* The validator does refuse what the schema does not allow. */
  g_autofree char *bogus = validate("network.rng", "<network><name>x</name><bogus/></network>");
  assert_non_null(bogus);
  assert_true(n >= 12);
  print_message("    %u networks from net-dumpxml accepted, fixed, valid\n", n);
}

static void test_pools(void **state) {
  unsigned n = check_corpus("corpus-storage", "pool-", "storagepool.rng", pool_canon, NULL);
  assert_true(n >= 8);
  print_message("    %u pools from pool-dumpxml accepted, fixed, valid\n", n);
}

static void test_volumes(void **state) {
  g_autofree char *path = data_path("corpus-storage/pool-images.xml");
  g_autofree char *xml = slurp(path);
  g_autoptr(PoolDef) pool = NULL;
  g_autofree char *err = NULL;
  if (pool_def_parse(xml, strlen(xml), &pool, &err) < 0)
    fail_msg("pool-images.xml: %s", err);
  unsigned n = check_corpus("corpus-storage", "vol-", "storagevol.rng", volume_canon, pool);
  assert_true(n >= 7);
  print_message("    %u volumes from vol-dumpxml accepted, fixed, valid\n", n);
}

int main(void) {
  g_autofree char *probe = g_build_filename(schema_dir(), "network.rng", NULL);
  if (!g_file_test(probe, G_FILE_TEST_EXISTS)) {
    fprintf(stderr, "libvirt's schemas are not in %s (package libvirt0)\n", schema_dir());
    return g_strcmp0(g_getenv("CI"), "true") == 0 ? 1 : 77;
  }
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_networks),
    cmocka_unit_test(test_pools),
    cmocka_unit_test(test_volumes),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  if (schemas)
    g_hash_table_destroy(schemas);
  xmlCleanupParser();
  return r;
}
