#!/usr/bin/env bash
# Live migration between two virtfs hosts (issue 17), as two daemons on one
# machine with their own state and run dirs and mount points, and a disk
# image both see at the same path (shared storage). The real test guest
# counts on its console; it moves A -> B and back over tcp:127.0.0.1 and
# keeps counting without a reboot. A cancelled migration, and one whose
# target QEMU is killed, leave the guest running on the source. Addresses
# that could smuggle QEMU options in are refused. Figures (total time and
# downtime of a 256 MiB guest) are printed as '#' lines. Last,
# scripts/virtfs-migrate moves it through a private sshd on 127.0.0.1 that
# reaches the other daemon, as it would reach another host.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd qemu-system-x86_64 qemu-img
. "$(dirname "$0")/sshd_lib.sh"
ensure_guest
# Both daemons listen for migrations on 127.0.0.1 only.
start_daemon --migration-address 127.0.0.1 || exit 1
start_second_daemon --migration-address 127.0.0.1 || exit 1
A="$MNT/domains/g"
B="$MNT2/domains/g"
cat "$MNT/events" > "$WORK/events-a.txt" &
EVA=$!
cat "$MNT2/events" > "$WORK/events-b.txt" &
EVB=$!
on_exit "kill \$EVA \$EVB 2>/dev/null"
# Daemons never stop their VMs: end whatever QEMU is left.
on_exit "echo destroy > '$A/ctl' 2>/dev/null; echo destroy > '$B/ctl' 2>/dev/null"
on_exit "if [[ \$failures -gt 0 ]]; then echo '# daemon B log:'; tail -30 '$DAEMON2_LOG' | sed 's/^/#   /'; fi"

# field FILE KEY: the value of "KEY: value" in FILE
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$1"; }
# state_is DIR STATE [TIMEOUT_S]
state_is() {
  local i
  for ((i = 0; i < ${3:-30} * 10; i++)); do
    [[ "$(cat "$1/state" 2>/dev/null)" == "$2" ]] && return 0
    sleep 0.1
  done
  echo "# $1/state is $(cat "$1/state" 2>/dev/null), not $2"
  return 1
}
# counts DIR: the counter values the guest printed in DIR's console.log
last_count() { grep -ao 'CNT<[0-9]*>' "$1/console.log" 2>/dev/null | tail -1 | tr -dc 0-9; }
first_count() { grep -ao 'CNT<[0-9]*>' "$1/console.log" 2>/dev/null | head -1 | tr -dc 0-9; }
# count_grows DIR: the counter printed in DIR's console.log moves on
count_grows() {
  local before i
  before=$(last_count "$1")
  for ((i = 0; i < 100; i++)); do
    [[ -n "$(last_count "$1")" && "$(last_count "$1")" != "$before" ]] && return 0
    sleep 0.1
  done
  return 1
}
# migration_active DIR: the source's job reports bytes moving
migration_active() {
  local i
  for ((i = 0; i < 200; i++)); do
    [[ "$(field "$1/job" status)" == active && "$(field "$1/job" transferred_bytes)" -gt 0 ]] &&
      return 0
    sleep 0.05
  done
  cat "$1/job" | sed 's/^/#   /'
  return 1
}

qemu-img create -q -f qcow2 "$WORK/shared.qcow2" 64M
DISK="<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$WORK/shared.qcow2'/><target dev='vda' bus='virtio'/></disk>"
mkdir "$A" && guest_xml g "$DISK" "" 256 > "$WORK/g.xml" && cp "$WORK/g.xml" "$A/config.xml"
# The target gets the same definition (with the same UUID), as
# virtfs-migrate copies it.
check "the definition is copied to B" bash -c "mkdir '$B' && cp '$A/config.xml' '$B/config.xml'"
check_eq "both have the same UUID" "$(cat "$A/uuid")" "$(cat "$B/uuid")"
check_eq "job reads none before any" "job: none" "$(cat "$A/job")"
check_eq "incoming is empty while shut off" "" "$(cat "$A/incoming")"

echo running > "$A/state"
check "the guest boots on A" wait_console g VIRTFS-GUEST-READY
console_cmd g 'i=0; while :; do i=$((i+1)); echo "CNT<$i>"; sleep 0.5; done &'
check "the guest counts on its console" wait_console g 'CNT<3>'

# --- what is refused, and changes nothing
echo "# [${SECONDS}s] what is refused, and changes nothing"
for bad in "tcp:127.0.0.1:1,fd=3" "exec:touch /tmp/x" "tcp:127.0.0.1:99999" "tcp:-oops:4444" \
  "tcp:127.0.0.1:" "fd:3" "unix:relative/path" "tcp:[::1;x]:4444" "rdma:127.0.0.1:4444"; do
  check_fails "migrate $bad is refused" bash -c "echo 'migrate $bad' > '$A/ctl'"
done
check_contains "error says why" "not a migration address" "$(cat "$A/error")"
check_fails "migrate without an address is refused" bash -c "echo migrate > '$A/ctl'"
check_fails "an unknown option is refused" bash -c "echo 'migrate tcp:127.0.0.1:4444 speed=9' > '$A/ctl'"
check_fails "a bandwidth of 0 is refused" bash -c "echo 'migrate tcp:127.0.0.1:4444 bandwidth=0' > '$A/ctl'"
check_fails "incoming with an option-laden address is refused" \
  bash -c "echo 'incoming tcp:127.0.0.1:0,ipv6=on' > '$B/ctl'"
check_eq "B stays shut off" "shutoff" "$(cat "$B/state")"
check_fails "incoming on the running A is EBUSY" bash -c "echo incoming > '$A/state'"
check_fails "cancel without a migration is EBUSY" bash -c "echo cancel > '$A/ctl'"
check_fails "migrate of the shut-off B is EBUSY" bash -c "echo 'migrate tcp:127.0.0.1:4444' > '$B/ctl'"
check_eq "A still runs" "running" "$(cat "$A/state")"
: > "$A/error"

# --- A -> B with echo incoming > state
echo "# [${SECONDS}s] A -> B with echo incoming > state"
check "echo incoming > state on B" bash -c "echo incoming > '$B/state'"
check_eq "B's state reads incoming" "incoming" "$(cat "$B/state")"
addr=$(cat "$B/incoming")
check "incoming shows tcp:127.0.0.1:PORT as QEMU bound it" bash -c "[[ '$addr' =~ ^tcp:127\.0\.0\.1:[1-9][0-9]*$ ]]"
check "B's QEMU listens there" bash -c "ss -Hltn 'sport = :${addr##*:}' | grep -q 127.0.0.1"
check_contains "B's job shows the incoming side" "job: incoming" "$(cat "$B/job")"
check "writing incoming again changes nothing" bash -c "echo incoming > '$B/state'"
check_fails "no snapshot while waiting (the disks are the source's)" mkdir "$B/snapshots/s1"
check_fails "no rmdir while waiting" rmdir "$B"
# move SRC DST LABEL: migrates the guest from SRC to DST (waiting on $addr)
# and checks it arrived without a reboot, counting on from where it was;
# prints the figures.
move() {
  local src=$1 dst=$2 before t0 t1 total down
  before=$(last_count "$src")
  t0=$(date +%s%N)
  check "$3: echo migrate ADDRESS > ctl" bash -c "echo 'migrate $addr' > '$src/ctl'"
  check "$3: the target runs the guest" state_is "$dst" running 60
  check "$3: the source shows shutoff" state_is "$src" shutoff 30
  t1=$(date +%s%N)
  check_eq "$3: the source's reason is migrated" "migrated" "$(field "$src/info" reason)"
  check_eq "$3: the target's reason is migrated" "migrated" "$(field "$dst/info" reason)"
  check_eq "$3: the source's job: completed" "completed" "$(field "$src/job" status)"
  check "$3: the count goes on on the target" count_grows "$dst"
  check "$3: past where it was on the source" bash -c "(( $(last_count "$dst") > $before ))"
  check_eq "$3: incoming is empty once the guest runs" "" "$(cat "$dst/incoming")"
  total=$(field "$src/job" total_time_ms)
  down=$(field "$src/job" downtime_ms)
  echo "# $3, 256 MiB guest: wall $(((t1 - t0) / 1000000)) ms from the migrate write to both states settled;" \
    "QEMU query-migrate: total_time $total ms, downtime $down ms, setup $(field "$src/job" setup_time_ms) ms," \
    "transferred $(field "$src/job" transferred_bytes) bytes"
  check "$3: query-migrate's figures are there" bash -c "(( ${total:-0} > 0 && ${down:-0} > 0 ))"
}
move "$A" "$B" "A->B"
check "the count on B starts after A's" bash -c "(( $(first_count "$B") > $(last_count "$A") ))"
check_eq "B never booted the guest" 0 "$(grep -ac VIRTFS-GUEST-READY "$B/console.log")"
check_contains "A's events: migrating" "domain g migrating $addr" "$(cat "$WORK/events-a.txt")"
check_contains "A's events: migrated" "domain g migrated " "$(cat "$WORK/events-a.txt")"
check_contains "A's events: stopped migrated" "domain g stopped migrated" "$(cat "$WORK/events-a.txt")"
check_contains "B's events: incoming" "domain g incoming $addr" "$(cat "$WORK/events-b.txt")"
check_contains "B's events: started migrated" "domain g started migrated" "$(cat "$WORK/events-b.txt")"
check_eq "A's QEMU is gone" "-1" "$(field "$A/info" pid)"

# --- B -> A, cancelled: the guest stays on B
echo "# [${SECONDS}s] B -> A, cancelled: the guest stays on B"
check "ctl incoming ADDRESS on A" bash -c "echo 'incoming tcp:127.0.0.1:0' > '$A/ctl'"
addr=$(cat "$A/incoming")
check "A's incoming shows the port" bash -c "[[ '$addr' =~ ^tcp:127\.0\.0\.1:[1-9][0-9]*$ ]]"
check "slow migrate B -> A" bash -c "echo 'migrate $addr bandwidth=1' > '$B/ctl'"
check "its job shows it under way" migration_active "$B"
job=$(cat "$B/job")
for k in transferred_bytes remaining_bytes total_bytes dirty_rate_bytes_per_second expected_downtime_ms; do
  check_contains "job shows $k" "$k: " "$job"
done
check_eq "job names the address" "$addr" "$(field "$B/job" address)"
check_fails "a second migrate is EBUSY" bash -c "echo 'migrate $addr' > '$B/ctl'"
check_fails "a save meanwhile is EBUSY" bash -c "echo saved > '$B/state'"
check "echo cancel > ctl" bash -c "echo cancel > '$B/ctl'"
check_eq "B still runs" "running" "$(cat "$B/state")"
check_eq "B's job: cancelled" "cancelled" "$(field "$B/job" status)"
check "the count goes on on B" count_grows "$B"
check "A's waiting QEMU ends" state_is "$A" shutoff 30
check_eq "A's reason: migration-failed" "migration-failed" "$(field "$A/info" reason)"
check_contains "A's error says why" "incoming migration failed" "$(cat "$A/error")"
check_contains "B's events: migration-cancelled" "domain g migration-cancelled" "$(cat "$WORK/events-b.txt")"

# --- B -> A, the target QEMU killed: the guest stays on B
echo "# [${SECONDS}s] B -> A, the target QEMU killed: the guest stays on"
echo 'incoming tcp:127.0.0.1:0' > "$A/ctl"
addr=$(cat "$A/incoming")
echo "migrate $addr bandwidth=1" > "$B/ctl"
check "a second slow migration is under way" migration_active "$B"
kill -9 "$(qemu_pid g)"
check "B's migration fails" bash -c "for i in \$(seq 100); do [[ \$(awk '/^status:/ {print \$2}' '$B/job') == failed ]] && exit 0; sleep 0.1; done; exit 1"
check_eq "B still runs" "running" "$(cat "$B/state")"
check "the count goes on on B" count_grows "$B"
check_contains "B's error says why" "migration to $addr failed" "$(cat "$B/error")"
check_contains "A's error says why" "incoming migration failed" "$(cat "$A/error")"
check_contains "naming the signal" "signal 9" "$(cat "$A/error")"
check "A shows shutoff" state_is "$A" shutoff 10
check_contains "B's events: migration-failed" "domain g migration-failed" "$(cat "$WORK/events-b.txt")"

# --- B -> A into a definition that cannot take the guest (other memory):
echo "# [${SECONDS}s] B -> A into a definition that cannot take the gues"
# the target fails to load it, the guest stays on B
echo 128M > "$A/memory"
echo 'incoming tcp:127.0.0.1:0' > "$A/ctl"
addr=$(cat "$A/incoming")
echo "migrate $addr" > "$B/ctl"
check "a target with another <memory> fails" state_is "$A" shutoff 30
check "so does the source's migration" bash -c "for i in \$(seq 100); do [[ \$(awk '/^status:/ {print \$2}' '$B/job') == failed ]] && exit 0; sleep 0.1; done; exit 1"
check_eq "B still runs" "running" "$(cat "$B/state")"
check "the count goes on on B" count_grows "$B"
check_contains "A's error has QEMU's words" "incoming migration failed: QEMU exited with status 1: " "$(cat "$A/error")"
echo 256M > "$A/memory"

# --- B -> A for real, A's daemon restarted while its QEMU waits
echo "# [${SECONDS}s] B -> A for real, A's daemon restarted while its QE"
: > "$A/error"
echo 'incoming tcp:127.0.0.1:0' > "$A/ctl"
addr=$(cat "$A/incoming")
kill_daemon
check "A's daemon comes back while its QEMU waits" start_daemon --migration-address 127.0.0.1
check_eq "A is still incoming" "incoming" "$(cat "$A/state")"
check_eq "on the same address" "$addr" "$(cat "$A/incoming")"
move "$B" "$A" "B->A"
# A's daemon restarted after the boot, so its console.log starts later: a
# boot on arrival would show.
check_eq "A did not boot the guest again" 0 "$(grep -ac VIRTFS-GUEST-READY "$A/console.log")"
check_eq "A's error stayed empty" "" "$(cat "$A/error")"

# --- a paused guest arrives paused (and goes on when resumed), then back
echo "# [${SECONDS}s] a paused guest arrives paused (and goes on when re"
echo paused > "$A/state"
echo incoming > "$B/state"
addr=$(cat "$B/incoming")
echo "migrate $addr" > "$A/ctl"
check "a paused guest arrives paused" state_is "$B" paused 60
check_eq "reason migrated" "migrated" "$(field "$B/info" reason)"
check "A shows shutoff" state_is "$A" shutoff 30
check "resumed on B" bash -c "echo running > '$B/state'"
check "it counts on on B" count_grows "$B"
echo 'incoming tcp:127.0.0.1:0' > "$A/ctl"
addr=$(cat "$A/incoming")
echo "migrate $addr" > "$B/ctl"
check "and back on A" state_is "$A" running 60
check "B shut off" state_is "$B" shutoff 30

# --- A -> B with A's daemon killed right after the migrate write and
echo "# [${SECONDS}s] A -> B with A's daemon killed right after the migr"
# started again: the new daemon takes the migration up (or finds QEMU
# migrated away) and ends A's QEMU, never resumes it: the guest runs on B
# only.
echo incoming > "$B/state"
addr=$(cat "$B/incoming")
before=$(last_count "$A")
check "migrate A -> B at 16 MiB/s" bash -c "echo 'migrate $addr bandwidth=16' > '$A/ctl'"
kill_daemon
check "A's daemon comes back" start_daemon --migration-address 127.0.0.1
check "B runs the guest" state_is "$B" running 60
check "A shows shutoff" state_is "$A" shutoff 30
check_eq "A's reason is migrated" "migrated" "$(field "$A/info" reason)"
check_eq "A's QEMU is gone" "-1" "$(field "$A/info" pid)"
check "the count goes on on B" count_grows "$B"
check "past where it was on A" bash -c "(( $(last_count "$B") > $before ))"
echo "# after A's restart, its daemon said: $(grep -h "domain 'g'.*\(reattached\|migrat\)" "$DAEMON_LOG" | tail -2 | sed 's/.*domain .g.: //' | paste -sd'|')"
# --- scripts/virtfs-migrate B -> A over ssh (B is "here", A the remote host)
echo "# [${SECONDS}s] scripts/virtfs-migrate B -> A over ssh (B is here,"
sshd_start || exit 1
sshd_add_key root
MIGRATE=("$VIRTFS_SOURCE_ROOT/scripts/virtfs-migrate" --root "$MNT2" --target-root "$MNT"
  --ssh "ssh $(ssh_client_opts root)")
out=$("${MIGRATE[@]}" --bandwidth 1 --timeout 2 -q g root@127.0.0.1 2>&1)
check_eq "virtfs-migrate that times out fails" 1 $?
[[ $out == *kex_* ]] && tail -20 "$SSHD_LOG" | sed 's/^/# sshd: /' 
check_contains "it says the guest stays" "did not move; it runs here (running)" "$out"
check_contains "with the target's reason" "incoming migration failed" "$out"
check_eq "B still runs" "running" "$(cat "$B/state")"
check "the count goes on on B" count_grows "$B"
check "A's waiting QEMU ended" state_is "$A" shutoff 10
mkdir "$MNT/domains/other" && sed "s|<name>g</name>|<name>other</name>|; /<uuid>/d" "$WORK/g.xml" > "$WORK/other.xml"
cp "$WORK/other.xml" "$MNT/domains/other/config.xml"
other_uuid=$(cat "$MNT/domains/other/uuid")
mv "$MNT/domains/g" "$MNT/domains/g-old" && mv "$MNT/domains/other" "$MNT/domains/g"
out=$("${MIGRATE[@]}" -q g root@127.0.0.1 2>&1)
check_eq "virtfs-migrate onto a same-named domain with another UUID fails" 1 $?
check_contains "saying so" "another UUID" "$out"
check_eq "which keeps its UUID" "$other_uuid" "$(cat "$MNT/domains/g/uuid")"
check_eq "B still runs" "running" "$(cat "$B/state")"
rmdir "$MNT/domains/g" && mv "$MNT/domains/g-old" "$MNT/domains/g"
before=$(last_count "$B")
out=$("${MIGRATE[@]}" g root@127.0.0.1 2>"$WORK/progress.txt")
check_eq "virtfs-migrate g root@127.0.0.1 succeeds" 0 $?
check_contains "it reports the figures" "g: migrated to root@127.0.0.1 in " "$out"
check_contains "and showed the progress" "g: active, " "$(cat "$WORK/progress.txt")"
echo "# virtfs-migrate B->A: $out"
check_eq "A runs the guest" "running" "$(cat "$A/state")"
check "the count goes on on A" count_grows "$A"
check "past where it was on B" bash -c "(( $(last_count "$A") > $before ))"
check "B's definition is gone" test ! -e "$B"
check_fails "the script refuses a domain that is not running here" "${MIGRATE[@]}" g root@127.0.0.1
echo destroy > "$A/ctl"
echo "# [${SECONDS}s] stopping the daemons"
stop_second_daemon
echo "# [${SECONDS}s] B stopped"
stop_daemon
echo "# [${SECONDS}s] A stopped"
finish
