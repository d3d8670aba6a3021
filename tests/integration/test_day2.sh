#!/usr/bin/env bash
# Day-two files (issue 16): history/ of every kind, /virt/events.log followed
# by tail -f locally and through sshfs, /virt/metrics checked by promtool and
# scraped by the real node_exporter (textfile collector), and screen.png
# decoded before and after the guest writes to its screen. One guest boots
# for all the running checks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"
need_root
need_cmd promtool prometheus-node-exporter python3 diff tail stat ip nsenter
[[ -x /usr/sbin/dnsmasq ]] || command -v dnsmasq >/dev/null || skip "needs dnsmasq"
. "$(dirname "$0")/sshd_lib.sh"
ensure_guest

# The daemon lives in a network namespace of its own: the guest's network
# (bridge, tap, dnsmasq) is made there.
NS="vfs$$d"
netns_create "$NS" || { echo "cannot create a network namespace"; exit 1; }
DAEMON_PREFIX=$(netns_prefix "$NS")
start_daemon --history 5 || exit 1
H=$MNT/domains/h1

# ---- history ----
mkdir "$H"
check "a new domain has history/0001.xml" test -f "$H/history/0001.xml"
check "... which is its config.xml" diff "$H/history/0001.xml" "$H/config.xml"
check_contains "history/ holds read-only files" "-r--r--r--" "$(stat -c %A "$H/history/0001.xml")"
echo 2 > "$H/vcpus"
check_eq "a change adds an entry" "0001.xml 0002.xml" "$(ls "$H/history" | xargs)"
check_contains "diff history/0001.xml config.xml shows the change" "<vcpu placement='static'>2</vcpu>" \
  "$(diff "$H/history/0001.xml" "$H/config.xml")"
cp "$H/config.xml" "$WORK/same.xml"
cp "$WORK/same.xml" "$H/config.xml"
echo 2 > "$H/vcpus"
check_eq "rewriting the same content adds nothing" "2" "$(ls "$H/history" | wc -l)"
check "cp history/0001.xml config.xml goes back" cp "$H/history/0001.xml" "$H/config.xml"
check "... config.xml is the old definition again" diff "$H/history/0001.xml" "$H/config.xml"
check_eq "... and is itself a new entry" "0001.xml 0002.xml 0003.xml" "$(ls "$H/history" | xargs)"
mtime=$(stat -c %Y "$H/history/0003.xml")
now=$(date +%s)
check "an entry's mtime is when it was accepted" test $((now - mtime)) -le 5 -a $((now - mtime)) -ge 0
for n in 3 4 5 6; do echo "$n" > "$H/vcpus"; done
check_eq "the count is bounded (--history 5): the oldest go, numbers go on" \
  "0003.xml 0004.xml 0005.xml 0006.xml 0007.xml" "$(ls "$H/history" | xargs)"
check_fails "an entry cannot be written" sh -c "echo x > '$H/history/0007.xml'"
rm -f "$H/history/0007.xml"
rm -rf "$H/history"
check_eq "rm of entries and of history/ removes nothing" "5" "$(ls "$H/history" | wc -l)"
check_fails "no file can be created in history/" touch "$H/history/new.xml"
check_fails "no directory can be made in history/" mkdir "$H/history/x"
check_fails "history/ cannot be renamed" mv "$H/history" "$H/old"
check_eq "... and nothing of it was lost" "5" "$(ls "$H/history" | wc -l)"
echo '<domain><name>h1</nam>' > "$H/config.xml" 2>/dev/null
check_eq "a refused definition adds no entry" "5" "$(ls "$H/history" | wc -l)"
check "mv renames the domain" mv "$H" "$MNT/domains/h2"
check_eq "the renamed domain keeps its history" "0003.xml 0004.xml 0005.xml 0006.xml 0007.xml" \
  "$(ls "$MNT/domains/h2/history" | xargs)"
check "rm -r undefines it" rm -r "$MNT/domains/h2"
check_fails "... it is gone" test -e "$MNT/domains/h2"
check "the history stays in the state dir" test -f "$STATE/history/domains/h2/0007.xml"
mkdir "$MNT/domains/h2"
check_eq "mkdir of the name again shows it, and the new definition as the next entry" \
  "0004.xml 0005.xml 0006.xml 0007.xml 0008.xml" "$(ls "$MNT/domains/h2/history" | xargs)"
check "so an rmdir can be undone from the history" cp "$MNT/domains/h2/history/0007.xml" "$MNT/domains/h2/config.xml"
check_eq "... the old definition (6 vCPUs) is back" "6" "$(cat "$MNT/domains/h2/vcpus")"

mkdir "$MNT/networks/n1"
check "networks have a history" test -f "$MNT/networks/n1/history/0001.xml"
check "pools have a history" test -f "$MNT/pools/default/history/0001.xml"
mkdir "$MNT/pools/default/volumes/v1"
check "volumes have a history" test -f "$MNT/pools/default/volumes/v1/history/0001.xml"
echo 1M > "$MNT/pools/default/volumes/v1/capacity"
check_eq "a volume change adds an entry" "2" "$(ls "$MNT/pools/default/volumes/v1/history" | wc -l)"
check_contains "... with the new capacity" ">1048576<" "$(cat "$MNT/pools/default/volumes/v1/history/0002.xml")"
mv "$MNT/pools/default/volumes/v1" "$MNT/pools/default/volumes/v2"
check_eq "a renamed volume keeps its history, plus an entry for its new path" "3" \
  "$(ls "$MNT/pools/default/volumes/v2/history" | wc -l)"
check_contains "... which is all that changed" "/v2<" \
  "$(diff "$MNT/pools/default/volumes/v2/history/0002.xml" "$MNT/pools/default/volumes/v2/history/0003.xml")"

# ---- events.log ----
check_contains "events.log has the history lines" "domain h2 history 0009.xml" "$(cat "$MNT/events.log")"
size0=$(stat -c %s "$MNT/events.log")
tail -n 0 -f "$MNT/events.log" > "$WORK/tail.local" 2>&1 &
TAIL_LOCAL=$!
on_exit "kill $TAIL_LOCAL"

sshd_start || exit 1
sshd_add_key root
CLIENT=$WORK/client
check "sshfs mounts the tree" sshfs_mount root "$MNT" "$CLIENT" -o cache=no,entry_timeout=0,attr_timeout=0
tail -n 0 -f "$CLIENT/events.log" > "$WORK/tail.sshfs" 2>&1 &
TAIL_SSHFS=$!
on_exit "kill $TAIL_SSHFS"
sleep 1.5   # both tails have read the size once
mkdir "$MNT/domains/tailed"
size1=$(stat -c %s "$MNT/events.log")
check "events.log grows as lines are added" test "$size1" -gt "$size0"
wait_file() { for _ in $(seq 50); do grep -q -- "$2" "$1" && return 0; sleep 0.2; done; cat "$1" | sed 's/^/#   /'; return 1; }
check "tail -f follows events.log locally" wait_file "$WORK/tail.local" "domain tailed defined"
check "tail -f follows events.log through sshfs" wait_file "$WORK/tail.sshfs" "domain tailed defined"
check "... with the history line" wait_file "$WORK/tail.sshfs" "domain tailed history 0001.xml"
check_eq "the line format is the events stream's" "" \
  "$(grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z (domain|network|pool|volume|virtfs) [^ ]+ [a-z]+( .*)?$' "$WORK/tail.sshfs")"
check_eq "the remote and the local tail saw the same lines" "$(cat "$WORK/tail.local")" "$(cat "$WORK/tail.sshfs")"
check_fails "events.log cannot be written" sh -c "echo x >> '$MNT/events.log'"

# ---- a running guest: metrics, screen.png, display ----
mkdir "$MNT/networks/lan"
cat > "$WORK/lan.xml" <<XML
<network>
  <name>lan</name>
  <ip address='10.79.16.1' prefix='24'>
    <dhcp><range start='10.79.16.100' end='10.79.16.120'/></dhcp>
  </ip>
</network>
XML
check "an isolated network with DHCP" cp "$WORK/lan.xml" "$MNT/networks/lan/config.xml"
echo active > "$MNT/networks/lan/state"
truncate -s 8M "$WORK/disk.img"
define_guest g "<disk type='file' device='disk'><source file='$WORK/disk.img'/><target dev='vda' bus='virtio'/></disk>
    <interface type='network'><source network='lan'/><model type='virtio'/></interface>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>
    <video><model type='vga'/></video>" || fail "define the guest"
check_fails "screen.png is absent while shut off" test -e "$MNT/domains/g/screen.png"
echo running > "$MNT/domains/g/state"
check "the guest boots" wait_console g VIRTFS-GUEST-READY

check "promtool check metrics is clean" bash -c "promtool check metrics < '$MNT/metrics'"
m=$(cat "$MNT/metrics")
check_contains "the running guest's state" 'libvirt_domain_info_state{domain="g",state="running"} 1' "$m"
check_contains "its vCPUs" 'libvirt_domain_info_virtual_cpus{domain="g"} 1' "$m"
check_contains "its disk's counters" "libvirt_domain_block_stats_read_bytes_total{domain=\"g\",target_device=\"vda\",source_file=\"$WORK/disk.img\"}" "$m"
check_contains "pools' figures" 'virtfs_pool_capacity_bytes{pool="default"}' "$m"
for _ in $(seq 50); do [[ -n "$(cat "$MNT/networks/lan/leases")" ]] && break; sleep 0.2; done
sleep 1.1   # past the one-second reuse of a rendering
m=$(cat "$MNT/metrics")
bridge=$(cat "$MNT/networks/lan/bridge")
tap=$(awk '{print $1; exit}' "$MNT/domains/g/addresses")
check_contains "the guest's lease in the network's figures" 'virtfs_network_leases{network="lan"} 1' "$m"
for dir in transmit receive; do
  v=$(awk -v k="libvirt_domain_interface_stats_${dir}_bytes_total{domain=\"g\",target_device=\"$tap\",source_bridge=\"$bridge\"}" '$1 == k {print $2}' <<<"$m")
  check "its interface $tap on $bridge counted ${dir} bytes of DHCP (${v:-none})" test "${v:-0}" -gt 0
done
check_contains "networks' leases" 'virtfs_network_leases{network="n1"} 0' "$m"
check_contains "the daemon's requests" 'virtfs_requests_total{op="open"}' "$m"
check_contains "the daemon's RSS" 'virtfs_resident_memory_bytes ' "$m"
check_eq "the size stat gives is what cat reads" "$(stat -c %s "$MNT/metrics")" "$(cat "$MNT/metrics" | wc -c)"

# node_exporter's textfile collector on a directory linking to the file,
# served on 127.0.0.1 at a port free now.
mkdir "$WORK/textfile"
ln -s "$MNT/metrics" "$WORK/textfile/virtfs.prom"
NE_PORT=$(free_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" --collector.disable-defaults \
  --collector.textfile --collector.textfile.directory="$WORK/textfile" > "$WORK/node_exporter.log" 2>&1 &
NE_PID=$!
on_exit "kill $NE_PID"
scrape() {
  python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
    "http://127.0.0.1:$NE_PORT/metrics"
}
cpu_of() { awk '/^libvirt_domain_info_cpu_time_seconds_total\{domain="g"\}/ {print $2}' <<<"$1"; }
for _ in $(seq 50); do s1=$(scrape 2>/dev/null) && break; sleep 0.2; done
c1=$(cpu_of "$s1")
sleep 2
s2=$(scrape)
c2=$(cpu_of "$s2")
check "node_exporter serves the guest's CPU time" test -n "$c1" -a -n "$c2"
check "... and it grows between two scrapes ($c1 -> $c2)" python3 -c "import sys; sys.exit(not float('$c2') > float('$c1'))"
check_contains "node_exporter read the file without error" 'node_textfile_scrape_error 0' "$s2"

# screen.png: decoded, sized, and changed by the guest writing to its screen
png_info() { # FILE: prints WIDTH HEIGHT BLUE: its size and how many pixels are VGA
             # blue (the background the guest writes with); fails if not a PNG
  python3 - "$1" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat, w = 8, b'', None
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    crc = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0]
    assert zlib.crc32(kind + body) == crc, 'bad CRC'
    if kind == b'IHDR':
        w, h, depth, color = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
stride = w * channels * depth // 8
assert len(raw) == h * (1 + stride), 'pixel data of the wrong size'
assert depth == 8 and color in (2, 6), 'not 8-bit RGB'
# Undo the per-row filters (PNG spec 9.2) to count pixels by colour.
prev, blue = bytearray(stride), 0
for y in range(h):
    f, row = raw[y * (1 + stride)], bytearray(raw[y * (1 + stride) + 1:(y + 1) * (1 + stride)])
    for i in range(stride):
        a = row[i - channels] if i >= channels else 0
        b = prev[i]
        c = prev[i - channels] if i >= channels else 0
        if f == 1: row[i] = (row[i] + a) & 255
        elif f == 2: row[i] = (row[i] + b) & 255
        elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, channels):
        if row[x + 2] > 120 and row[x] < 60 and row[x + 1] < 60:
            blue += 1
    prev = row
print(w, h, blue)
PY
}
check "screen.png is there while running" test -f "$MNT/domains/g/screen.png"
check_contains "display names the VNC server on 127.0.0.1" "vnc://127.0.0.1:59" "$(cat "$MNT/domains/g/display")"
cp "$MNT/domains/g/screen.png" "$WORK/before.png"
read -r w h blue1 < <(png_info "$WORK/before.png")
check "screen.png decodes as a PNG of the VGA text screen (${w:-?}x${h:-?})" test "${w:-0}" -ge 640 -a "${h:-0}" -ge 400
check_eq "... with nothing blue on it yet" "0" "${blue1:-}"
check_eq "fstat of an open screen.png gives the size read" "ok" "$(python3 -c '
import os, sys
with open(sys.argv[1], "rb") as f:
    size = os.fstat(f.fileno()).st_size
    print("ok" if size == len(f.read()) else "differ")' "$MNT/domains/g/screen.png")"
# The guest's kernel boots through PVH and leaves the VGA in the text mode
# SeaBIOS set: the guest writes "VIRTFS-SCREEN-OK" in white on blue into
# the text buffer at row 10 (0xb8000 + 10 * 160) with busybox devmem.
console_cmd g 'a=$((0xb8640)); for w in 0x1f491f56 0x1f541f52 0x1f531f46 0x1f531f2d 0x1f521f43 0x1f451f45 0x1f2d1f4e 0x1f4b1f4f; do devmem $a 32 $w; a=$((a + 4)); done; echo wrote-the-screen'
wait_console g wrote-the-screen >/dev/null
sleep 1.2   # past the one-second reuse of a screendump
cp "$MNT/domains/g/screen.png" "$WORK/after.png"
read -r w2 h2 blue2 < <(png_info "$WORK/after.png")
check "the screen changed after the guest wrote to it (${blue2:-?} blue pixels)" test "${blue2:-0}" -gt 1000
check "screen.png reads through sshfs too" bash -c "cmp '$CLIENT/domains/g/screen.png' '$MNT/domains/g/screen.png' || { sleep 1.1; cmp '$CLIENT/domains/g/screen.png' '$MNT/domains/g/screen.png'; }"
check_fails "screen.png cannot be written" sh -c "echo x > '$MNT/domains/g/screen.png'"

echo destroy > "$MNT/domains/g/ctl"
check_fails "screen.png is gone once the guest stops" test -e "$MNT/domains/g/screen.png"
check_contains "the stopped guest's state in metrics" 'libvirt_domain_info_state{domain="g",state="shutoff"} 1' \
  "$(sleep 1.1; cat "$MNT/metrics")"

# ---- a restart keeps histories and adds no entry ----
# (nothing may hold the mount busy, or the unmount fails)
kill "$TAIL_LOCAL" "$TAIL_SSHFS" "$NE_PID" 2>/dev/null
wait "$TAIL_LOCAL" "$TAIL_SSHFS" "$NE_PID" 2>/dev/null
fusermount3 -u "$CLIENT"
stop_daemon
start_daemon --history 5 || exit 1
check_eq "after a restart the history is the same" "0005.xml 0006.xml 0007.xml 0008.xml 0009.xml" \
  "$(ls "$MNT/domains/h2/history" | xargs)"
finish
