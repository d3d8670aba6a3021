/* fs_node_files.c — the files of /virt/node/: facts about the host and the
 * hypervisor. The facts are read again at every open (free memory
 * changes); what QEMU says about itself is asked once, on the first read
 * of a node file, and kept for the daemon's life (an upgraded QEMU shows
 * after a restart of the daemon, as with libvirtd). docs/node.md documents
 * each entry of the table at the end. */
#include "config.h"

#include <errno.h>

#include "drivers/qemu/qemu_caps.h"
#include "fs/fs_files.h"
#include "objects/log.h"
#include "objects/node_caps.h"

static gpointer probe_hypervisor(gpointer data) {
  NodeHypervisor *hv = NULL;
  g_autofree char *error = NULL;
  if (qemu_caps_probe(VIRTFS_QEMU_BINARY, &hv, &error) < 0) {
    log_warning("node: no usable hypervisor: %s", error);
    return NULL;
  }
  return hv;
}

const NodeHypervisor *fs_node_hypervisor(FsContext *ctx) {
  return g_once(&ctx->hypervisor_once, probe_hypervisor, ctx);
}

void fs_node_cleanup(FsContext *ctx) {
  if (ctx->hypervisor_once.status == G_ONCE_STATUS_READY)
    node_hypervisor_free(ctx->hypervisor_once.retval);
}

static int read_facts(NodeFacts **ret_facts) {
  g_autofree char *error = NULL;
  int r = node_facts_read(ret_facts, &error);
  if (r < 0)
    log_error("node: %s", error);
  return r;
}

static int version_read(FsContext *ctx, Obj *obj, GString *out) {
  g_string_append_printf(out, "%s\n", VIRTFS_VERSION);
  return 0;
}

static int info_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(NodeFacts) facts = NULL;
  int r = read_facts(&facts);
  if (r < 0)
    return r;
  node_info_format(facts, fs_node_hypervisor(ctx), VIRTFS_VERSION, out);
  return 0;
}

static int capabilities_read(FsContext *ctx, Obj *obj, GString *out) {
  g_autoptr(NodeFacts) facts = NULL;
  int r = read_facts(&facts);
  if (r < 0)
    return r;
  g_autofree char *xml = node_caps_format(facts, fs_node_hypervisor(ctx));
  g_string_append(out, xml);
  return 0;
}

static const FsFile node_files[] = {
  {"version", FS_FILE_VALUE, 0444, version_read, NULL},
  {"info", FS_FILE_VALUE, 0444, info_read, NULL},
  {"capabilities.xml", FS_FILE_DOCUMENT, 0444, capabilities_read, NULL},
  {"domains", FS_FILE_VALUE, 0444, fs_domains_list_read, NULL},
};

const FsFileTable fs_node_files = {node_files, G_N_ELEMENTS(node_files)};
