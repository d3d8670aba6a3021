# lib.sh — shared helpers of the integration tests. Source it first:
#   . "$(dirname "$0")/lib.sh"
# Each test gets a scratch directory with a mount point, a state dir and a
# run dir, and starts the real daemon on it. Results are TAP-like lines;
# `finish` exits non-zero if any check failed.
set -u

: "${VIRTFS_BUILD_ROOT:?run through meson test}"
: "${VIRTFS_SOURCE_ROOT:?run through meson test}"
VIRTFS_BIN="$VIRTFS_BUILD_ROOT/fs/virtfs"
TEST_NAME=$(basename "$0" .sh)
failures=0
checks=0

# Skips the test (exit 77), except under CI where a missing prerequisite is
# a failure: the test command installs everything.
skip() {
  echo "SKIP: $*"
  if [[ "${CI:-}" == "true" ]]; then
    echo "not ok - prerequisite missing under CI: $*"
    exit 1
  fi
  exit 77
}

need_root() { [[ $(id -u) -eq 0 ]] || skip "needs root"; }
need_cmd() { for c in "$@"; do command -v "$c" >/dev/null || skip "needs $c"; done; }

pass() { checks=$((checks + 1)); echo "ok $checks - $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "not ok $checks - $*"; }

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
  local desc=$1; shift
  if "$@"; then pass "$desc"; else fail "$desc (command: $*)"; fi
}
# check_fails DESCRIPTION COMMAND...: the command must fail.
check_fails() {
  local desc=$1; shift
  if "$@" 2>/dev/null; then fail "$desc (unexpectedly succeeded: $*)"; else pass "$desc"; fi
}
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}
# check_contains DESCRIPTION NEEDLE HAYSTACK
check_contains() {
  if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1 ('$2' not in '$3')"; fi
}
# errno_of COMMAND...: runs it and prints the strerror text it reported.
# host_runs_kvm_guests: prints 1 when this host's KVM can run an ordinary
# guest (/dev/kvm opens read-write, KVM_CREATE_VM works and the CPU has vmx
# or svm), else 0. Decided here, independently of the daemon, so a test
# checks what the daemon says against what the host is, on either side.
host_runs_kvm_guests() {
  python3 - <<'PY_KVM'
import fcntl, os
try:
    fd = os.open("/dev/kvm", os.O_RDWR)
    vm = fcntl.ioctl(fd, 0xAE01, 0)  # KVM_CREATE_VM
    os.close(vm); os.close(fd)
    flags = [l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")]
    ok = not flags or any("vmx" in f or "svm" in f for f in flags)
except OSError:
    ok = False
print(1 if ok else 0)
PY_KVM
}

stderr_of() { "$@" 2>&1 >/dev/null || true; }

finish() {
  echo "# $TEST_NAME: $checks checks, $failures failed"
  [[ $failures -eq 0 ]]
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/virtfs-$TEST_NAME.XXXXXX")
chmod 755 "$WORK"
MNT="$WORK/mnt"
STATE="$WORK/state"
RUN="$WORK/run"
mkdir -p "$MNT"
DAEMON_PID=""
DAEMON_LOG="$WORK/daemon.log"
cleanup_hooks=()

on_exit() { cleanup_hooks+=("$1"); }

cleanup() {
  local i
  for ((i = ${#cleanup_hooks[@]} - 1; i >= 0; i--)); do eval "${cleanup_hooks[$i]}" || true; done
  stop_daemon >/dev/null 2>&1 || true
  if [[ -s "$DAEMON_LOG" && $failures -gt 0 ]]; then
    echo "# daemon log:"; sed 's/^/#   /' "$DAEMON_LOG" | tail -50
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# DAEMON_PREFIX: words put before the daemon's command line, e.g.
# "nsenter --net=/run/netns/NS" to run it in a network namespace
# (net_lib.sh: netns_prefix). The prefix must exec the daemon, so that
# $DAEMON_PID is the daemon's pid.
DAEMON_PREFIX=${DAEMON_PREFIX:-}

# start_daemon [EXTRA ARGS...]: mounts virtfs on $MNT in the foreground
# (backgrounded here) and waits until the tree answers.
start_daemon() {
  $DAEMON_PREFIX "$VIRTFS_BIN" -f --state-dir "$STATE" --run-dir "$RUN" "$@" "$MNT" >>"$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    if mountpoint -q "$MNT" && [[ -d "$MNT/domains" ]]; then return 0; fi
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      echo "# daemon exited early:"; sed 's/^/#   /' "$DAEMON_LOG"; return 1
    fi
    sleep 0.05
  done
  echo "# daemon did not mount in 10 s"; return 1
}

# stop_daemon: unmounts cleanly and waits for the daemon to exit.
stop_daemon() {
  [[ -n "$DAEMON_PID" ]] || return 0
  fusermount3 -u "$MNT" 2>/dev/null || umount "$MNT" 2>/dev/null || true
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -9 "$DAEMON_PID"
    fusermount3 -uz "$MNT" 2>/dev/null || true
  fi
  wait "$DAEMON_PID" 2>/dev/null
  DAEMON_PID=""
  check_daemon_log
}

# A sanitizer report in the daemon's log is a failure of the test.
check_daemon_log() {
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$DAEMON_LOG" 2>/dev/null; then
    fail "sanitizer report in the daemon log"
    grep -A30 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$DAEMON_LOG" | sed 's/^/#   /' | head -60
    : > "$DAEMON_LOG"
  fi
}

# kill_daemon: kill -9, as a crash would, and detach the dead mount.
kill_daemon() {
  [[ -n "$DAEMON_PID" ]] || return 0
  kill -9 "$DAEMON_PID" 2>/dev/null
  wait "$DAEMON_PID" 2>/dev/null
  fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
  DAEMON_PID=""
}

# A second daemon, for tests of two hosts on one machine (migration): its
# own mount point, state dir, run dir and log under $WORK/b, as
# $MNT2 $STATE2 $RUN2 $DAEMON2_LOG. start_second_daemon [EXTRA ARGS...]
# mounts it (stopped at exit); stop_second_daemon unmounts it and checks
# its log like stop_daemon.
MNT2="$WORK/b/mnt"
STATE2="$WORK/b/state"
RUN2="$WORK/b/run"
DAEMON2_LOG="$WORK/b/daemon.log"
DAEMON2_PID=""
as_second_daemon() { # COMMAND...: runs a command of this file on the second daemon
  local m=$MNT s=$STATE r=$RUN p=$DAEMON_PID l=$DAEMON_LOG rc=0
  MNT=$MNT2 STATE=$STATE2 RUN=$RUN2 DAEMON_PID=$DAEMON2_PID DAEMON_LOG=$DAEMON2_LOG
  "$@" || rc=$?
  DAEMON2_PID=$DAEMON_PID
  MNT=$m STATE=$s RUN=$r DAEMON_PID=$p DAEMON_LOG=$l
  return $rc
}
start_second_daemon() {
  mkdir -p "$MNT2"
  [[ " ${cleanup_hooks[*]} " == *" stop_second_daemon "* ]] || on_exit stop_second_daemon
  as_second_daemon start_daemon "$@"
}
stop_second_daemon() { as_second_daemon stop_daemon; }

# as_user UID GID [SUPPLEMENTARY_GID] -- COMMAND...: runs a command as an
# unprivileged user without creating accounts.
as_user() {
  local uid=$1 gid=$2; shift 2
  local groups="--clear-groups"
  if [[ "$1" != "--" ]]; then groups="--groups=$1"; shift; fi
  shift
  setpriv --reuid="$uid" --regid="$gid" $groups "$@"
}

# domain_xml NAME [MEMORY_MIB] [EXTRA DEVICES XML]: a small valid definition.
domain_xml() {
  local name=$1 mem=${2:-256} extra=${3:-}
  cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <serial type='pty'/>
$extra
  </devices>
</domain>
XML
}

# ---- the test guest (tests/guest/README.md) ----

# ensure_guest: builds (once, cached in the build dir) the tiny guest and
# sets GUEST_KERNEL, GUEST_INITRD and GUEST_INITRD_AGENT.
ensure_guest() {
  local dir="$VIRTFS_BUILD_ROOT/guest"
  if ! "$VIRTFS_SOURCE_ROOT/scripts/build-guest.sh" "$dir" >"$WORK/build-guest.log" 2>&1; then
    sed 's/^/#   /' "$WORK/build-guest.log" | tail -20
    skip "the test guest could not be built"
  fi
  GUEST_KERNEL="$dir/vmlinux"
  GUEST_INITRD="$dir/initrd.img"
  GUEST_INITRD_AGENT="$dir/initrd-agent.img" # with qemu-ga (tests/guest/README.md)
}

GUEST_CMDLINE="console=ttyS0 quiet cryptomgr.notests"

# guest_xml NAME [EXTRA_DEVICES_XML] [EXTRA_CMDLINE] [MEMORY_MIB]: a
# definition that boots the test guest.
guest_xml() {
  local name=$1 extra=${2:-} cmdline=${3:-} mem=${4:-192}
  local xname=${name//&/&amp;}
  xname=${xname//</&lt;}
  cat <<XML
<domain type='qemu'>
  <name>$xname</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST_KERNEL</kernel>
    <initrd>$GUEST_INITRD</initrd>
    <cmdline>$GUEST_CMDLINE $cmdline</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <devices>
    <serial type='pty'/>
$extra
  </devices>
</domain>
XML
}

# define_guest NAME [EXTRA_DEVICES_XML] [EXTRA_CMDLINE]: mkdir + config.xml
define_guest() {
  mkdir "$MNT/domains/$1" && guest_xml "$@" > "$WORK/$1.xml" && cp "$WORK/$1.xml" "$MNT/domains/$1/config.xml"
}

# wait_console DOMAIN PATTERN [COUNT] [TIMEOUT_S]: waits until console.log
# holds PATTERN at least COUNT times.
wait_console() {
  local d=$1 pat=$2 count=${3:-1} timeout=${4:-90} i n
  for ((i = 0; i < timeout * 5; i++)); do
    n=$(grep -c -- "$pat" "$MNT/domains/$d/console.log" 2>/dev/null || true)
    [[ ${n:-0} -ge $count ]] && return 0
    sleep 0.2
  done
  echo "# console of $d after ${timeout}s:"; tail -5 "$MNT/domains/$d/console.log" | sed 's/^/#   /'
  return 1
}

# wait_state DOMAIN STATE [TIMEOUT_S]
wait_state() {
  local i
  for ((i = 0; i < ${3:-30} * 10; i++)); do
    [[ "$(cat "$MNT/domains/$1/state" 2>/dev/null)" == "$2" ]] && return 0
    sleep 0.1
  done
  return 1
}

# console_cmd DOMAIN COMMAND: types a command on the guest's console.
console_cmd() { printf '%s\n' "$2" > "$MNT/domains/$1/console"; }

# ask DOMAIN COMMAND: prints what COMMAND prints in the guest. The guest
# echoes Q2<output>; the typed line shows Q$((1+1)), so only the answer
# matches. Waits for one more answer than console.log held before.
ask() {
  local n
  n=$(grep -ac "Q2<" "$MNT/domains/$1/console.log" 2>/dev/null || true)
  console_cmd "$1" "echo \"Q\$((1+1))<\$($2)>\""
  wait_console "$1" "Q2<" $((${n:-0} + 1)) 30 >&2 || return
  grep -ao "Q2<[^>]*>" "$MNT/domains/$1/console.log" | tail -1 | sed 's/^Q2<//; s/>$//'
}

# process_gone PID: the process has exited. A zombie counts: a QEMU whose
# daemon was killed was adopted by PID 1, which reaps it when it gets to it.
process_gone() {
  local s
  s=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)
  [[ -z $s || $s == Z ]]
}

# qemu_pid DOMAIN: the pid from info
qemu_pid() { awk '/^pid:/ {print $2}' "$MNT/domains/$1/info"; }

# corpus_define PARENT FILE NAME RNG: defines object NAME under PARENT
# (the mount's networks/ or pools/) from FILE through its config.xml, reads
# it back, writes that back, and checks it reads the same and validates
# against the RelaxNG schema RNG (when installed); then removes NAME. A
# NAME that exists already is defined as corpus-NAME (without its UUID).
# Prints why on failure.
corpus_define() {
  local parent=$1 f=$2 name=$3 rng=$4 r=0
  if [[ -e $parent/$name ]]; then # taken (the default network): another name
    sed "s|<name>$name</name>|<name>corpus-$name</name>|; /<uuid>/d" "$f" > "$WORK/corpus0.xml"
    f=$WORK/corpus0.xml name=corpus-$name
  fi
  if ! { mkdir "$parent/$name" && cp "$f" "$parent/$name/config.xml"; } 2>/dev/null; then
    echo "refused: $(cat "$parent/$name/error" 2>/dev/null)"
    rmdir "$parent/$name" 2>/dev/null
    return 1
  fi
  cat "$parent/$name/config.xml" > "$WORK/corpus1.xml"
  cp "$WORK/corpus1.xml" "$parent/$name/config.xml" && cat "$parent/$name/config.xml" > "$WORK/corpus2.xml"
  if ! cmp -s "$WORK/corpus1.xml" "$WORK/corpus2.xml"; then
    echo "not a fixed point"; r=1
  elif [[ -f $rng ]] && ! xmllint --noout --relaxng "$rng" "$WORK/corpus1.xml" 2>/dev/null; then
    echo "what virtfs gives back is not valid for $(basename "$rng")"; r=1
  fi
  rmdir "$parent/$name"
  return $r
}
