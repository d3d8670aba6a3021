#!/usr/bin/env bash
# DHCP leases of a network and the addresses of a domain, without QEMU: a
# busybox udhcpc in a second namespace, joined to the network's bridge by a
# veth pair, plays the guest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"
need_root
need_cmd ip nsenter busybox
[[ -x /usr/sbin/dnsmasq ]] || command -v dnsmasq >/dev/null || skip "needs dnsmasq"

NS="vfs$$l"
netns_create "$NS" || { echo "cannot create a network namespace"; exit 1; }
DAEMON_PREFIX=$(netns_prefix "$NS")
start_daemon || exit 1
N="$MNT/networks"

mkdir "$N/lan"
cat > "$WORK/lan.xml" <<XML
<network>
  <name>lan</name>
  <forward mode='nat'/>
  <ip address='10.79.0.1' prefix='24'>
    <dhcp><range start='10.79.0.100' end='10.79.0.120'/></dhcp>
  </ip>
</network>
XML
check "define the network" cp "$WORK/lan.xml" "$N/lan/config.xml"
check "start it" sh -c "echo active > '$N/lan/state'"
check_eq "no leases yet" "" "$(cat "$N/lan/leases")"

MAC=52:54:00:7a:00:01
netns_dhcp_client "$NS" virbr-lan "vfs$$c" "$MAC" guest1
ip=$DHCP_IP
check "the client got an address in the range" grep -Eq '^10\.79\.0\.(1[01][0-9]|120)$' <<<"$ip"
leases=$(cat "$N/lan/leases")
echo "# leases: $leases"
check_eq "one lease" "1" "$(grep -c . <<<"$leases")"
check "the lease line is 'EXPIRY MAC IP HOSTNAME'" grep -Eq \
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z $MAC $ip guest1\$" <<<"$leases"
expiry=$(cut -d' ' -f1 <<<"$leases")
now=$(date -u +%s)
check "the expiry is in the future (default lease 1 h)" test "$(date -u -d "$expiry" +%s)" -gt "$now"

# A domain with an interface of that MAC on the network shows the address.
mkdir "$MNT/domains/vm1"
domain_xml vm1 256 "<interface type='network'><mac address='$MAC'/><source network='lan'/></interface>
<interface type='network'><mac address='52:54:00:7a:00:02'/><source network='lan'/></interface>" \
  > "$WORK/vm1.xml"
check "define a domain on the network" cp "$WORK/vm1.xml" "$MNT/domains/vm1/config.xml"
check_eq "addresses lists the guest's address" "- $MAC $ip/24" "$(cat "$MNT/domains/vm1/addresses")"
check_fails "addresses is read-only" sh -c "echo x > '$MNT/domains/vm1/addresses'"
mkdir "$MNT/domains/vm2"
check_eq "a domain without interfaces has no addresses" "" "$(cat "$MNT/domains/vm2/addresses")"

check "stop the network" sh -c "echo inactive > '$N/lan/state'"
check_eq "an inactive network shows no leases" "" "$(cat "$N/lan/leases")"
check_eq "nor addresses" "" "$(cat "$MNT/domains/vm1/addresses")"
check "the lease file is kept for the next start" grep -q "$MAC" "$RUN/networks/lan/leases"
check "start it again" sh -c "echo active > '$N/lan/state'"
check_contains "the lease is back" "$MAC $ip guest1" "$(cat "$N/lan/leases")"

stop_daemon
finish
