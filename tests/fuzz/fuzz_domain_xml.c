/* fuzz_domain_xml.c — domain_def_parse() on arbitrary bytes. It must never
 * crash, leak or hit undefined behaviour; a refusal must come with a
 * sentence; and whatever it accepts must format to canonical XML that is a
 * fixed point: it parses again to the same text, the live form parses back
 * to the same definition, a copy formats the same, and writing the input
 * again over its own result (with the generated UUID and MACs inherited)
 * changes nothing. */
#include <errno.h>
#include <string.h>

#include "objects/domain_def.h"
#include "objects/xml_util.h"
#include "tests/fuzz/fuzz.h"

/* The first line where `a` and `b` differ, for the report. */
static char *first_difference(const char *a, const char *b) {
  g_auto(GStrv) la = g_strsplit(a, "\n", -1);
  g_auto(GStrv) lb = g_strsplit(b, "\n", -1);
  for (guint i = 0; la[i] || lb[i]; i++)
    if (!la[i] || !lb[i] || strcmp(la[i], lb[i]) != 0)
      return g_strdup_printf("line %u: '%s' versus '%s'", i + 1, la[i] ? la[i] : "(end)",
                             lb[i] ? lb[i] : "(end)");
  return g_strdup("no difference");
}

#define CHECK_SAME(what, a, b)                                                  \
  do {                                                                          \
    if (strcmp((a), (b)) != 0) {                                                \
      g_autofree char *diff_ = first_difference((a), (b));                     \
      FUZZ_CHECK(false, "%s: %s", (what), diff_);                               \
    }                                                                           \
  } while (0)

static DomainDef *parse_own(const char *what, const char *xml) {
  DomainDef *def = NULL;
  g_autofree char *err = NULL;
  int r = domain_def_parse(xml, strlen(xml), &def, &err);
  FUZZ_CHECK(r == 0, "%s does not parse back (%d): %s\n%s", what, r, err, xml);
  return def;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autoptr(DomainDef) def = NULL;
  g_autofree char *err = NULL;
  int r = domain_def_parse((const char *)data, size, &def, &err);
  if (r < 0) {
    FUZZ_CHECK(r == -EINVAL || r == -EFBIG, "unexpected error %d", r);
    FUZZ_CHECK(err && *err, "a refusal (%d) without a sentence", r);
    FUZZ_CHECK(g_utf8_validate(err, -1, NULL) || strlen(err) > 0, "bad sentence");
    return 0;
  }
  FUZZ_CHECK(def && !err, "success with an error sentence: %s", err);

  g_autofree char *xml = domain_def_format(def, false, -1);
  g_autoptr(DomainDef) again = parse_own("the canonical form", xml);
  g_autofree char *xml2 = domain_def_format(again, false, -1);
  CHECK_SAME("format(parse(format(x))) != format(x)", xml, xml2);

  g_autofree char *live = domain_def_format(def, true, 7);
  if (strlen(live) <= XML_MAX_DOCUMENT_SIZE) {
    g_autoptr(DomainDef) from_live = parse_own("the live form", live);
    g_autofree char *xml3 = domain_def_format(from_live, false, -1);
    CHECK_SAME("the live form reads back as another definition", xml, xml3);
    g_autofree char *live3 = domain_def_format(from_live, true, 7);
    CHECK_SAME("the live form is not a fixed point", live, live3);
  }

  g_autoptr(DomainDef) copy = domain_def_copy(def);
  g_autofree char *copy_live = domain_def_format(copy, true, 7);
  CHECK_SAME("a copy formats differently", live, copy_live);

  /* the same document written again over its own result */
  g_autoptr(DomainDef) rewritten = NULL;
  g_autofree char *err2 = NULL;
  r = domain_def_parse((const char *)data, size, &rewritten, &err2);
  FUZZ_CHECK(r == 0, "the same input failed the second time: %s", err2);
  domain_def_inherit_generated(rewritten, def);
  g_autofree char *xml4 = domain_def_format(rewritten, false, -1);
  CHECK_SAME("writing the same document twice changed it", xml, xml4);
  return 0;
}
