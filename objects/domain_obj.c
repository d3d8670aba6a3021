/* domain_obj.c — the ObjType of domains: how the registry and the store
 * parse, format, copy and name a DomainDef, and what a redefinition keeps. */
#include "objects/domain_obj.h"

static int parse(const char *xml, size_t len, void **ret_def, char **ret_error) {
  DomainDef *def = NULL;
  int r = domain_def_parse(xml, len, &def, ret_error);
  if (r >= 0)
    *ret_def = def;
  return r;
}

static char *format(const void *def) {
  return domain_def_format(def, false, -1);
}

static void *copy(const void *def) {
  return domain_def_copy(def);
}

static void free_def(void *def) {
  domain_def_free(def);
}

static const char *get_name(const void *def) {
  return ((const DomainDef *)def)->name;
}

static void set_name(void *def, const char *name) {
  DomainDef *d = def;
  g_free(d->name);
  d->name = g_strdup(name);
}

static const char *get_uuid(const void *def) {
  return ((const DomainDef *)def)->uuid;
}

static void inherit(void *new_def, const void *old_def) {
  domain_def_inherit_generated(new_def, old_def);
}

const ObjType domain_obj_type = {
  .kind = OBJ_DOMAIN,
  .dir_name = "domains",
  .stored = true,
  .parse = parse,
  .format = format,
  .copy = copy,
  .free = free_def,
  .get_name = get_name,
  .set_name = set_name,
  .get_uuid = get_uuid,
  .inherit = inherit,
};
