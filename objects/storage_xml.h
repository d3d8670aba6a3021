/* storage_xml.h — XML pieces shared by pool_xml.c and volume_xml.c (and only
 * them): <permissions> and sizes with units. Implemented in pool_xml.c.
 * Same error convention as xml_util.h. */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

#include "objects/pool_def.h"
#include "objects/xml_util.h"

/* A text-only element: attributes limited to `attrs` (NULL-terminated), no
 * child elements. */
int storage_xml_check_leaf(const xmlNode *node, const char *const *attrs, char **ret_error);

/* <permissions><mode>0711</mode><owner>0</owner><group>0</group></permissions>;
 * fields absent keep their value in *perms. <label> is rejected. */
int storage_xml_parse_permissions(const xmlNode *node, StoragePermissions *perms,
                                  char **ret_error);
/* Writes <permissions> with mode always, owner and group when set. */
void storage_xml_format_permissions(XmlWriter *w, const StoragePermissions *perms);

/* <capacity unit='G'>10</capacity>: the size in bytes (default unit bytes). */
int storage_xml_parse_size(const xmlNode *node, uint64_t *ret_bytes, char **ret_error);
/* <NAME unit='bytes'>N</NAME> */
void storage_xml_format_size(XmlWriter *w, const char *name, uint64_t bytes);
