/* network_obj.c — the ObjType of networks: how the registry and the store
 * parse, format, copy and name a NetworkDef. Their runtime (the live
 * definition, the dnsmasq watch) belongs to drivers/bridge/network_manager.c. */
#include "objects/network_obj.h"

static char *format(const void *def) {
  return network_def_format(def);
}

OBJ_TYPE_ADAPTERS(network, NetworkDef)

const ObjType network_obj_type = {
  .kind = OBJ_NETWORK,
  .dir_name = "networks",
  .stored = true,
  .parse = network_obj_parse,
  .format = format,
  .copy = network_obj_copy,
  .free = network_obj_free,
  .get_name = network_obj_get_name,
  .set_name = network_obj_set_name,
  .get_uuid = network_obj_get_uuid,
};
