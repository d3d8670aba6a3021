/* domain_obj.c — the ObjType of domains: how the registry and the store
 * parse, format, copy and name a DomainDef, and what a redefinition keeps. */
#include "objects/domain_obj.h"

static char *format(const void *def) {
  return domain_def_format(def, false, -1);
}

/* A definition the user wrote (config.xml): keep what the current one
 * generated, and give a q35 machine its spare root ports. */
static void inherit(void *new_def, const void *old_def) {
  domain_def_inherit_generated(new_def, old_def);
  domain_def_add_spare_root_ports(new_def, DOMAIN_SPARE_ROOT_PORTS);
}

OBJ_TYPE_ADAPTERS(domain, DomainDef)

const ObjType domain_obj_type = {
  .kind = OBJ_DOMAIN,
  .dir_name = "domains",
  .stored = true,
  .parse = domain_obj_parse,
  .format = format,
  .copy = domain_obj_copy,
  .free = domain_obj_free,
  .get_name = domain_obj_get_name,
  .set_name = domain_obj_set_name,
  .get_uuid = domain_obj_get_uuid,
  .inherit = inherit,
};
