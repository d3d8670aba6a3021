/* test_domain_xml.c — domain XML ⇄ DomainDef: golden canonical output for
 * every XML file in tests/data/domains, the parse→format fixed point, rejects with
 * the expected sentence, defaults, copies, live-only state, and the UUID and
 * MACs a redefinition inherits.
 *
 * Goldens: NAME.xml → NAME.canonical.xml (and, for names containing "live",
 * NAME.live.canonical.xml formatted with live=true, id=7). To regenerate
 * after an intended change: VIRTFS_UPDATE_GOLDEN=1 meson test -C build
 * test_domain_xml, then review the diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "objects/domain_def.h"

static char *domains_dir(void) {
  const char *root = g_getenv("VIRTFS_TEST_DATA");
  if (!root)
    fail_msg("VIRTFS_TEST_DATA is not set (run through meson test)");
  return g_build_filename(root, "domains", NULL);
}

static bool update_golden(void) {
  return g_strcmp0(g_getenv("VIRTFS_UPDATE_GOLDEN"), "1") == 0;
}

static gint cmp_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in `dir` ending in `suffix` but not in `exclude` (may be NULL). */
static GPtrArray *list_files(const char *dir, const char *suffix, const char *exclude) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (!d)
    fail_msg("cannot open %s", dir);
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (g_str_has_suffix(name, suffix) && !(exclude && g_str_has_suffix(name, exclude)))
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, cmp_names);
  return names;
}

static char *read_file(const char *path) {
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, NULL, &error))
    fail_msg("%s", error->message);
  return g_steal_pointer(&text);
}

static DomainDef *parse_ok(const char *what, const char *xml) {
  DomainDef *def = NULL;
  g_autofree char *err = NULL;
  int r = domain_def_parse(xml, strlen(xml), &def, &err);
  if (r < 0)
    fail_msg("%s: parse failed (%d): %s", what, r, err);
  assert_null(err);
  return def;
}

/* Prints the first differing line, which is what a reader needs. */
static void assert_same_text(const char *what, const char *expected, const char *actual) {
  if (strcmp(expected, actual) == 0)
    return;
  g_auto(GStrv) e = g_strsplit(expected, "\n", -1);
  g_auto(GStrv) a = g_strsplit(actual, "\n", -1);
  for (size_t i = 0;; i++) {
    if (!e[i] || !a[i] || strcmp(e[i], a[i]) != 0) {
      fail_msg("%s: differs at line %zu:\n  expected: %s\n  actual:   %s\n--- actual ---\n%s",
               what, i + 1, e[i] ? e[i] : "<end>", a[i] ? a[i] : "<end>", actual);
    }
  }
}

static void check_golden(const char *dir, const char *golden_name, const char *what,
                         const char *actual) {
  g_autofree char *path = g_build_filename(dir, golden_name, NULL);
  if (update_golden()) {
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents(path, actual, -1, &error))
      fail_msg("%s", error->message);
    return;
  }
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    fail_msg("%s: golden %s is missing; run with VIRTFS_UPDATE_GOLDEN=1", what, golden_name);
  g_autofree char *expected = read_file(path);
  assert_same_text(what, expected, actual);
}

/* format(parse(text)) must be text itself: the fixed point. */
static void assert_fixed_point(const char *what, const char *canonical, bool live) {
  g_autoptr(DomainDef) again = parse_ok(what, canonical);
  g_autofree char *out = domain_def_format(again, live, 7);
  assert_same_text(what, canonical, out);
}

static void test_golden_and_fixed_point(void **state) {
  g_autofree char *dir = domains_dir();
  g_autoptr(GPtrArray) inputs = list_files(dir, ".xml", ".canonical.xml");
  assert_true(inputs->len >= 20);
  for (guint i = 0; i < inputs->len; i++) {
    const char *name = g_ptr_array_index(inputs, i);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *xml = read_file(path);
    g_autoptr(DomainDef) def = parse_ok(name, xml);
    g_autofree char *out = domain_def_format(def, false, -1);
    g_autofree char *stem = g_strndup(name, strlen(name) - 4);
    g_autofree char *golden = g_strconcat(stem, ".canonical.xml", NULL);
    check_golden(dir, golden, name, out);
    assert_true(g_str_has_suffix(out, "</domain>\n"));
    assert_fixed_point(name, out, false);
    if (strstr(name, "live")) {
      g_autofree char *live = domain_def_format(def, true, 7);
      g_autofree char *live_golden = g_strconcat(stem, ".live.canonical.xml", NULL);
      check_golden(dir, live_golden, name, live);
      assert_fixed_point(name, live, true);
    }
  }
}

/* tests/data/corpus: what virt-install and virsh dumpxml wrote is accepted,
 * reaches a fixed point and survives a deep copy (the schema check and the
 * start are in tests/integration/test_corpus.sh). */
static void test_corpus(void **state) {
  const char *root = g_getenv("VIRTFS_TEST_DATA");
  g_autofree char *dir = g_build_filename(root, "corpus", NULL);
  g_autoptr(GPtrArray) inputs = list_files(dir, ".xml", NULL);
  assert_true(inputs->len >= 20);
  for (guint i = 0; i < inputs->len; i++) {
    const char *name = g_ptr_array_index(inputs, i);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *xml = read_file(path);
    g_autoptr(DomainDef) def = parse_ok(name, xml);
    g_autofree char *out = domain_def_format(def, false, -1);
    assert_fixed_point(name, out, false);
    g_autoptr(DomainDef) copy = domain_def_copy(def);
    g_autofree char *copy_out = domain_def_format(copy, false, -1);
    assert_same_text(name, out, copy_out);
    assert_non_null(strstr(out, "<libosinfo:os id="));
  }
}

static void test_rejects(void **state) {
  g_autofree char *root = domains_dir();
  g_autofree char *dir = g_build_filename(root, "reject", NULL);
  g_autoptr(GPtrArray) inputs = list_files(dir, ".xml", NULL);
  assert_true(inputs->len >= 13);
  g_autoptr(GString) failures = g_string_new(NULL);
  for (guint i = 0; i < inputs->len; i++) {
    const char *name = g_ptr_array_index(inputs, i);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *xml = read_file(path);
    g_autofree char *stem = g_strndup(path, strlen(path) - 4);
    g_autofree char *expect_path = g_strconcat(stem, ".expect", NULL);
    g_autofree char *expect = read_file(expect_path);
    g_strchomp(expect);
    DomainDef *def = (DomainDef *)0x1; /* must stay untouched on failure */
    g_autofree char *err = NULL;
    int r = domain_def_parse(xml, strlen(xml), &def, &err);
    if (r >= 0) {
      g_string_append_printf(failures, "%s: accepted but should be rejected\n", name);
      domain_def_free(def);
      continue;
    }
    assert_int_equal(r, -EINVAL);
    assert_ptr_equal(def, (DomainDef *)0x1);
    assert_non_null(err);
    if (!strstr(err, expect))
      g_string_append_printf(failures, "%s: error\n  %s\ndoes not contain\n  %s\n", name, err,
                             expect);
  }
  if (failures->len)
    fail_msg("%s", failures->str);
}

static void test_oversized(void **state) {
  /* valid XML, only too large: the size cap answers before any parsing */
  GString *s = g_string_new("<domain type='qemu'><name>big</name><memory>1024</memory>"
                            "<description>");
  while (s->len <= 1024 * 1024)
    g_string_append(s, "0123456789abcdef");
  g_string_append(s, "</description></domain>");
  DomainDef *def = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(domain_def_parse(s->str, s->len, &def, &err), -EFBIG);
  assert_null(def);
  assert_non_null(strstr(err, "at most 1048576"));
  g_string_free(s, TRUE);
}

/* Defaults written out make the canonical form larger than the input; it
 * is what is stored, so it must fit under the cap too. */
static void test_canonical_oversized(void **state) {
  static const char head[] = "<domain type='qemu'><name>big</name><memory>1024</memory><devices>";
  static const char tail[] = "</devices></domain>";
  g_autoptr(GString) xml = g_string_new(head);
  while (xml->len + 8 + strlen(tail) <= 1024 * 1024)
    g_string_append(xml, "<video/>");
  g_string_append(xml, tail);
  DomainDef *def = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(domain_def_parse(xml->str, xml->len, &def, &err), -EFBIG);
  assert_null(def);
  assert_non_null(strstr(err, "once every default is written out"));
  /* a definition whose canonical form fits is accepted and reads back */
  g_string_truncate(xml, strlen(head) + 8 * 10000);
  g_string_append(xml, tail);
  g_autoptr(DomainDef) ok = parse_ok("10000 videos", xml->str);
  g_autofree char *out = domain_def_format(ok, false, -1);
  assert_fixed_point("10000 videos", out, false);
}

static void test_not_nul_terminated(void **state) {
  const char xml[] = "<domain type='qemu'><name>n</name><memory>1024</memory></domain>GARBAGE";
  g_autoptr(DomainDef) def = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(domain_def_parse(xml, strlen(xml) - strlen("GARBAGE"), &def, &err), 0);
  assert_string_equal(def->name, "n");
}

static void test_default(void **state) {
  for (int kvm = 0; kvm <= 1; kvm++) {
    g_autoptr(DomainDef) def = domain_def_new_default("fresh", kvm);
    assert_string_equal(def->name, "fresh");
    assert_int_equal(def->virt_type, kvm ? DOMAIN_VIRT_KVM : DOMAIN_VIRT_QEMU);
    assert_true(def->memory_kib == 512 * 1024);
    assert_int_equal(def->vcpus, 1);
    assert_int_equal(def->serials->len, 1);
    assert_int_equal(def->consoles->len, 1);
    assert_int_equal(strlen(def->uuid), 36);
    g_autofree char *out = domain_def_format(def, false, -1);
    /* the default is already canonical: parsing its text changes nothing */
    assert_fixed_point("default", out, false);
    assert_non_null(strstr(out, kvm ? "<domain type='kvm'>" : "<domain type='qemu'>"));
    assert_non_null(strstr(out, "<target type='serial' port='0'/>"));
    /* the guest agent's channel, as virt-install adds it */
    assert_non_null(strstr(out, "<channel type='unix'>"));
    assert_non_null(strstr(out, "<target type='virtio' name='org.qemu.guest_agent.0'/>"));
  }
  g_autoptr(DomainDef) a = domain_def_new_default("a", false);
  g_autoptr(DomainDef) b = domain_def_new_default("b", false);
  assert_string_not_equal(a->uuid, b->uuid);
}

static void test_copy(void **state) {
  g_autofree char *dir = domains_dir();
  g_autoptr(GPtrArray) inputs = list_files(dir, ".xml", ".canonical.xml");
  for (guint i = 0; i < inputs->len; i++) {
    const char *name = g_ptr_array_index(inputs, i);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *xml = read_file(path);
    DomainDef *def = parse_ok(name, xml);
    g_autofree char *live = domain_def_format(def, true, 3);
    g_autofree char *persistent = domain_def_format(def, false, -1);
    g_autoptr(DomainDef) copy = domain_def_copy(def);
    domain_def_free(def); /* a deep copy survives its original */
    g_autofree char *copy_live = domain_def_format(copy, true, 3);
    g_autofree char *copy_persistent = domain_def_format(copy, false, -1);
    assert_same_text(name, live, copy_live);
    assert_same_text(name, persistent, copy_persistent);
  }
  g_autoptr(DomainDef) fresh = domain_def_new_default("c", true);
  g_autoptr(DomainDef) copy = domain_def_copy(fresh);
  g_autofree char *x = domain_def_format(fresh, false, -1);
  g_autofree char *y = domain_def_format(copy, false, -1);
  assert_string_equal(x, y);
}

static bool is_uuid(const char *s) {
  return g_regex_match_simple("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                              s, 0, 0);
}

static void test_generated_ids(void **state) {
  GString *xml = g_string_new("<domain type='qemu'><name>gen</name><memory>1024</memory>"
                              "<devices>"
                              "<interface type='user'><mac address='52:54:00:00:00:05'/>"
                              "</interface>");
  for (int i = 0; i < 64; i++)
    g_string_append(xml, "<interface type='user'/>");
  g_string_append(xml, "</devices></domain>");
  g_autoptr(DomainDef) def = parse_ok("generated", xml->str);
  g_string_free(xml, TRUE);
  assert_true(is_uuid(def->uuid));
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  assert_int_equal(def->interfaces->len, 65);
  for (guint i = 0; i < def->interfaces->len; i++) {
    DomainInterface *iface = g_ptr_array_index(def->interfaces, i);
    assert_true(g_regex_match_simple("^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$",
                                     iface->mac, 0, 0));
    assert_true(g_hash_table_add(seen, iface->mac));
  }
  /* generated values are then kept: the output is a fixed point */
  g_autofree char *out = domain_def_format(def, false, -1);
  assert_fixed_point("generated", out, false);

  g_autoptr(DomainDef) other = parse_ok("generated2", "<domain type='qemu'><name>gen</name>"
                                        "<memory>1024</memory></domain>");
  assert_true(is_uuid(other->uuid));
  assert_string_not_equal(other->uuid, def->uuid);
}

static DomainInterface *iface_at(const DomainDef *def, guint i) {
  return g_ptr_array_index(def->interfaces, i);
}

static void test_generated_flags(void **state) {
  g_autoptr(DomainDef) def = parse_ok("flags", "<domain type='qemu'><name>f</name>"
                                      "<memory>1024</memory><devices>"
                                      "<interface type='user'/>"
                                      "<interface type='user'><mac address='52:54:00:00:00:07'/>"
                                      "</interface></devices></domain>");
  assert_true(def->uuid_generated);
  assert_true(iface_at(def, 0)->mac_generated);
  assert_false(iface_at(def, 1)->mac_generated);
  g_autoptr(DomainDef) copy = domain_def_copy(def);
  assert_true(copy->uuid_generated);
  assert_true(iface_at(copy, 0)->mac_generated);
  assert_false(iface_at(copy, 1)->mac_generated);
  /* the flags are never written: the output reads back as given values */
  g_autofree char *out = domain_def_format(def, false, -1);
  g_autoptr(DomainDef) back = parse_ok("flags back", out);
  assert_false(back->uuid_generated);
  assert_false(iface_at(back, 0)->mac_generated);

  g_autoptr(DomainDef) given = parse_ok("given", "<domain type='qemu'><name>g</name>"
                                        "<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>"
                                        "<memory>1024</memory></domain>");
  assert_false(given->uuid_generated);
}

static void test_inherit_generated(void **state) {
  g_autoptr(DomainDef) old = parse_ok("old", "<domain type='qemu'><name>v</name>"
                                      "<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>"
                                      "<memory>1024</memory><devices>"
                                      "<interface type='network'><mac address='52:54:00:00:00:01'/>"
                                      "<source network='default'/></interface>"
                                      "<interface type='user'/>"
                                      "<interface type='bridge'><mac address='52:54:00:00:00:03'/>"
                                      "<source bridge='br0'/></interface>"
                                      "</devices></domain>");
  const char *old_mac1 = iface_at(old, 1)->mac;
  /* the same definition without <uuid> and <mac>, plus a fourth NIC */
  const char *text = "<domain type='qemu'><name>v</name><memory>2048</memory><devices>"
                     "<interface type='network'><source network='default'/></interface>"
                     "<interface type='user'/>"
                     "<interface type='user'/>"
                     "<interface type='user'/>"
                     "</devices></domain>";
  g_autoptr(DomainDef) def = parse_ok("new", text);
  g_autofree char *generated3 = g_strdup(iface_at(def, 3)->mac);
  domain_def_inherit_generated(def, old);
  assert_string_equal(def->uuid, "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
  /* same index, same type: taken, whether old's MAC was written or made */
  assert_string_equal(iface_at(def, 0)->mac, "52:54:00:00:00:01");
  assert_string_equal(iface_at(def, 1)->mac, old_mac1);
  /* index 2 is a bridge in old, user here: not the same NIC */
  assert_string_not_equal(iface_at(def, 2)->mac, "52:54:00:00:00:03");
  /* index 3 has no counterpart */
  assert_string_equal(iface_at(def, 3)->mac, generated3);
  /* flags stay; old is untouched */
  assert_true(def->uuid_generated);
  assert_true(iface_at(def, 0)->mac_generated);
  assert_string_equal(iface_at(old, 0)->mac, "52:54:00:00:00:01");

  /* applying it twice is the same as once, and the result is idempotent:
   * the same text over the result formats to the same document */
  g_autofree char *once = domain_def_format(def, false, -1);
  domain_def_inherit_generated(def, old);
  g_autofree char *twice = domain_def_format(def, false, -1);
  assert_string_equal(once, twice);
  g_autoptr(DomainDef) again = parse_ok("again", text);
  domain_def_inherit_generated(again, def);
  g_autofree char *again_xml = domain_def_format(again, false, -1);
  assert_string_equal(once, again_xml);

  /* written values always win */
  g_autoptr(DomainDef) explicit_def = parse_ok("explicit", "<domain type='qemu'><name>v</name>"
                                               "<uuid>11111111-2222-3333-4444-555555555555</uuid>"
                                               "<memory>1024</memory><devices>"
                                               "<interface type='network'>"
                                               "<mac address='52:54:00:00:00:09'/>"
                                               "<source network='default'/></interface>"
                                               "</devices></domain>");
  domain_def_inherit_generated(explicit_def, old);
  assert_string_equal(explicit_def->uuid, "11111111-2222-3333-4444-555555555555");
  assert_string_equal(iface_at(explicit_def, 0)->mac, "52:54:00:00:00:09");
}

static void test_inherit_no_duplicate_mac(void **state) {
  g_autoptr(DomainDef) old = parse_ok("old", "<domain type='qemu'><name>v</name>"
                                      "<memory>1024</memory><devices>"
                                      "<interface type='user'><mac address='52:54:00:00:00:01'/>"
                                      "</interface></devices></domain>");
  /* the user moved old's MAC to the second NIC: the first keeps its own */
  g_autoptr(DomainDef) def = parse_ok("new", "<domain type='qemu'><name>v</name>"
                                      "<memory>1024</memory><devices>"
                                      "<interface type='user'/>"
                                      "<interface type='user'><mac address='52:54:00:00:00:01'/>"
                                      "</interface></devices></domain>");
  g_autofree char *generated = g_strdup(iface_at(def, 0)->mac);
  domain_def_inherit_generated(def, old);
  assert_string_equal(iface_at(def, 0)->mac, generated);
  assert_string_not_equal(iface_at(def, 0)->mac, iface_at(def, 1)->mac);
  g_autofree char *out = domain_def_format(def, false, -1);
  assert_fixed_point("no duplicate", out, false);

  /* a random MAC that happens to equal an inherited one is drawn again, so
   * the inherited one is never lost and no MAC appears twice */
  g_autoptr(DomainDef) two = parse_ok("two", "<domain type='qemu'><name>v</name>"
                                      "<memory>1024</memory><devices>"
                                      "<interface type='user'/><interface type='user'/>"
                                      "</devices></domain>");
  g_strlcpy(iface_at(two, 1)->mac, "52:54:00:00:00:01", sizeof(iface_at(two, 1)->mac));
  domain_def_inherit_generated(two, old);
  assert_string_equal(iface_at(two, 0)->mac, "52:54:00:00:00:01");
  assert_string_not_equal(iface_at(two, 1)->mac, "52:54:00:00:00:01");
  assert_true(g_str_has_prefix(iface_at(two, 1)->mac, "52:54:00:"));

  /* a builder's definition without a UUID gives none */
  g_autoptr(DomainDef) empty = domain_def_new();
  g_autoptr(DomainDef) fresh = parse_ok("fresh", "<domain type='qemu'><name>v</name>"
                                        "<memory>1024</memory></domain>");
  g_autofree char *uuid = g_strdup(fresh->uuid);
  domain_def_inherit_generated(fresh, empty);
  assert_string_equal(fresh->uuid, uuid);
}

static void test_live_state(void **state) {
  g_autofree char *dir = domains_dir();
  g_autofree char *path = g_build_filename(dir, "15-live-state.xml", NULL);
  g_autofree char *xml = read_file(path);
  g_autoptr(DomainDef) def = parse_ok("live", xml);
  DomainInterface *iface = g_ptr_array_index(def->interfaces, 0);
  assert_string_equal(iface->target_dev, "vnet7");
  DomainChardev *serial = g_ptr_array_index(def->serials, 0);
  assert_string_equal(serial->source_path, "/dev/pts/4");

  g_autofree char *persistent = domain_def_format(def, false, 9);
  assert_null(strstr(persistent, "vnet7"));
  assert_null(strstr(persistent, "/dev/pts/4"));
  assert_null(strstr(persistent, "id='"));
  g_autofree char *live = domain_def_format(def, true, 9);
  assert_non_null(strstr(live, "<domain type='kvm' id='9'>"));
  assert_non_null(strstr(live, "<target dev='vnet7'/>"));
  assert_non_null(strstr(live, "<console type='pty' tty='/dev/pts/4'>"));
  g_autofree char *live_no_id = domain_def_format(def, true, -1);
  assert_non_null(strstr(live_no_id, "<domain type='kvm'>"));

  /* the console alias is written from serials[0]: a pty path the driver
   * learns later shows up on both */
  g_free(serial->source_path);
  serial->source_path = g_strdup("/dev/pts/11");
  g_autofree char *updated = domain_def_format(def, true, 1);
  assert_non_null(strstr(updated, "<console type='pty' tty='/dev/pts/11'>"));
}

static void test_description_round_trip(void **state) {
  g_autoptr(DomainDef) def = domain_def_new_default("desc", false);
  const char *text = "  a & b < c > d \"q\" 'a' ]]> &amp;\n\ttab\r\nend ✓  \n";
  def->description = g_strdup(text);
  def->title = g_strdup("T & <t> 'x'");
  g_autofree char *out = domain_def_format(def, false, -1);
  g_autoptr(DomainDef) back = parse_ok("description", out);
  assert_string_equal(back->description, text);
  assert_string_equal(back->title, "T & <t> 'x'");
  g_autofree char *again = domain_def_format(back, false, -1);
  assert_string_equal(out, again);
}

static void test_enums(void **state) {
  assert_string_equal(domain_virt_type_to_string(DOMAIN_VIRT_KVM), "kvm");
  assert_string_equal(domain_lifecycle_action_to_string(DOMAIN_LIFECYCLE_RENAME_RESTART),
                      "rename-restart");
  assert_string_equal(domain_cpu_mode_to_string(DOMAIN_CPU_MODE_HOST_PASSTHROUGH),
                      "host-passthrough");
  assert_string_equal(controller_type_to_string(CONTROLLER_VIRTIO_SERIAL), "virtio-serial");
  assert_string_equal(video_model_to_string(VIDEO_NONE), "none");
  assert_string_equal(input_bus_to_string(INPUT_BUS_VIRTIO), "virtio");
  assert_string_equal(memballoon_model_to_string(MEMBALLOON_NONE), "none");
  assert_string_equal(device_address_type_to_string(DEVICE_ADDRESS_ISA), "isa");
  assert_null(disk_bus_to_string((DiskBus)99));
  DiskBus bus = DISK_BUS_VIRTIO;
  assert_int_equal(disk_bus_from_string("scsi", &bus), 0);
  assert_int_equal(bus, DISK_BUS_SCSI);
  assert_int_equal(disk_bus_from_string("usb", &bus), -EINVAL);
  assert_int_equal(bus, DISK_BUS_SCSI);
  ChardevType ct;
  assert_int_equal(chardev_type_from_string("unix", &ct), 0);
  assert_int_equal(ct, CHARDEV_UNIX);
}

/* Formatting must stay linear: a domain with many devices formats quickly
 * and the writer does no quadratic work. A loose bound, not a benchmark. */
static void test_format_many_devices(void **state) {
  GString *xml = g_string_new("<domain type='qemu'><name>many</name><memory>1024</memory>"
                              "<devices>");
  for (int i = 0; i < 2000; i++)
    g_string_append_printf(xml, "<disk type='file'><source file='/img/%d.raw'/>"
                           "<target dev='sd%c%c%c' bus='scsi'/></disk>",
                           i, 'a' + i / 676, 'a' + (i / 26) % 26, 'a' + i % 26);
  g_string_append(xml, "</devices></domain>");
  g_autoptr(DomainDef) def = parse_ok("many", xml->str);
  g_string_free(xml, TRUE);
  /* Correctness only: speed is measured in bench/, never asserted here. */
  for (int i = 0; i < 3; i++) {
    g_autofree char *out = domain_def_format(def, false, -1);
    assert_non_null(out);
    assert_non_null(strstr(out, "<target dev='sdbxx' bus='scsi'/>"));
  }
}

/* q35 definitions a user writes get free pcie-root-ports for hot plug;
 * ports with a device behind them do not count; other machines get none. */
static void test_spare_root_ports(void **state) {
  const char *q35 =
      "<domain type='qemu'><name>p</name><memory>65536</memory><os><type machine='q35'>hvm"
      "</type></os><devices>"
      "<controller type='pci' index='0' model='pcie-root'/>"
      "<controller type='pci' index='1' model='pcie-root-port'/>"
      "<controller type='pci' index='2' model='pcie-root-port'/>"
      "<disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/>"
      "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></disk>"
      "</devices></domain>";
  DomainDef *def = parse_ok("q35", q35);
  assert_int_equal(domain_def_add_spare_root_ports(def, 4), 3); /* port 2 is free */
  unsigned ports = 0, max = 0;
  for (guint i = 0; i < def->controllers->len; i++) {
    const DomainController *c = def->controllers->pdata[i];
    if (c->type == CONTROLLER_PCI && g_strcmp0(c->model, "pcie-root-port") == 0) {
      ports++;
      max = MAX(max, c->index);
    }
  }
  assert_int_equal(ports, 5);
  assert_int_equal(max, 5); /* the lowest free indexes: 3, 4, 5 */
  assert_int_equal(domain_def_add_spare_root_ports(def, 4), 0); /* a fixed point */
  g_autofree char *xml = domain_def_format(def, false, -1);
  DomainDef *again = parse_ok("q35 again", xml);
  assert_int_equal(domain_def_add_spare_root_ports(again, 4), 0);
  domain_def_free(again);
  domain_def_free(def);
  DomainDef *pc = parse_ok("pc", "<domain type='qemu'><name>p</name><memory>65536</memory>"
                                 "<os><type machine='pc'>hvm</type></os></domain>");
  assert_int_equal(domain_def_add_spare_root_ports(pc, 4), 0);
  domain_def_free(pc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_golden_and_fixed_point),
    cmocka_unit_test(test_corpus),
    cmocka_unit_test(test_rejects),
    cmocka_unit_test(test_spare_root_ports),
    cmocka_unit_test(test_oversized),
    cmocka_unit_test(test_canonical_oversized),
    cmocka_unit_test(test_not_nul_terminated),
    cmocka_unit_test(test_default),
    cmocka_unit_test(test_copy),
    cmocka_unit_test(test_generated_ids),
    cmocka_unit_test(test_generated_flags),
    cmocka_unit_test(test_inherit_generated),
    cmocka_unit_test(test_inherit_no_duplicate_mac),
    cmocka_unit_test(test_live_state),
    cmocka_unit_test(test_description_round_trip),
    cmocka_unit_test(test_enums),
    cmocka_unit_test(test_format_many_devices),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
