#!/usr/bin/env bash
# Guests on virtual networks (issues 4 and 5 end to end): the test guest
# boots from a qcow2 overlay volume, plugged into a NAT network, gets a
# lease from the network's dnsmasq, shows up in `leases` and in the
# domain's `addresses`; a static host entry gives a fixed address; two
# guests ping each other. Everything runs in a network namespace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"
need_root
need_cmd qemu-system-x86_64 qemu-img nsenter nft
ensure_guest
NS="vfs$$g"
netns_create "$NS" || { echo "cannot create a network namespace"; exit 1; }
DAEMON_PREFIX=$(netns_prefix "$NS")
start_daemon || exit 1
D="$MNT/domains"; N="$MNT/networks"; P="$MNT/pools/default"

# --- a NAT network with a static host
mkdir "$N/lab"
cat > "$WORK/lab.xml" <<XML
<network>
  <name>lab</name>
  <forward mode='nat'/>
  <bridge name='virbr-lab'/>
  <ip address='10.77.0.1' prefix='24'>
    <dhcp>
      <range start='10.77.0.100' end='10.77.0.199'/>
      <host mac='52:54:00:77:00:02' name='fixed' ip='10.77.0.2'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd77::1' prefix='64'/>
</network>
XML
check "define the network" cp "$WORK/lab.xml" "$N/lab/config.xml"
check "start it" bash -c "echo active > '$N/lab/state'"

# --- a qcow2 overlay volume on a base volume (the guest boots from its
# kernel; the disk proves the overlay chain is what QEMU opened)
check "mkdir a base volume" mkdir "$P/volumes/base"
check "size it" bash -c "echo 16M > '$P/volumes/base/capacity'"
base_path=$(cat "$P/volumes/base/path")
printf 'VIRTFS-BASE-CONTENT' | dd of="$base_path" conv=notrunc status=none
mkdir "$P/volumes/top"
cat > "$WORK/top.xml" <<XML
<volume>
  <name>top</name>
  <capacity unit='MiB'>16</capacity>
  <target><format type='qcow2'/></target>
  <backingStore><path>$base_path</path><format type='raw'/></backingStore>
</volume>
XML
check "an overlay volume by config.xml" cp "$WORK/top.xml" "$P/volumes/top/config.xml"
check_eq "the overlay is qcow2" "qcow2" "$(cat "$P/volumes/top/format")"

disk="    <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default' volume='top'/><target dev='vda' bus='virtio'/></disk>"
nic1="    <interface type='network'><source network='lab'/><model type='virtio'/></interface>"
nic2="    <interface type='network'><mac address='52:54:00:77:00:02'/><source network='lab'/><model type='virtio'/></interface>"
define_guest vm1 "$disk
$nic1" "virtfs.hostname=vm1"
define_guest vm2 "$nic2" "virtfs.hostname=vm2"
mac1=$(grep -o "mac address='[^']*'" "$D/vm1/config.xml" | cut -d"'" -f2)
check "a MAC was generated with the 52:54:00 prefix and kept" grep -q "^52:54:00:" <<<"$mac1"

# --- starting on an inactive network is refused
echo inactive > "$N/lab/state"
check_fails "a domain on an inactive network does not start" bash -c "echo running > '$D/vm1/state'"
check_contains "the error names the network" "lab" "$(cat "$D/vm1/error")"
echo active > "$N/lab/state"

# --- boot both; DHCP leases
t0=$(date +%s%N)
check "vm1 starts" bash -c "echo running > '$D/vm1/state'"
check "vm2 starts" bash -c "echo running > '$D/vm2/state'"
check "vm1 gets a lease" wait_console vm1 "VIRTFS-GUEST-IP eth0 10.77.0.1[0-9][0-9]/24" 1 120
echo "# boot to lease on the console: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "vm2 gets its static address" wait_console vm2 "VIRTFS-GUEST-IP eth0 10.77.0.2/24" 1 120
# IPv6 without <dhcp>: dnsmasq's router advertisements (ra-only), from
# which the guest's kernel makes its own address (SLAAC)
console_cmd vm1 "i=0; while ! ip -6 addr show dev eth0 | grep -q 'inet6 fd77:' && [ \$i -lt 150 ]; do sleep 0.2; i=\$((i+1)); done; ip -6 addr show dev eth0 | grep -o 'inet6 fd77:[0-9a-f:]*' | sed 's/^inet6 /SLAAC-/'"
check "vm1 gets an IPv6 address from the network's router advertisements" wait_console vm1 "SLAAC-fd77:" 1 60
console_cmd vm1 "ping6 -c 1 -W 5 fd77::1 >/dev/null && echo PING6-\$((1+1))-OK"
check "and reaches the bridge over IPv6" wait_console vm1 "PING6-2-OK" 1 30
ip1=$(grep -o "VIRTFS-GUEST-IP eth0 [0-9.]*" "$MNT/domains/vm1/console.log" | head -1 | awk '{print $3}')
check "the lease shows in leases with the domain's MAC" bash -c "for i in \$(seq 50); do grep -q '$mac1 $ip1 vm1' '$N/lab/leases' && exit 0; sleep 0.2; done; exit 1"
echo "# lease visible in leases: $(( ($(date +%s%N) - t0) / 1000000 )) ms after start"
check_contains "addresses lists the guest's IP" "$ip1/24" "$(cat "$D/vm1/addresses")"
check_contains "addresses lists the MAC" "$mac1" "$(cat "$D/vm1/addresses")"
tap=$(sed -n '/<interface/,/<\/interface>/p' "$D/vm1/live.xml" | grep -o "target dev='[^']*'" | head -1 | cut -d"'" -f2)
check "live.xml names the tap" test -n "$tap"
check "the tap is enslaved to the bridge" bash -c "ip -n $NS -j link show '$tap' | grep -q '\"master\":\"virbr-lab\"'"
stats=$(cat "$D/vm1/stats")
check_contains "stats names disks by target dev" "disk.vda.rd_bytes:" "$stats"
check_contains "stats counts the interface's traffic by tap" "net.$tap.rx_bytes:" "$stats"
check "the guest received bytes (DHCP answers)" bash -c "grep -Eq '^net\.$tap\.rx_packets: [1-9]' <<<'$stats'"
info=$(cat "$N/lab/info")
check_contains "network info: bridge" "bridge: virbr-lab" "$info"
check_contains "network info: forward mode" "forward: nat" "$info"
check_contains "network info: address" "ipv4: 10.77.0.1/24" "$info"
check_contains "network info: DHCP range" "ipv4_dhcp: 10.77.0.100-10.77.0.199" "$info"
check "network info: lease count" bash -c "grep -Eq '^leases: [1-9]' <<<'$info'"

# --- restarting the network keeps the running guest connected (issue 18)
check "the network restarts under a running guest" \
  bash -c "echo inactive > '$N/lab/state' && echo active > '$N/lab/state'"
check "the tap is on the new bridge" bash -c "ip -n $NS -j link show '$tap' | grep -q '\"master\":\"virbr-lab\"'"
console_cmd vm1 'n=$(grep -c obtained /run/udhcpc.eth0.log); killall -USR1 udhcpc; for i in $(seq 30); do [ $(grep -c obtained /run/udhcpc.eth0.log) -gt $n ] && echo LEASE-RENEWED && break; sleep 1; done'
check "the guest renews its DHCP lease after the restart" wait_console vm1 LEASE-RENEWED 1 60
console_cmd vm1 "ping -c 2 -W 2 10.77.0.1 >/dev/null && echo PING-GW-OK"
check "and reaches the bridge's address" wait_console vm1 PING-GW-OK 1 30

# --- the guests reach each other
console_cmd vm1 "ping -c 2 -W 2 10.77.0.2 >/dev/null && echo PING-OK-vm2"
check "vm1 pings vm2" wait_console vm1 PING-OK-vm2 1 30
console_cmd vm2 "ping -c 2 -W 2 $ip1 >/dev/null && echo PING-OK-vm1"
check "vm2 pings vm1" wait_console vm2 PING-OK-vm1 1 30

# --- a NIC hot-plugged on the network through devices/ (issue 13): the
# bridge driver makes its tap, QEMU gets the descriptor over QMP (getfd)
printf "<interface type='network'><mac address='52:54:00:77:00:33'/><source network='lab'/><model type='virtio'/></interface>" > "$WORK/hotnic.xml"
check "cp of a network NIC into devices/ plugs it into the running guest" cp "$WORK/hotnic.xml" "$D/vm2/devices/lab2.xml"
check "the guest gets a DHCP lease on it" wait_console vm2 "VIRTFS-GUEST-IP eth1 10.77.0.1" 1 90
check "the lease shows in leases" bash -c "for i in \$(seq 100); do grep -q '52:54:00:77:00:33' '$N/lab/leases' && exit 0; sleep 0.2; done; exit 1"
hot_tap=$(awk "/52:54:00:77:00:33/ {f=1} f && /target dev=/ {print; exit}" "$D/vm2/live.xml" | grep -o "dev='[^']*'" | cut -d"'" -f2)
check "live.xml names its tap" test -n "$hot_tap"
check "the tap is on the bridge" bash -c "ip -n $NS -j link show '$hot_tap' | grep -q '\"master\":\"virbr-lab\"'"
check "rm unplugs it" rm "$D/vm2/devices/lab2.xml"
check "its tap is gone" bash -c "! ip -n $NS link show '$hot_tap' 2>/dev/null"
console_cmd vm2 "ls /sys/class/net | tr '\\n' ' ' | sed 's/^/NICS-/; s/\$/-END/'"
check "the guest no longer has eth1" wait_console vm2 "NICS-eth0 lo -END" 1 30

# --- the overlay chain is what the guest reads
console_cmd vm1 "head -c 19 /dev/vda; echo"
check "the guest reads the base volume's bytes through the overlay" wait_console vm1 VIRTFS-BASE-CONTENT 1 30

# --- volumes in use
check_fails "rmdir of a volume a running domain uses is refused" rmdir "$P/volumes/top"
check_contains "with a reason" "use" "$(cat "$P/volumes/top/error")"
check_fails "rmdir of an active network is refused" rmdir "$N/lab"

# --- stop
check "vm1 shuts down" bash -c "echo shutoff > '$D/vm1/state'"
check "vm2 is destroyed" bash -c "echo destroy > '$D/vm2/ctl'"
check "taps are removed with their domains" bash -c "! ip -n $NS link show '$tap' 2>/dev/null"
check "the overlay can be deleted once unused" rmdir "$P/volumes/top"
check "the network stops" bash -c "echo inactive > '$N/lab/state'"
check_fails "its bridge is gone" ip -n "$NS" link show virbr-lab
finish
