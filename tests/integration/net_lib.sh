# net_lib.sh — network namespaces for integration tests; source it after
# lib.sh. Everything a test does to bridges, addresses, nftables and
# dnsmasq happens inside namespaces made here, which are removed at exit.
#
#   netns_create NS            a new namespace with lo up; removed at exit
#   netns_prefix NS            words for DAEMON_PREFIX that run the daemon in
#                              NS: nsenter --net (not `ip netns exec`, which
#                              also makes a private mount namespace, so the
#                              FUSE mount would be invisible to the test)
#   netns_delete NS            stops the daemon (it may run in NS), kills
#                              what is left in NS (dnsmasq outlives the daemon
#                              on purpose) and deletes NS
#   in_netns NS CMD...         runs CMD in NS (for ip, nft, ...)
#   netns_dhcp_client NS BRIDGE CLIENT_NS MAC HOSTNAME
#                              a second namespace CLIENT_NS joined to BRIDGE
#                              of NS by a veth pair whose client end has MAC;
#                              runs busybox udhcpc there until it gets a lease
#                              and sets DHCP_IP to the address (empty on
#                              failure). Do not call it in $(...): the
#                              namespace's removal at exit is registered in
#                              the calling shell.
#
# Names: keep them short and unique per run, e.g. "vfs$$a" (a namespace
# name becomes a file under /run/netns; interface names stay under 16 bytes).
netns_list=()

netns_create() {
  ip netns add "$1" || return 1
  ip -n "$1" link set lo up
  netns_list+=("$1")
  on_exit "netns_delete $1"
}

netns_prefix() { echo "nsenter --net=/run/netns/$1"; }

in_netns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

netns_delete() {
  local ns=$1 pid
  [[ -e "/run/netns/$ns" ]] || return 0
  if [[ -n "$DAEMON_PID" ]] && [[ "$(stat -L -c %i "/proc/$DAEMON_PID/ns/net" 2>/dev/null)" == \
        "$(stat -L -c %i "/run/netns/$ns")" ]]; then
    stop_daemon
  fi
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  ip netns del "$ns"
}

netns_dhcp_client() {
  local ns=$1 bridge=$2 cns=$3 mac=$4 host=$5
  local vb="vb${cns: -6}" vc="vc${cns: -6}"
  netns_create "$cns" || return 1
  ip -n "$ns" link add "$vb" type veth peer name "$vc" netns "$cns" || return 1
  ip -n "$ns" link set "$vb" master "$bridge" up || return 1
  ip -n "$cns" link set "$vc" address "$mac" up || return 1
  local script="$WORK/udhcpc-$cns.sh" out="$WORK/udhcpc-$cns.out"
  printf '#!/bin/sh\n[ "$1" = bound ] && echo "$ip" > %q\nexit 0\n' "$out" > "$script"
  chmod +x "$script"
  # The bridge's ports need a moment to forward (STP): retry for 20 s.
  in_netns "$cns" busybox udhcpc -i "$vc" -n -q -t 20 -T 1 -s "$script" \
    -x "hostname:$host" >/dev/null 2>&1
  DHCP_IP=$(cat "$out" 2>/dev/null)
  [[ -n "$DHCP_IP" ]]
}
