/* nl_link.c — bridges, addresses and taps over rtnetlink; see nl_link.h.
 *
 * Link creation and changes are built as raw RTM_NEWLINK messages with
 * libnl's message API, because libnl-route has no setter for the bridge's
 * STP state and forward delay (IFLA_INFO_DATA); queries and addresses use
 * libnl-route objects. Each call gets its own socket whose error callback
 * records the kernel's errno from the ack, so callers see -ERANGE rather
 * than libnl's coarser "NLE_RANGE". */
#include "drivers/bridge/nl_link.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int nl_error_to_errno(int nlerr) {
  switch (nlerr < 0 ? -nlerr : nlerr) {
  case NLE_SUCCESS: return 0;
  case NLE_INTR: return -EINTR;
  case NLE_BAD_SOCK: return -EBADF;
  case NLE_AGAIN: return -EAGAIN;
  case NLE_NOMEM: return -ENOMEM;
  case NLE_EXIST: return -EEXIST;
  case NLE_INVAL: return -EINVAL;
  case NLE_RANGE: return -ERANGE;
  case NLE_MSGSIZE: return -EMSGSIZE;
  case NLE_OPNOTSUPP: return -EOPNOTSUPP;
  case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
  case NLE_OBJ_NOTFOUND: return -ENOENT;
  case NLE_NOATTR: return -ENODATA;
  case NLE_MISSING_ATTR: return -EINVAL;
  case NLE_AF_MISMATCH: return -EAFNOSUPPORT;
  case NLE_SEQ_MISMATCH: return -EILSEQ;
  case NLE_MSG_OVERFLOW: return -EOVERFLOW;
  case NLE_MSG_TRUNC: return -EMSGSIZE;
  case NLE_NOADDR: return -EADDRNOTAVAIL;
  case NLE_SRCRT_NOSUPPORT: return -EOPNOTSUPP;
  case NLE_MSG_TOOSHORT: return -EBADMSG;
  case NLE_MSGTYPE_NOSUPPORT: return -EOPNOTSUPP;
  case NLE_OBJ_MISMATCH: return -EINVAL;
  case NLE_NOCACHE: return -ENOENT;
  case NLE_BUSY: return -EBUSY;
  case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
  case NLE_NOACCESS: return -EACCES;
  case NLE_PERM: return -EPERM;
  case NLE_PKTLOC_FILE: return -ENOENT;
  case NLE_PARSE_ERR: return -EBADMSG;
  case NLE_NODEV: return -ENODEV;
  case NLE_IMMUTABLE: return -EPERM;
  case NLE_DUMP_INTR: return -EINTR;
  case NLE_ATTRSIZE: return -EINVAL;
  default: return -EIO;
  }
}

/* A socket plus the errno of the last kernel error ack it saw. */
typedef struct {
  struct nl_sock *sk;
  int kernel_errno;
} Conn;

static int record_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg) {
  int *store = arg;
  *store = e->error < 0 ? -e->error : e->error;
  return NL_STOP;
}

static int conn_open(Conn *c) {
  *c = (Conn){0};
  c->sk = nl_socket_alloc();
  if (!c->sk)
    return -ENOMEM;
  int r = nl_connect(c->sk, NETLINK_ROUTE);
  if (r < 0) {
    nl_socket_free(c->sk);
    c->sk = NULL;
    return nl_error_to_errno(r);
  }
  nl_socket_modify_err_cb(c->sk, NL_CB_CUSTOM, record_error, &c->kernel_errno);
  return 0;
}

static void conn_close(Conn *c) {
  if (c->sk)
    nl_socket_free(c->sk);
  c->sk = NULL;
}

/* The errno for a libnl return value: the kernel's own when it sent one. */
static int conn_result(Conn *c, int nlerr) {
  if (nlerr >= 0)
    return 0;
  int e = c->kernel_errno;
  c->kernel_errno = 0;
  return e ? -e : nl_error_to_errno(nlerr);
}

static int conn_request(Conn *c, struct nl_msg *msg) {
  c->kernel_errno = 0;
  int r = nl_send_auto(c->sk, msg);
  if (r >= 0)
    r = nl_wait_for_ack(c->sk);
  return conn_result(c, r);
}

static int get_link(Conn *c, const char *name, struct rtnl_link **ret_link) {
  c->kernel_errno = 0;
  int r = rtnl_link_get_kernel(c->sk, 0, name, ret_link);
  r = conn_result(c, r);
  /* The kernel answers an unknown name with ENODEV. */
  return r == -ENOENT ? -ENODEV : r;
}

static int ifindex_of(Conn *c, const char *name, int *ret_ifindex) {
  struct rtnl_link *link = NULL;
  int r = get_link(c, name, &link);
  if (r < 0)
    return r;
  *ret_ifindex = rtnl_link_get_ifindex(link);
  rtnl_link_put(link);
  return 0;
}

static int mac_to_bytes(const char *mac, uint8_t out[6]) {
  char canon[18];
  if (network_mac_parse(mac, canon) < 0)
    return -EINVAL;
  for (int i = 0; i < 6; i++)
    out[i] = (uint8_t)(g_ascii_xdigit_value(canon[i * 3]) << 4 |
                       g_ascii_xdigit_value(canon[i * 3 + 1]));
  return 0;
}

/* What one RTM_NEWLINK changes; unset members are left alone. */
typedef struct {
  const char *kind;        /* create: IFLA_INFO_KIND */
  const NlBridgeOptions *bridge;
  const char *mac;
  unsigned mtu;
  const char *alias;
  int master;              /* -1 = leave, 0 = release, >0 = ifindex */
  int up;                  /* -1 = leave, 0 = down, 1 = up */
} LinkChange;

#define LINK_CHANGE_INIT {.master = -1, .up = -1}

static int link_change(Conn *c, int ifindex, const char *create_name, const LinkChange *ch) {
  int flags = NLM_F_REQUEST | NLM_F_ACK;
  if (create_name)
    flags |= NLM_F_CREATE | NLM_F_EXCL;
  struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, flags);
  if (!msg)
    return -ENOMEM;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
  if (ch->up >= 0) {
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = ch->up ? IFF_UP : 0;
  }
  int r = -EMSGSIZE;
  uint8_t mac[6];
  if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
    goto out;
  if (create_name && nla_put_string(msg, IFLA_IFNAME, create_name) < 0)
    goto out;
  if (ch->mtu && nla_put_u32(msg, IFLA_MTU, ch->mtu) < 0)
    goto out;
  if (ch->mac) {
    if (mac_to_bytes(ch->mac, mac) < 0) {
      r = -EINVAL;
      goto out;
    }
    if (nla_put(msg, IFLA_ADDRESS, 6, mac) < 0)
      goto out;
  }
  if (ch->alias && nla_put_string(msg, IFLA_IFALIAS, ch->alias) < 0)
    goto out;
  if (ch->master >= 0 && nla_put_u32(msg, IFLA_MASTER, (uint32_t)ch->master) < 0)
    goto out;
  if (ch->kind || ch->bridge) {
    struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
    if (!info || nla_put_string(msg, IFLA_INFO_KIND, ch->kind ? ch->kind : "bridge") < 0)
      goto out;
    if (ch->bridge) {
      struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
      unsigned delay = ch->bridge->delay;
      /* The kernel refuses a delay outside 2..30 s while STP is on (and
       * raises it to 2 s when STP starts), so ask for what it will keep. */
      if (ch->bridge->stp && delay < 2)
        delay = 2;
      if (delay > 30)
        delay = 30;
      /* Units of USER_HZ (1/100 s). The kernel applies the delay before the
       * STP state, so turning STP off and a short delay work in one go. */
      if (!data || nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, delay * 100) < 0 ||
          nla_put_u32(msg, IFLA_BR_STP_STATE, ch->bridge->stp ? 1 : 0) < 0)
        goto out;
      nla_nest_end(msg, data);
    }
    nla_nest_end(msg, info);
  }
  r = conn_request(c, msg);
out:
  nlmsg_free(msg);
  return r;
}

static void bridge_change(const NlBridgeOptions *opts, LinkChange *ch) {
  ch->kind = "bridge";
  ch->bridge = opts;
  ch->mtu = opts->mtu;
  ch->mac = opts->mac;
  ch->alias = opts->alias;
}

int nl_bridge_create(const char *name, const NlBridgeOptions *opts) {
  Conn c;
  int r = conn_open(&c);
  if (r < 0)
    return r;
  /* STP may only be set once the bridge exists with its delay, so create a
   * plain bridge first, then configure it. */
  LinkChange create = LINK_CHANGE_INIT;
  create.kind = "bridge";
  int ifindex = 0;
  r = link_change(&c, 0, name, &create);
  if (r >= 0)
    r = ifindex_of(&c, name, &ifindex);
  if (r >= 0) {
    LinkChange ch = LINK_CHANGE_INIT;
    bridge_change(opts, &ch);
    r = link_change(&c, ifindex, NULL, &ch);
    if (r < 0) {
      /* Leave nothing half made. */
      struct rtnl_link *l = rtnl_link_alloc();
      rtnl_link_set_ifindex(l, ifindex);
      rtnl_link_delete(c.sk, l);
      rtnl_link_put(l);
    }
  }
  conn_close(&c);
  return r;
}

int nl_bridge_configure(const char *name, const NlBridgeOptions *opts) {
  Conn c;
  int r = conn_open(&c);
  if (r < 0)
    return r;
  struct rtnl_link *link = NULL;
  r = get_link(&c, name, &link);
  if (r >= 0) {
    const char *type = rtnl_link_get_type(link);
    if (!type || strcmp(type, "bridge") != 0) {
      r = -EMEDIUMTYPE;
    } else {
      LinkChange ch = LINK_CHANGE_INIT;
      bridge_change(opts, &ch);
      r = link_change(&c, rtnl_link_get_ifindex(link), NULL, &ch);
    }
    rtnl_link_put(link);
  }
  conn_close(&c);
  return r;
}

int nl_link_delete(const char *name) {
  Conn c;
  int r = conn_open(&c);
  if (r < 0)
    return r;
  int ifindex = 0;
  r = ifindex_of(&c, name, &ifindex);
  if (r >= 0) {
    struct rtnl_link *l = rtnl_link_alloc();
    rtnl_link_set_ifindex(l, ifindex);
    c.kernel_errno = 0;
    r = conn_result(&c, rtnl_link_delete(c.sk, l));
    rtnl_link_put(l);
  }
  conn_close(&c);
  return r;
}

/* Looks up `name` and applies one change to it. */
static int change_by_name(const char *name, LinkChange *ch, const char *master) {
  Conn c;
  int r = conn_open(&c);
  if (r < 0)
    return r;
  int ifindex = 0;
  r = ifindex_of(&c, name, &ifindex);
  if (r >= 0 && master)
    r = ifindex_of(&c, master, &ch->master);
  if (r >= 0)
    r = link_change(&c, ifindex, NULL, ch);
  conn_close(&c);
  return r;
}

int nl_link_set_up(const char *name, bool up) {
  LinkChange ch = LINK_CHANGE_INIT;
  ch.up = up ? 1 : 0;
  return change_by_name(name, &ch, NULL);
}

int nl_link_set_mac(const char *name, const char *mac) {
  LinkChange ch = LINK_CHANGE_INIT;
  ch.mac = mac;
  return change_by_name(name, &ch, NULL);
}

int nl_link_set_mtu(const char *name, unsigned mtu) {
  LinkChange ch = LINK_CHANGE_INIT;
  ch.mtu = mtu;
  return ch.mtu ? change_by_name(name, &ch, NULL) : -EINVAL;
}

int nl_link_set_master(const char *name, const char *master) {
  LinkChange ch = LINK_CHANGE_INIT;
  ch.master = 0;
  return change_by_name(name, &ch, master);
}

void nl_link_info_clear(NlLinkInfo *info) {
  if (!info)
    return;
  g_clear_pointer(&info->alias, g_free);
}

int nl_link_get(const char *name, NlLinkInfo *ret_info) {
  Conn c;
  int r = conn_open(&c);
  if (r < 0)
    return r;
  struct rtnl_link *link = NULL;
  r = get_link(&c, name, &link);
  conn_close(&c);
  if (r < 0)
    return r;
  NlLinkInfo info = {0};
  info.ifindex = rtnl_link_get_ifindex(link);
  g_strlcpy(info.name, rtnl_link_get_name(link), sizeof(info.name));
  const char *type = rtnl_link_get_type(link);
  g_strlcpy(info.kind, type ? type : "", sizeof(info.kind));
  info.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
  info.mtu = rtnl_link_get_mtu(link);
  struct nl_addr *a = rtnl_link_get_addr(link);
  if (a && nl_addr_get_len(a) == 6) {
    const uint8_t *b = nl_addr_get_binary_addr(a);
    g_snprintf(info.mac, sizeof(info.mac), "%02x:%02x:%02x:%02x:%02x:%02x",
               b[0], b[1], b[2], b[3], b[4], b[5]);
  }
  info.master_ifindex = rtnl_link_get_master(link);
  const char *alias = rtnl_link_get_ifalias(link);
  info.alias = alias && *alias ? g_strdup(alias) : NULL;
  rtnl_link_put(link);
  *ret_info = info;
  return 0;
}

bool nl_link_exists(const char *name) {
  NlLinkInfo info;
  if (nl_link_get(name, &info) < 0)
    return false;
  nl_link_info_clear(&info);
  return true;
}

/* ---- addresses ---- */

static struct nl_addr *to_nl_addr(const NetworkAddr *a, unsigned prefix) {
  struct nl_addr *n = nl_addr_build(a->family, a->bytes, a->family == AF_INET6 ? 16 : 4);
  if (n)
    nl_addr_set_prefixlen(n, (int)prefix);
  return n;
}

static int addr_op(const char *name, const NetworkAddr *addr, unsigned prefix, bool add) {
  Conn c;
  int r = conn_open(&c);
  if (r < 0)
    return r;
  int ifindex = 0;
  r = ifindex_of(&c, name, &ifindex);
  struct rtnl_addr *ra = NULL;
  struct nl_addr *local = NULL, *bcast = NULL;
  if (r < 0)
    goto out;
  ra = rtnl_addr_alloc();
  local = to_nl_addr(addr, prefix);
  if (!ra || !local) {
    r = -ENOMEM;
    goto out;
  }
  rtnl_addr_set_ifindex(ra, ifindex);
  rtnl_addr_set_family(ra, addr->family);
  rtnl_addr_set_local(ra, local);
  rtnl_addr_set_prefixlen(ra, (int)prefix);
  if (add && addr->family == AF_INET) {
    NetworkAddr b = network_addr_broadcast(addr, prefix);
    bcast = to_nl_addr(&b, 32);
    if (bcast)
      rtnl_addr_set_broadcast(ra, bcast);
  }
  if (add && addr->family == AF_INET6)
    rtnl_addr_set_flags(ra, IFA_F_NODAD);
  c.kernel_errno = 0;
  r = conn_result(&c, add ? rtnl_addr_add(c.sk, ra, NLM_F_EXCL) : rtnl_addr_delete(c.sk, ra, 0));
out:
  if (bcast)
    nl_addr_put(bcast);
  if (local)
    nl_addr_put(local);
  if (ra)
    rtnl_addr_put(ra);
  conn_close(&c);
  return r;
}

int nl_addr_add(const char *name, const NetworkAddr *addr, unsigned prefix) {
  return addr_op(name, addr, prefix, true);
}

int nl_addr_del(const char *name, const NetworkAddr *addr, unsigned prefix) {
  return addr_op(name, addr, prefix, false);
}

int nl_addr_list(const char *name, GArray **ret_addrs) {
  Conn c;
  int r = conn_open(&c);
  if (r < 0)
    return r;
  int ifindex = 0;
  struct nl_cache *cache = NULL;
  if (name && (r = ifindex_of(&c, name, &ifindex)) < 0)
    goto out;
  c.kernel_errno = 0;
  if ((r = conn_result(&c, rtnl_addr_alloc_cache(c.sk, &cache))) < 0)
    goto out;
  GArray *list = g_array_new(FALSE, TRUE, sizeof(NlAddr));
  for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
    struct rtnl_addr *ra = (struct rtnl_addr *)o;
    int family = rtnl_addr_get_family(ra);
    if (family != AF_INET && family != AF_INET6)
      continue;
    if (ifindex && rtnl_addr_get_ifindex(ra) != ifindex)
      continue;
    struct nl_addr *local = rtnl_addr_get_local(ra);
    if (!local || nl_addr_get_len(local) != (family == AF_INET ? 4u : 16u))
      continue;
    NlAddr a = {.ifindex = rtnl_addr_get_ifindex(ra), .prefix = (unsigned)rtnl_addr_get_prefixlen(ra)};
    a.addr.family = family;
    memcpy(a.addr.bytes, nl_addr_get_binary_addr(local), nl_addr_get_len(local));
    g_array_append_val(list, a);
  }
  nl_cache_free(cache);
  *ret_addrs = list;
  r = 0;
out:
  conn_close(&c);
  return r;
}

/* ---- taps ---- */

static int tun_open(const char *name, short flags, struct ifreq *ret_ifr, int *ret_fd) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct ifreq ifr = {0};
  ifr.ifr_flags = flags;
  if (name)
    g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  *ret_ifr = ifr;
  *ret_fd = fd;
  return 0;
}

int nl_tap_create(const char *name, bool vnet_hdr, char **ret_name, int *ret_fd) {
  if (name && strlen(name) > NETWORK_IFNAME_MAX)
    return -ENAMETOOLONG;
  /* With an explicit name TUNSETIFF would attach to an existing tap of that
   * name; refuse instead, so two VMs never share one. */
  if (name && nl_link_exists(name))
    return -EEXIST;
  short flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
  struct ifreq ifr;
  int fd = -1;
  int r = tun_open(name ? name : "vnet%d", flags, &ifr, &fd);
  if (r < 0)
    return r;
  if (ioctl(fd, TUNSETPERSIST, 1) < 0) {
    r = -errno;
    close(fd);
    return r;
  }
  *ret_name = g_strndup(ifr.ifr_name, sizeof(ifr.ifr_name));
  *ret_fd = fd;
  return 0;
}

int nl_tap_delete(const char *name) {
  int r = nl_link_delete(name);
  if (r != -EOPNOTSUPP)
    return r;
  /* Kernels that refuse RTM_DELLINK for tun devices: drop persistence, and
   * the device goes with the last fd. */
  struct ifreq ifr;
  int fd = -1;
  r = tun_open(name, IFF_TAP | IFF_NO_PI, &ifr, &fd);
  if (r < 0)
    return r;
  r = ioctl(fd, TUNSETPERSIST, 0) < 0 ? -errno : 0;
  close(fd);
  return r;
}
