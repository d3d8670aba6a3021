#!/usr/bin/env bash
# Faults (issue 7): the daemon killed -9 in the middle of a stream of
# config writes, a state dir that fills up, missing qemu and dnsmasq
# binaries, an unwritable run dir, and a QEMU that never answers QMP. After
# each, the stored definitions are whole (old or new, never torn or lost),
# the failure has a sentence in `error`, and the daemon lives.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"
need_root
need_cmd ip nsenter python3 qemu-system-x86_64
D="$MNT/domains"

# stored_all_load: the daemon logged no stored file as unloadable
stored_all_load() { ! grep -qE 'does not parse|cannot read .*skipped|names .* \(skipped|repeats the UUID' "$DAEMON_LOG"; }

# ---------------------------------------------------------------------------
# 1. kill -9 during a stream of config writes

doms=(w1 w2 w3 w4)
start_daemon || exit 1
# Three definitions per domain (versions 0, 1, 2: 256, 320, 384 MiB and 1,
# 2, 3 vCPUs), each with the domain's UUID, and the canonical text the
# daemon stores for each (learnt by writing it once).
for d in "${doms[@]}"; do
  mkdir "$D/$d"
  uuid=$(cat "$D/$d/uuid")
  for v in 0 1 2; do
    domain_xml "$d" $((256 + 64 * v)) |
      sed "s|<name>$d</name>|<name>$d</name><uuid>$uuid</uuid>|; s|<vcpu>1</vcpu>|<vcpu>$((v + 1))</vcpu>|" > "$WORK/$d-$v.xml"
    cp "$WORK/$d-$v.xml" "$D/$d/config.xml" || fail "defining $d (version $v)"
    cp "$STATE/domains/$d.xml" "$WORK/$d-$v.stored"
  done
done

# stored_version DOMAIN: which version the stored file is, or "torn"
stored_version() {
  local v
  for v in 0 1 2; do cmp -s "$STATE/domains/$1.xml" "$WORK/$1-$v.stored" && { echo "$v"; return; }; done
  echo torn
}

# writer N: writes versions 0, 1, 2, 0, ... into its own domain wN and the
# shared w4, logging each write that succeeded, until killed. A write of
# wN that cp saw succeed must survive the crash: afterwards wN is the last
# version logged or the one after it (in flight at the kill), never older.
writer() {
  local n=$1 v=0 d
  while :; do
    for d in "w$n" w4; do
      cp "$WORK/$d-$v.xml" "$D/$d/config.xml" 2>/dev/null && echo "$d $v" >> "$WORK/writer$n.log"
    done
    v=$(( (v + 1) % 3 ))
  done
}

ROUNDS=5
for round in $(seq "$ROUNDS"); do
  wpids=()
  before=()
  for n in 1 2 3; do before+=("$(stored_version "w$n")"); : > "$WORK/writer$n.log"; writer "$n" & wpids+=($!); done
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  kill -9 "$DAEMON_PID"      # the crash: in the middle of the writes
  kill "${wpids[@]}" 2>/dev/null
  wait "${wpids[@]}" 2>/dev/null
  kill_daemon
  echo "# round $round: $(cat "$WORK"/writer?.log | wc -l) writes went through before kill -9"
  start_daemon || exit 1
  check "round $round: every stored definition loads after the restart" stored_all_load
  for d in "${doms[@]}"; do
    v=$(stored_version "$d")
    if [[ $v == torn ]]; then
      fail "round $round: $d is torn or lost: $(head -c 300 "$STATE/domains/$d.xml" 2>&1)"
    elif [[ $d != w4 ]]; then
      n=${d#w}
      last=$(awk -v d="$d" '$1 == d {v = $2} END {print v}' "$WORK/writer$n.log")
      [[ -z $last ]] && last=${before[$((n - 1))]}   # none went through: the old one
      if [[ $v == "$last" || $v == $(( (last + 1) % 3 )) ]]; then
        pass "round $round: $d holds the last acknowledged version ($last) or the one in flight (it holds $v)"
      else
        fail "round $round: $d lost an acknowledged write: it holds version $v, the last acknowledged was $last"
      fi
    else
      pass "round $round: $d (written by all) is whole: version $v"
    fi
    check "round $round: config.xml of $d shows the stored file" cmp -s "$D/$d/config.xml" "$STATE/domains/$d.xml"
  done
  check_eq "round $round: the tree lists the stored domains" \
    "$(ls "$STATE/domains" | sed -n 's/\.xml$//p' | sort | tr '\n' ' ')" "$(ls "$D" | sort | tr '\n' ' ')"
done
check "writes still work after the last restart" cp "$WORK/w1-0.xml" "$D/w1/config.xml"
stop_daemon

# ---------------------------------------------------------------------------
# 2. the state dir fills up

SMALL="$WORK/state-small"
mkdir "$SMALL"
mount -t tmpfs -o size=1m,mode=0755 virtfs-test "$SMALL" || skip "cannot mount a tmpfs"
on_exit "umount -l '$SMALL'"
BIG_STATE=$STATE
STATE=$SMALL
start_daemon || exit 1
mkdir "$D/s1"
domain_xml s1 256 > "$WORK/s1-a.xml"
domain_xml s1 320 > "$WORK/s1-b.xml"
check "a definition is stored on the small state dir" cp "$WORK/s1-a.xml" "$D/s1/config.xml"
cp "$STATE/domains/s1.xml" "$WORK/s1.stored"
dd if=/dev/zero of="$STATE/filler" bs=4k >/dev/null 2>&1   # until ENOSPC
check_fails "dd filled the state dir" dd if=/dev/zero of="$STATE/filler2" bs=4k count=1
err=$(stderr_of cp "$WORK/s1-b.xml" "$D/s1/config.xml")
check_contains "cp onto config.xml fails when the state dir is full" "No space left" "$err"
check_contains "error says why" "No space left" "$(cat "$D/s1/error")"
check "the stored definition is intact" cmp -s "$STATE/domains/s1.xml" "$WORK/s1.stored"
check "config.xml still reads the old definition" cmp -s "$D/s1/config.xml" "$WORK/s1.stored"
check_fails "echo to memory fails as well" bash -c "echo 300M > '$D/s1/memory'"
check_eq "memory keeps its old value" "262144" "$(cat "$D/s1/memory")"
check_fails "mkdir of a new domain fails" mkdir "$D/s2"
check_fails "and it does not appear" test -e "$D/s2"
check_eq "no temporary file is left behind" "" "$(ls -A "$STATE/domains" | grep -v '^s1\.xml$')"
check "the daemon lives" kill -0 "$DAEMON_PID"
rm -f "$STATE/filler"
check "after freeing space the write works" cp "$WORK/s1-b.xml" "$D/s1/config.xml"
check_contains "and is stored" "<memory unit='KiB'>327680</memory>" "$(cat "$STATE/domains/s1.xml")"
check "mkdir works again" mkdir "$D/s2"
stop_daemon
STATE=$BIG_STATE

# ---------------------------------------------------------------------------
# 3. an unwritable run dir or state dir: a clear error before mounting

startup_error() { # DIR_OPTION DIR: the daemon's stderr and exit status
  local m="$WORK/mnt-bad" out status
  mkdir -p "$m"
  out=$(timeout 20 "$VIRTFS_BIN" -f --state-dir "${3:-$STATE}" "$1" "$2" "$m" 2>&1)
  status=$?
  mountpoint -q "$m" && fusermount3 -uz "$m"
  echo "status=$status $out"
}
touch "$WORK/a-file"
out=$(startup_error --run-dir "$WORK/a-file/run")
check_contains "a run dir below a file is refused with exit status 1" "status=1 " "$out"
check_contains "with a sentence naming it" "run directory $WORK/a-file/run" "$out"
mkdir -p "$WORK/ro"
if mount --bind "$WORK/ro" "$WORK/ro" && mount -o remount,bind,ro "$WORK/ro"; then
  on_exit "umount -l '$WORK/ro'"
  out=$(startup_error --run-dir "$WORK/ro")
  check_contains "a read-only run dir is refused with exit status 1" "status=1 " "$out"
  check_contains "with a sentence" "run directory $WORK/ro is not writable: Read-only file system" "$out"
  out=$(startup_error --run-dir "$RUN" "$WORK/ro")
  check_contains "a read-only state dir is refused with exit status 1" "status=1 " "$out"
  check_contains "with a sentence naming it" "$WORK/ro" "$out"
  check_contains "and the cause" "Read-only file system" "$out"
else
  fail "cannot make a read-only bind mount"
fi
check_fails "no sanitizer report at those exits" grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$out"

# ---------------------------------------------------------------------------
# 4. missing binaries and a QEMU that never answers, with the daemon in a
# network namespace of its own (the network start makes a bridge)

NS="vfs$$f"
netns_create "$NS" || { echo "cannot create a network namespace"; exit 1; }
DAEMON_PREFIX=$(netns_prefix "$NS")
start_daemon --dnsmasq /nonexistent/dnsmasq --qmp-timeout 3 || exit 1

# a missing emulator
mkdir "$D/nq"
domain_xml nq 128 "    <emulator>/nonexistent/qemu</emulator>" > "$WORK/nq.xml"
check "a definition naming a missing emulator is accepted" cp "$WORK/nq.xml" "$D/nq/config.xml"
err=$(stderr_of bash -c "echo running > '$D/nq/state'")
check_contains "echo running fails with ENOENT" "No such file or directory" "$err"
check_contains "error names the binary" "/nonexistent/qemu" "$(cat "$D/nq/error")"
check_eq "the domain stays shut off" "shutoff" "$(cat "$D/nq/state")"
check "the daemon lives" kill -0 "$DAEMON_PID"

# a missing dnsmasq
mkdir "$MNT/networks/fn"
cat > "$WORK/fn.xml" <<XML
<network>
  <name>fn</name>
  <bridge name='vfsfn$$'/>
  <ip address='10.78.1.1' prefix='24'>
    <dhcp><range start='10.78.1.10' end='10.78.1.20'/></dhcp>
  </ip>
</network>
XML
check "a network with DHCP is defined" cp "$WORK/fn.xml" "$MNT/networks/fn/config.xml"
err=$(stderr_of bash -c "echo active > '$MNT/networks/fn/state'")
check_contains "starting it fails with ENOENT" "No such file or directory" "$err"
check_contains "error names dnsmasq" "dnsmasq ('/nonexistent/dnsmasq') was not found" "$(cat "$MNT/networks/fn/error")"
check_eq "the network stays inactive" "inactive" "$(cat "$MNT/networks/fn/state")"
check_fails "its bridge was removed again" ip -n "$NS" link show "vfsfn$$"
check "the daemon lives" kill -0 "$DAEMON_PID"

# QEMU that never answers: one never makes the socket, one makes it and
# stays silent. Both must be killed, the start must fail with ETIMEDOUT.
TAG="vfs-fake-$$"
cat > "$WORK/qemu-sleeps" <<SH
#!/bin/bash
exec -a $TAG-sleeps sleep 300
SH
cat > "$WORK/qemu-silent" <<SH
#!/bin/bash
exec -a $TAG-silent python3 - "\$@" <<'PY'
import socket, sys, time
path = next(a.split("path=", 1)[1].split(",server", 1)[0] for a in sys.argv if "id=charmonitor" in a)
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(8)
held = []
while True:
    held.append(s.accept()[0])  # accepted, never answered
PY
SH
chmod +x "$WORK/qemu-sleeps" "$WORK/qemu-silent"
for kind in sleeps silent; do
  mkdir "$D/hang-$kind"
  domain_xml "hang-$kind" 128 "    <emulator>$WORK/qemu-$kind</emulator>" > "$WORK/hang-$kind.xml"
  cp "$WORK/hang-$kind.xml" "$D/hang-$kind/config.xml"
  t0=$(date +%s%N)
  err=$(stderr_of bash -c "echo running > '$D/hang-$kind/state'")
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "# the start of a QEMU that $kind failed after $ms ms"
  check_contains "$kind: echo running fails with ETIMEDOUT" "timed out" "$err"
  check "$kind: it gave up after the QMP timeout (3 s), not much later" test "$ms" -ge 2900 -a "$ms" -lt 8000
  check_contains "$kind: error says QEMU did not answer" "did not answer on its QMP socket within 3000 ms and was killed" "$(cat "$D/hang-$kind/error")"
  check_fails "$kind: the fake QEMU was killed" pgrep -f "$TAG-$kind"
  check_eq "$kind: the domain is shut off" "shutoff" "$(cat "$D/hang-$kind/state")"
  check "$kind: the daemon lives" kill -0 "$DAEMON_PID"
done
check "a read of the tree still answers" test -n "$(ls "$D/hang-sleeps")"
stop_daemon
DAEMON_PREFIX=""

finish
