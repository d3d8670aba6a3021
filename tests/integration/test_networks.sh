#!/usr/bin/env bash
# Virtual networks as files (issue 4), through the real mount, with the
# daemon running inside a network namespace made for this test: every
# forward mode started and stopped and checked with ip, nft and /proc;
# conflicts; dnsmasq brought back after kill -9; the daemon killed -9 and
# restarted without duplicating anything; autostart; the default network.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"
need_root
need_cmd ip nft nsenter jq pgrep tc busybox xmllint
[[ -x /usr/sbin/dnsmasq ]] || command -v dnsmasq >/dev/null || skip "needs dnsmasq"

NS="vfs$$n"
netns_create "$NS" || { echo "cannot create a network namespace"; exit 1; }
DAEMON_PREFIX=$(netns_prefix "$NS")
start_daemon || exit 1
N="$MNT/networks"
EV="$WORK/events"
cat "$MNT/events" > "$EV" 2>/dev/null &
EV_PID=$!
on_exit "kill $EV_PID"

# ---- helpers (all looking inside the namespace)

# has_addr BRIDGE ADDR PREFIX
has_addr() {
  in_netns "$NS" ip -j addr show dev "$1" 2>/dev/null |
    jq -e --arg a "$2" --argjson p "$3" \
      '[.[].addr_info[] | select(.local == $a and .prefixlen == $p)] | length == 1' >/dev/null
}
link_exists() { ip -n "$NS" link show "$1" >/dev/null 2>&1; }
# chain_count CHAIN: how many chains of that name table inet virtfs holds
chain_count() {
  in_netns "$NS" nft -j list table inet virtfs 2>/dev/null |
    jq --arg c "$1" '[.nftables[] | select(.chain.name? == $c)] | length' 2>/dev/null || echo 0
}
rule_count() {
  in_netns "$NS" nft -j list table inet virtfs 2>/dev/null |
    jq --arg c "$1" '[.nftables[] | select(.rule.chain? == $c)] | length' 2>/dev/null || echo 0
}
dnsmasq_pids() { pgrep -f -- "--conf-file=$RUN/networks/$1/dnsmasq.conf" | sort; }
bridge_count() { in_netns "$NS" ip -j link show type bridge | jq --arg b "$1" '[.[] | select(.ifname == $b)] | length'; }
ns_inode=$(stat -L -c %i "/run/netns/$NS")
in_our_ns() { [[ "$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null)" == "$ns_inode" ]]; }
wait_for() { # SECONDS COMMAND...: polls until the command succeeds
  local t=$1 i; shift
  for ((i = 0; i < t * 10; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}

# net_xml NAME MODE [OCTET]: a network in MODE with 10.77.OCTET.1/24 and a
# DHCP range .10-.20 (MODE none: isolated, no <forward>).
net_xml() {
  local name=$1 mode=$2 o=${3:-1} fwd=""
  [[ $mode != none ]] && fwd="<forward mode='$mode'/>"
  cat <<XML
<network>
  <name>$name</name>
  $fwd
  <ip address='10.77.$o.1' prefix='24'>
    <dhcp><range start='10.77.$o.10' end='10.77.$o.20'/></dhcp>
  </ip>
</network>
XML
}
define() { # NAME MODE OCTET
  mkdir "$N/$1" && net_xml "$@" > "$WORK/$1.xml" && cp "$WORK/$1.xml" "$N/$1/config.xml"
}

# ---- the default network and mkdir

check "the default network is defined at first start" test -d "$N/default"
check_eq "the default network is not started" "inactive" "$(cat "$N/default/state")"
def_xml=$(cat "$N/default/config.xml")
check_contains "default is a NAT network" "<forward mode='nat'" "$def_xml"
check_contains "default is 192.168.122.1/24" "192.168.122.1" "$def_xml"
check "the default network is stored" test -f "$STATE/networks/default.xml"
check "its creation is remembered" test -f "$STATE/networks/.default-created"
ls_out=$(ls "$N/default")
for f in config.xml state ctl autostart uuid bridge leases error; do
  check_contains "ls shows $f" "$f" "$ls_out"
done

check "mkdir defines a network" mkdir "$N/iso"
iso_xml=$(cat "$N/iso/config.xml")
check_contains "mkdir gives an isolated network" "<bridge name='virbr-iso'" "$iso_xml"
check_eq "no forwarding by default" "" "$(grep '<forward' <<<"$iso_xml")"
check_eq "the bridge file names the bridge" "virbr-iso" "$(cat "$N/iso/bridge")"
check "uuid holds a UUID" grep -Eq '^[0-9a-f-]{36}$' "$N/iso/uuid"
check_eq "ctl lists its verbs" "start stop" "$(cat "$N/iso/ctl" | tr '\n' ' ' | sed 's/ $//')"
check_eq "leases of an inactive network are empty" "" "$(cat "$N/iso/leases")"
check "an empty network starts" sh -c "echo active > '$N/iso/state'"
check "its bridge is up" link_exists virbr-iso
check_eq "no dnsmasq for a network without addresses" "" "$(dnsmasq_pids iso)"
check "and stops" sh -c "echo inactive > '$N/iso/state'"
check "rmdir undefines an inactive network" rmdir "$N/iso"
check "its stored file is gone" test ! -e "$STATE/networks/iso.xml"

# ---- every forward mode: start, check, idempotence, stop

octet=1
for mode in nat route open none; do
  name="n-$mode"; br="virbr-$name"
  check "define a $mode network" define "$name" "$mode" "$octet"
  check "start the $mode network" sh -c "echo active > '$N/$name/state'"
  check_eq "$mode: state reads active" "active" "$(cat "$N/$name/state")"
  check_eq "$mode: bridge file" "$br" "$(cat "$N/$name/bridge")"
  check "$mode: the bridge has 10.77.$octet.1/24" has_addr "$br" "10.77.$octet.1" 24
  check_contains "$mode: the bridge is up" "UP" "$(ip -n "$NS" -br link show "$br")"
  alias=$(in_netns "$NS" ip -j -d link show "$br" | jq -r '.[0].ifalias // ""')
  check_eq "$mode: the bridge is marked as ours" "virtfs-network $(cat "$N/$name/uuid")" "$alias"
  check_eq "$mode: one forward chain" "1" "$(chain_count "net-$br-fwd")"
  if [[ $mode == nat ]]; then
    check_eq "nat: one nat chain" "1" "$(chain_count "net-$br-nat")"
    check_contains "nat: masquerade rule" "masquerade" \
      "$(in_netns "$NS" nft list chain inet virtfs "net-$br-nat")"
  else
    check_eq "$mode: no nat chain" "0" "$(chain_count "net-$br-nat")"
  fi
  pids=$(dnsmasq_pids "$name")
  check_eq "$mode: one dnsmasq" "1" "$(wc -w <<<"$pids")"
  check "$mode: dnsmasq runs in the test's namespace" in_our_ns "$pids"
  check "$mode: dnsmasq serves the range" grep -qx "dhcp-range=10.77.$octet.10,10.77.$octet.20,255.255.255.0" \
    "$RUN/networks/$name/dnsmasq.conf"
  rules=$(rule_count "net-$br-fwd")
  check "$mode: active again is a no-op" sh -c "echo active > '$N/$name/state'"
  check_eq "$mode: still one dnsmasq, the same" "$pids" "$(dnsmasq_pids "$name")"
  check_eq "$mode: no rule added twice" "$rules" "$(rule_count "net-$br-fwd")"
  check_fails "$mode: ctl start while active is EBUSY" sh -c "echo start > '$N/$name/ctl'"
  check_contains "$mode: the error says why" "active already" "$(cat "$N/$name/error")"
  check_fails "$mode: rmdir while active is EBUSY" rmdir "$N/$name"
  check_fails "$mode: rename while active is EBUSY" mv "$N/$name" "$N/$name-x"
  check "$mode: stop through ctl" sh -c "echo stop > '$N/$name/ctl'"
  check_eq "$mode: state reads inactive" "inactive" "$(cat "$N/$name/state")"
  check "$mode: the bridge is gone" sh -c "! ip -n '$NS' link show '$br' 2>/dev/null"
  check_eq "$mode: the chains are gone" "0" "$(( $(chain_count "net-$br-fwd") + $(chain_count "net-$br-nat") ))"
  check_eq "$mode: dnsmasq is gone" "" "$(dnsmasq_pids "$name")"
  check "$mode: inactive again is a no-op" sh -c "echo inactive > '$N/$name/state'"
  check "$mode: start through ctl" sh -c "echo start > '$N/$name/ctl'"
  check "$mode: stop through state" sh -c "echo inactive > '$N/$name/state'"
  octet=$((octet + 1))
done

# bridge mode: a host bridge of the namespace, no rules, no dnsmasq
mkdir "$N/n-host"
cat > "$WORK/host.xml" <<XML
<network>
  <name>n-host</name>
  <forward mode='bridge'/>
  <bridge name='brhost'/>
</network>
XML
check "define a bridge-mode network" cp "$WORK/host.xml" "$N/n-host/config.xml"
err=$(stderr_of bash -c "echo active > '$N/n-host/state'")
check_contains "bridge mode without the host bridge fails" "No such device" "$err"
check_contains "the error names the bridge" "brhost does not exist" "$(cat "$N/n-host/error")"
ip -n "$NS" link add brhost type bridge
check "bridge mode starts on an existing bridge" sh -c "echo active > '$N/n-host/state'"
check_eq "bridge mode: the bridge file" "brhost" "$(cat "$N/n-host/bridge")"
check_eq "bridge mode: no rules" "0" "$(chain_count net-brhost-fwd)"
check "bridge mode stops" sh -c "echo inactive > '$N/n-host/state'"
check "bridge mode leaves the host's bridge alone" link_exists brhost

# ---- issue 11: what libvirt users have (several <ip>, IPv6 NAT, DNS
# options, MTU, bandwidth, port groups) on a real bridge
mkdir "$N/multi"
cat > "$WORK/multi.xml" <<'XML'
<network ipv6='yes'>
  <name>multi</name>
  <forward mode='nat'>
    <nat ipv6='yes'>
      <address start='198.51.100.10' end='198.51.100.20'/>
      <port start='20000' end='30000'/>
    </nat>
  </forward>
  <bridge name='vbmulti'/>
  <mtu size='1400'/>
  <domain name='multi.test' localOnly='yes'/>
  <dns forwardPlainNames='no'>
    <txt name='info.multi.test' value='virtfs, txt'/>
    <srv service='ldap' protocol='tcp' domain='multi.test' target='ldap.multi.test' port='389' priority='1' weight='2'/>
  </dns>
  <bandwidth>
    <inbound average='1000' peak='2000' burst='256'/>
    <outbound average='500'/>
  </bandwidth>
  <ip address='10.81.0.1' netmask='255.255.255.0'>
    <dhcp><range start='10.81.0.100' end='10.81.0.150'/></dhcp>
  </ip>
  <ip address='10.82.0.1' prefix='24'>
    <dhcp><range start='10.82.0.100' end='10.82.0.150'/></dhcp>
  </ip>
  <ip family='ipv6' address='fd81::1' prefix='64'>
    <dhcp><range start='fd81::100' end='fd81::1ff'/></dhcp>
  </ip>
  <ip family='ipv6' address='fd82::1' prefix='64'/>
  <portgroup name='eng' default='yes'>
    <bandwidth><inbound average='800'/></bandwidth>
  </portgroup>
  <portgroup name='fast'>
    <bandwidth><inbound average='1000'/></bandwidth>
  </portgroup>
</network>
XML
check "define a network with four <ip>" cp "$WORK/multi.xml" "$N/multi/config.xml"
cat "$N/multi/config.xml" > "$WORK/multi.canon.xml"
check "its canonical form writes back" cp "$WORK/multi.canon.xml" "$N/multi/config.xml"
check_eq "and is a fixed point" "$(cat "$WORK/multi.canon.xml")" "$(cat "$N/multi/config.xml")"
check_contains "the port group is kept" "<portgroup name='eng' default='yes'>" "$(cat "$N/multi/config.xml")"
check "start it" sh -c "echo active > '$N/multi/state'"
for a in 10.81.0.1/24 10.82.0.1/24 fd81::1/64 fd82::1/64; do
  check "multi: the bridge has $a" has_addr vbmulti "${a%/*}" "${a#*/}"
done
check_eq "multi: MTU 1400" "1400" "$(in_netns "$NS" ip -j link show vbmulti | jq '.[0].mtu')"
check_eq "multi: IPv6 on the bridge" "0" "$(in_netns "$NS" cat /proc/sys/net/ipv6/conf/vbmulti/disable_ipv6)"
conf="$RUN/networks/multi/dnsmasq.conf"
for line in dhcp-range=10.81.0.100,10.81.0.150,255.255.255.0 \
            dhcp-range=10.82.0.100,10.82.0.150,255.255.255.0 \
            dhcp-range=fd81::100,fd81::1ff,64 dhcp-range=fd82::,ra-only,64 enable-ra \
            domain-needed local=// local=/multi.test/ 'txt-record=info.multi.test,"virtfs, txt"' \
            srv-host=_ldap._tcp.multi.test,ldap.multi.test,389,1,2; do
  check "multi: dnsmasq.conf has $line" grep -qxF -- "$line" "$conf"
done
log="$RUN/networks/multi/dnsmasq.log"
check "multi: dnsmasq serves the first IPv4 range" grep -q "DHCP, IP range 10.81.0.100 -- 10.81.0.150" "$log"
check "multi: dnsmasq serves the second IPv4 range" grep -q "DHCP, IP range 10.82.0.100 -- 10.82.0.150" "$log"
check "multi: dnsmasq serves DHCPv6" grep -q "DHCPv6, IP range fd81::100 -- fd81::1ff" "$log"
check "multi: dnsmasq advertises the RA-only prefix" grep -q "router advertisement on fd82::" "$log"
nat=$(in_netns "$NS" nft -j list chain inet virtfs net-vbmulti-nat)
check_eq "multi: IPv6 masquerade for both IPv6 subnets" "2" \
  "$(jq '[.nftables[].rule? | select(.) | select(any(.expr[]; has("masquerade"))) | select(any(.expr[]; .match?.left.payload.protocol? == "ip6"))] | length' <<<"$nat")"
check_contains "multi: SNAT to the <nat> addresses and ports" "snat ip to 198.51.100.10-198.51.100.20:20000-30000" \
  "$(in_netns "$NS" nft list chain inet virtfs net-vbmulti-nat)"
check_eq "multi: outbound bandwidth polices the bridge's ingress at 500 kB/s" "500000 bytes 500000" \
  "$(in_netns "$NS" nft -j list chain inet virtfs bw-vbmulti | jq -r '.nftables[].rule? | select(.) | .expr[] | .limit? | select(.) | "\(.rate) \(.rate_unit) \(.burst)"')"
check_eq "multi: inbound bandwidth is an HTB root qdisc" "htb" \
  "$(in_netns "$NS" tc -j qdisc show dev vbmulti | jq -r '.[] | select(.root == true) | .kind')"
check_contains "multi: its class has rate, ceil and burst" "rate 8Mbit ceil 16Mbit burst 256Kb" \
  "$(in_netns "$NS" tc class show dev vbmulti)"
netns_dhcp_client "$NS" vbmulti "vfs$$m" 52:54:00:81:00:99 mclient
check "multi: a DHCP client on the bridge gets a lease from a served range" \
  grep -Eq '^10\.8[12]\.0\.1([0-4][0-9]|50)$' <<<"$DHCP_IP"
mcns="vfs$$m"
ip -n "$mcns" addr add "$DHCP_IP/24" dev "vc${mcns: -6}"
check_eq "multi: dnsmasq answers the TXT record" "yes" \
  "$(in_netns "$mcns" busybox nslookup -type=txt info.multi.test "${DHCP_IP%.*}.1" 2>/dev/null | grep -q 'virtfs, txt' && echo yes)"
# DHCPv6 from the IPv6 range, to a real client (ISC dhclient -6) on the
# bridge: it needs its link-local address first (duplicate detection).
if command -v dhclient >/dev/null; then
  vc="vc${mcns: -6}" dh6_out="$WORK/dh6.out"
  printf '#!/bin/sh\n[ -n "$new_ip6_address" ] && echo "$new_ip6_address" > %q\nexit 0\n' "$dh6_out" > "$WORK/dh6.sh"
  chmod +x "$WORK/dh6.sh"
  for i in $(seq 50); do
    in_netns "$mcns" ip -6 addr show dev "$vc" scope link | grep -q 'inet6' &&
      ! in_netns "$mcns" ip -6 addr show dev "$vc" | grep -q tentative && break
    sleep 0.2
  done
  in_netns "$mcns" timeout 40 dhclient -6 -d -1 -sf "$WORK/dh6.sh" -lf "$WORK/dh6.leases" \
    -pf "$WORK/dh6.pid" "$vc" >"$WORK/dh6.log" 2>&1 &
  dh6_pid=$!
  for i in $(seq 200); do [[ -s $dh6_out ]] && break; sleep 0.2; done
  kill "$dh6_pid" 2>/dev/null; wait "$dh6_pid" 2>/dev/null
  check "multi: a DHCPv6 client on the bridge gets an address from the IPv6 range" \
    grep -Eq '^fd81::1[0-9a-f][0-9a-f]$' "$dh6_out"
  dh6_ip=$(cat "$dh6_out" 2>/dev/null)
  check "multi: leases shows the DHCPv6 lease" \
    bash -c "for i in \$(seq 50); do grep -q -- '${dh6_ip:-none}' '$N/multi/leases' && exit 0; sleep 0.2; done; exit 1"
elif [[ "${CI:-}" == "true" ]]; then
  fail "multi: no dhclient under CI (scripts/install-deps.sh --test installs it)"
else
  echo "# no dhclient: the DHCPv6 client check is left out"
fi
# Interfaces in port groups: <source portgroup='fast'> gets that group's
# bandwidth on its tap, an interface naming none the default group's.
D="$MNT/domains"
cat > "$WORK/pgvm.xml" <<XML
<domain type='qemu'>
  <name>pgvm</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <interface type='network'><mac address='52:54:00:81:01:01'/>
      <source network='multi' portgroup='fast'/><model type='virtio'/></interface>
    <interface type='network'><mac address='52:54:00:81:01:02'/>
      <source network='multi'/><model type='virtio'/></interface>
  </devices>
</domain>
XML
if mkdir "$D/pgvm" && cp "$WORK/pgvm.xml" "$D/pgvm/config.xml"; then
  pass "a domain with an interface in portgroup 'fast' is defined"
  check_contains "the portgroup is kept" "portgroup='fast'" "$(cat "$D/pgvm/config.xml")"
  check "it starts" sh -c "echo paused > '$D/pgvm/state'"
  taps=($(grep -o "<target dev='[^']*'" "$D/pgvm/live.xml" | cut -d"'" -f2))
  check_contains "its tap in 'fast' is shaped to 1000 kB/s" "rate 8Mbit ceil 8Mbit" \
    "$(in_netns "$NS" tc class show dev "${taps[0]}")"
  check_contains "its tap in the default group 'eng' to 800 kB/s" "rate 6400Kbit" \
    "$(in_netns "$NS" tc class show dev "${taps[1]}")"
  echo destroy > "$D/pgvm/ctl"; wait_state pgvm shutoff 30
  sed -i "s/portgroup='fast'/portgroup='nope'/" "$WORK/pgvm.xml"
  cp "$WORK/pgvm.xml" "$D/pgvm/config.xml"
  check_fails "a portgroup the network lacks fails the start" sh -c "echo running > '$D/pgvm/state'"
  check_contains "with the reason" "the network 'multi' has no portgroup 'nope'" "$(cat "$D/pgvm/error")"
else
  fail "a domain with an interface in portgroup 'fast' is defined: $(cat "$D/pgvm/error")"
fi
echo destroy > "$D/pgvm/ctl" 2>/dev/null
rm -r "$D/pgvm"
check "stop multi" sh -c "echo inactive > '$N/multi/state'"
check_eq "multi: the policing chain is gone" "0" "$(chain_count bw-vbmulti)"

# ipv6='yes' without an IPv6 address, against an isolated network without it
mkdir "$N/iso6" "$N/iso4"
printf "<network ipv6='yes'><name>iso6</name><bridge name='vbiso6'/></network>\n" > "$N/iso6/config.xml"
printf "<network><name>iso4</name><bridge name='vbiso4'/><ip address='10.83.0.1' prefix='24'/></network>\n" > "$N/iso4/config.xml"
check "start iso6 and iso4" sh -c "echo active > '$N/iso6/state' && echo active > '$N/iso4/state'"
check_eq "ipv6='yes': IPv6 is on on the bridge" "0" "$(in_netns "$NS" cat /proc/sys/net/ipv6/conf/vbiso6/disable_ipv6)"
check_eq "no IPv6 <ip> and no ipv6='yes': IPv6 is off" "1" "$(in_netns "$NS" cat /proc/sys/net/ipv6/conf/vbiso4/disable_ipv6)"
check "stop and remove them" sh -c "echo inactive > '$N/iso6/state' && echo inactive > '$N/iso4/state' && rmdir '$N/iso6' '$N/iso4'"
check "remove multi" rmdir "$N/multi"

# ---- the corpus libvirt wrote (tests/corpus/make-net-pool-fixtures.sh):
# each network defined through the mount, read back, written back to a
# fixed point, and what virtfs gives back valid for libvirt's schema
RNG=/usr/share/libvirt/schemas/network.rng
accepted=0 total=0
for f in "$VIRTFS_SOURCE_ROOT"/tests/data/corpus-networks/*.xml; do
  total=$((total + 1))
  name=$(sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$f" | head -1)
  if why=$(corpus_define "$N" "$f" "$name" "$RNG"); then
    accepted=$((accepted + 1))
  else
    fail "corpus: network $name: $why"
  fi
done
check_eq "corpus: every network from net-dumpxml accepted, fixed, valid ($accepted of $total)" \
  "$total" "$accepted"

# ---- bad values and conflicts

check_fails "a bogus state is EINVAL" sh -c "echo up > '$N/n-nat/state'"
check_contains "the error lists the states" "active or inactive" "$(cat "$N/n-nat/error")"
err=$(stderr_of bash -c "echo frobnicate > '$N/n-nat/ctl'")
check_contains "an unknown verb fails in write()" "Invalid argument" "$err"
check_fails "a verb with arguments it does not take is EINVAL" sh -c "echo 'start now' > '$N/n-nat/ctl'"
check_fails "bridge is read-only" sh -c "echo br9 > '$N/n-nat/bridge'"
check_fails "leases is read-only" sh -c "echo x > '$N/n-nat/leases'"
check "a valid write after the refused ones" sh -c "echo inactive > '$N/n-nat/state'"
check_eq "clears the network's stale error" "" "$(cat "$N/n-nat/error")"
sh -c "echo up > '$N/n-nat/state'" 2>/dev/null
check "': > error' clears a network's error" sh -c ": > '$N/n-nat/error' && [ ! -s '$N/n-nat/error' ]"
info=$(cat "$N/n-nat/info")
check_contains "info of an inactive network" "state: inactive" "$info"
check_contains "info names the forward mode" "forward: nat" "$info"
check_contains "info has no leases while inactive" "leases: 0" "$info"

mkdir "$N/clash"
net_xml clash nat 1 | sed "s|prefix='24'|prefix='16'|; s|10.77.1.1'|10.77.200.1'|" > "$WORK/clash.xml"
check "define a network whose subnet overlaps n-nat's" cp "$WORK/clash.xml" "$N/clash/config.xml"
check "start n-nat" sh -c "echo active > '$N/n-nat/state'"
err=$(stderr_of bash -c "echo active > '$N/clash/state'")
check_contains "the overlapping network is refused" "Address already in use" "$err"
check_contains "the error names both networks and subnets" \
  "network 'clash' cannot start while network 'n-nat' is active" "$(cat "$N/clash/error")"
check_contains "the error says what overlaps" "overlaps" "$(cat "$N/clash/error")"
check_eq "the refused network is inactive" "inactive" "$(cat "$N/clash/state")"
check_eq "the refused network left no bridge" "0" "$(bridge_count virbr-clash)"
mkdir "$N/samebr"
sed "s|<name>n-route</name>|<name>samebr</name>|; s|10.77.2|10.78.2|g" "$WORK/n-route.xml" |
  sed "s|</name>|</name><bridge name='virbr-n-nat'/>|" > "$WORK/samebr.xml"
check "define a network with n-nat's bridge" cp "$WORK/samebr.xml" "$N/samebr/config.xml"
check_fails "a second network on the same bridge is refused" sh -c "echo active > '$N/samebr/state'"
check_contains "the error names the bridge" "virbr-n-nat" "$(cat "$N/samebr/error")"

# ---- config.xml of an active network: the running one keeps its definition
sed "s|10.77.1.20|10.77.1.30|" "$WORK/n-nat.xml" > "$WORK/n-nat2.xml"
check "config.xml of an active network can change" cp "$WORK/n-nat2.xml" "$N/n-nat/config.xml"
check "the running dnsmasq keeps the old range" grep -q "10.77.1.10,10.77.1.20" "$RUN/networks/n-nat/dnsmasq.conf"
check "restart" sh -c "echo inactive > '$N/n-nat/state'; echo active > '$N/n-nat/state'"
check "the new range applies at the next start" grep -q "10.77.1.10,10.77.1.30" "$RUN/networks/n-nat/dnsmasq.conf"

# ---- dnsmasq killed: it comes back
old=$(dnsmasq_pids n-nat)
kill -9 "$old"
new_dnsmasq() { local p; p=$(dnsmasq_pids n-nat); [[ -n "$p" && "$p" != "$old" && $(wc -w <<<"$p") -eq 1 ]]; }
check "dnsmasq killed with -9 comes back" wait_for 5 new_dnsmasq
check "the new dnsmasq runs in the namespace" in_our_ns "$(dnsmasq_pids n-nat)"
check_eq "the network is still active" "active" "$(cat "$N/n-nat/state")"

# ---- the daemon killed: after a restart nothing is duplicated
check "set autostart on n-route" sh -c "echo 1 > '$N/n-route/autostart'"
dpid=$(dnsmasq_pids n-nat)
rules_before=$(rule_count net-virbr-n-nat-fwd)
nat_before=$(rule_count net-virbr-n-nat-nat)
check "a new definition (new UUID) while active" cp "$WORK/n-nat.xml" "$N/n-nat/config.xml"
kill_daemon
check_eq "the network outlives the daemon" "1" "$(bridge_count virbr-n-nat)"
start_daemon || exit 1
cat "$MNT/events" >> "$EV" 2>/dev/null &
EV_PID2=$!
on_exit "kill $EV_PID2"
check_eq "after restart: n-nat is active" "active" "$(cat "$N/n-nat/state")"
check_eq "after restart: one bridge" "1" "$(bridge_count virbr-n-nat)"
check_eq "after restart: one forward chain" "1" "$(chain_count net-virbr-n-nat-fwd)"
check_eq "after restart: the same forward rules" "$rules_before" "$(rule_count net-virbr-n-nat-fwd)"
check_eq "after restart: the same nat rules" "$nat_before" "$(rule_count net-virbr-n-nat-nat)"
check_eq "after restart: the same single dnsmasq" "$dpid" "$(dnsmasq_pids n-nat)"
check_eq "autostart started n-route" "active" "$(cat "$N/n-route/state")"
check "after restart: the live definition is the one it started with" \
  grep -q "10.77.1.10,10.77.1.30" "$RUN/networks/n-nat/dnsmasq.conf"
check_fails "after restart: undefine is still refused" rmdir "$N/n-nat"
old=$(dnsmasq_pids n-nat)
kill -9 "$old"
check "after restart: dnsmasq is still watched" wait_for 5 new_dnsmasq

# killed again, and dnsmasq and the rules lost while it was down: repaired
kill_daemon
kill -9 $(dnsmasq_pids n-nat)
in_netns "$NS" nft delete chain inet virtfs net-virbr-n-nat-nat
start_daemon || exit 1
check_eq "repaired: active" "active" "$(cat "$N/n-nat/state")"
check_eq "repaired: one dnsmasq" "1" "$(dnsmasq_pids n-nat | wc -w)"
check_eq "repaired: the nat chain is back, once" "1" "$(chain_count net-virbr-n-nat-nat)"
check_eq "repaired: the same nat rules" "$nat_before" "$(rule_count net-virbr-n-nat-nat)"
check_eq "repaired: one bridge" "1" "$(bridge_count virbr-n-nat)"

# killed, and the bridge deleted meanwhile: inactive, leftovers removed
kill_daemon
ip -n "$NS" link del virbr-n-nat
start_daemon || exit 1
check_eq "bridge gone while down: inactive" "inactive" "$(cat "$N/n-nat/state")"
check_eq "bridge gone while down: dnsmasq removed" "" "$(dnsmasq_pids n-nat)"
check_eq "bridge gone while down: chains removed" "0" "$(chain_count net-virbr-n-nat-fwd)"

# ---- events
check "stop n-route" sh -c "echo inactive > '$N/n-route/state'"
sleep 0.3
check "event: network started" grep -Eq ' network n-nat started$' "$EV"
check "event: network stopped" grep -Eq ' network n-nat stopped$' "$EV"
check "event: network defined" grep -Eq ' network n-nat defined$' "$EV"
check "event: network undefined" grep -Eq ' network iso undefined$' "$EV"

# ---- the default network does not come back once removed
check "rmdir the default network" rmdir "$N/default"
stop_daemon
start_daemon || exit 1
check "a removed default network is not defined again" test ! -e "$N/default"

stop_daemon
finish
