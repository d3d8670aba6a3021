#!/usr/bin/env bash
# The mount used from another machine through sshfs (issue 6): a private
# sshd on 127.0.0.1 serves the virtfs mount over SFTP and sshfs mounts it
# back, so every operation below crosses ssh exactly as from a remote host.
#
# 1. As root: the everyday scenario (mkdir, cp, sed -i, echo, mv, rm -r),
#    what happens to errors (a failing close never reaches an sshfs client:
#    the `error` file is the only witness), and freshness: with the options
#    docs/filesystem.md recommends, changes made on the host show at once.
# 2. Unprivileged logins and --group: the daemon runs with --group nogroup;
#    `nobody` (primary group nogroup) may change things, `daemon` (uid 1,
#    group daemon) may only read. Both are accounts every Debian system
#    has, with the shell nologin: the SFTP subsystem is internal-sftp, so
#    no shell ever runs, and no account is created or modified.
# 3. The lifecycle from afar: a diskless domain started and destroyed
#    through sshfs with events followed over ssh (boot_scenario), and the
#    test guest booted, given a command on its console over ssh and shut
#    down gracefully (guest_scenario).
. "$(dirname "$0")/lib.sh"
need_root
need_cmd sshfs ssh ssh-keygen fusermount3 python3 sed
. "$(dirname "$0")/sshd_lib.sh"
getent passwd nobody >/dev/null && getent passwd daemon >/dev/null || skip "needs the accounts nobody and daemon"

# What docs/filesystem.md recommends for sshfs clients:
#   cache=no          sshfs keeps no directory or attribute cache of its own
#   entry_timeout=0   the client kernel re-checks names at every lookup
#                     (else a domain removed on the host stays visible 1 s)
#   attr_timeout=0    ... and sizes and modes (else stat is up to 1 s old)
#   sshfs_sync        writes are sent synchronously, so `echo bad > memory`
#                     fails at the client (EIO) instead of silently
SSHFS_OPTS=(-o cache=no,entry_timeout=0,attr_timeout=0,sshfs_sync)

NOGROUP=$(getent group nogroup | cut -d: -f3)
start_daemon --group "$NOGROUP" || exit 1
sshd_start || exit 1
sshd_add_key root
sshd_add_key nobody
sshd_add_key daemon

check_eq "ssh logs in as root" "0.1.0" "$(ssh_as root cat "$MNT/node/version")"

ROOT_C="$WORK/as-root"
check "sshfs mounts the tree as root" sshfs_mount root "$MNT" "$ROOT_C" "${SSHFS_OPTS[@]}"
check "the remote tree lists domains and node" test -d "$ROOT_C/domains" -a -d "$ROOT_C/node"
check_contains "node/info is readable remotely" "hypervisor: " "$(cat "$ROOT_C/node/info")"

# everyday_scenario CLIENT LABEL NAME: the life of a definition, done
# entirely through the sshfs mount CLIENT; checked from the host's side
# ($MNT) too, so a change that only looks right on the client is caught.
everyday_scenario() {
  local c=$1 who=$2 name=$3
  local d="$c/domains/$name" h="$MNT/domains/$name"

  check "$who: mkdir defines a domain" mkdir "$d"
  check "$who: the host sees it" test -f "$h/config.xml"

  domain_xml "$name" 768 > "$WORK/$name.xml"
  check "$who: cp of a definition" cp "$WORK/$name.xml" "$d/config.xml"
  check_eq "$who: memory follows the copied definition" "786432" "$(cat "$d/memory")"

  check "$who: sed -i edits config.xml" sed -i "s/>1<\/vcpu>/>2<\/vcpu>/" "$d/config.xml"
  check_eq "$who: sed's edit is applied" "2" "$(cat "$d/vcpus")"
  check_eq "$who: sed left no temporary file" "" "$(ls -A "$h" | grep -E '^sed|^\.fuse_hidden' || true)"

  check "$who: echo 2G > memory" sh -c "echo 2G > '$d/memory'"
  check_eq "$who: memory reads back in KiB" "2097152" "$(cat "$d/memory")"
  check_eq "$who: the host agrees" "2097152" "$(cat "$h/memory")"
  check_contains "$who: config.xml shows it" "<memory unit='KiB'>2097152</memory>" "$(cat "$d/config.xml")"

  # A bad value: with sshfs_sync the write itself fails at the client.
  check_fails "$who: echo of a bad size fails at the client" sh -c "echo lots > '$d/memory'"
  check_contains "$who: error explains the bad size" "'lots' is not a size" "$(cat "$d/error")"
  check_eq "$who: the bad size changed nothing" "2097152" "$(cat "$d/memory")"

  # A bad document: the sentence comes at close, which SFTP clients never
  # hear about: cp "succeeds", error says why, nothing changed.
  local before
  before=$(cat "$h/config.xml")
  printf '<domain><name>%s</name><memory>' "$name" > "$WORK/bad.xml"
  check "$who: cp of invalid XML succeeds at the client (close errors are lost)" \
    cp "$WORK/bad.xml" "$d/config.xml"
  check_contains "$who: error explains the invalid XML" "malformed XML" "$(cat "$d/error")"
  check_eq "$who: the invalid XML changed nothing" "$before" "$(cat "$h/config.xml")"
  check_eq "$who: ... as seen through sshfs too" "$before" "$(cat "$d/config.xml")"
  # A whole, well-formed but invalid document is refused by the write
  # itself, which SFTP does report: cp and echo fail at the client.
  printf '<domain type="qemu"><name>%s</name><memory>1048576</memory><vcpu>lots</vcpu></domain>\n' "$name" > "$WORK/whole.xml"
  check_fails "$who: cp of a whole invalid document fails at the client" \
    cp "$WORK/whole.xml" "$d/config.xml"
  check_contains "$who: error explains the invalid document" "vcpu" "$(cat "$d/error")"
  check_fails "$who: echo of a whole invalid document fails at the client" \
    sh -c "echo '<domain>bad</domain>' > '$d/config.xml'"
  check_eq "$who: the whole invalid documents changed nothing" "$before" "$(cat "$h/config.xml")"
  # A rename is answered at once: an editor's invalid result is refused.
  check_fails "$who: sed -i producing invalid XML fails at the client" \
    sed -i "s/<\/domain>/<bogus\/><\/domain>/" "$d/config.xml"
  check_contains "$who: error names the element" "bogus" "$(cat "$d/error")"
  check_eq "$who: the refused edit changed nothing" "$before" "$(cat "$h/config.xml")"
  ls -A "$h" | grep -E '^sed' | while read -r f; do rm -f "$h/$f"; done
  check "$who: writing error clears it" sh -c "echo > '$d/error'"
  check_eq "$who: error is empty" "" "$(cat "$d/error")"

  local uuid
  uuid=$(cat "$d/uuid")
  check "$who: mv renames the domain" mv "$d" "$d-renamed"
  check_eq "$who: the host sees the new name" "yes" "$([[ -d "$h-renamed" && ! -e "$h" ]] && echo yes)"
  check_contains "$who: config.xml carries the new name" "<name>$name-renamed</name>" \
    "$(cat "$d-renamed/config.xml")"
  check_eq "$who: the uuid survives" "$uuid" "$(cat "$d-renamed/uuid")"

  check "$who: rm -r undefines the domain" rm -r "$d-renamed"
  check_fails "$who: it is gone on the client" test -e "$d-renamed"
  check_fails "$who: it is gone on the host" test -e "$h-renamed"
  check_fails "$who: its stored file is gone" test -e "$STATE/domains/$name-renamed.xml"
}

everyday_scenario "$ROOT_C" root web1

# --- freshness: changes made on the host show through sshfs at once
mkdir "$MNT/domains/fresh"
cat "$ROOT_C/domains/fresh/memory" >/dev/null
stat "$ROOT_C/domains/fresh/memory" >/dev/null
ls "$ROOT_C/domains" >/dev/null
echo 16G > "$MNT/domains/fresh/memory"
check_eq "a longer value written on the host reads whole at once" "16777216" \
  "$(cat "$ROOT_C/domains/fresh/memory")"
check_eq "stat shows its new size at once" "9" "$(stat -c %s "$ROOT_C/domains/fresh/memory")"
mkdir "$MNT/domains/fresh2"
check "a domain defined on the host is visible at once" test -d "$ROOT_C/domains/fresh2"
check_contains "... and listed" "fresh2" "$(ls "$ROOT_C/domains")"
rmdir "$MNT/domains/fresh2"
check_fails "a domain removed on the host is gone at once" test -e "$ROOT_C/domains/fresh2"
check_eq "... and not listed" "" "$(ls "$ROOT_C/domains" | grep fresh2 || true)"
rmdir "$MNT/domains/fresh"

# --- unprivileged logins: nobody is in --group (nogroup), daemon is not
NOBODY_C="$WORK/as-nobody"
DAEMON_C="$WORK/as-daemon"
check "sshfs mounts the tree as nobody" sshfs_mount nobody "$MNT" "$NOBODY_C" "${SSHFS_OPTS[@]}"
check "sshfs mounts the tree as daemon" sshfs_mount daemon "$MNT" "$DAEMON_C" "${SSHFS_OPTS[@]}"

everyday_scenario "$NOBODY_C" "nobody (in --group)" web2

mkdir "$MNT/domains/guarded"
before=$(cat "$MNT/domains/guarded/config.xml")
check_eq "files belong to the --group" "$NOGROUP" "$(stat -c %g "$MNT/domains/guarded/memory")"
check_eq "daemon (not in --group) can read config.xml" "$before" "$(cat "$DAEMON_C/domains/guarded/config.xml")"
check_contains "daemon can read node/info" "cpus: " "$(cat "$DAEMON_C/node/info")"
check_fails "daemon cannot write a value" sh -c "echo 2G > '$DAEMON_C/domains/guarded/memory'"
check_fails "daemon cannot replace config.xml" cp "$WORK/web1.xml" "$DAEMON_C/domains/guarded/config.xml"
check_fails "daemon cannot sed -i config.xml" sed -i "s/>1<\/vcpu>/>2<\/vcpu>/" "$DAEMON_C/domains/guarded/config.xml"
check_fails "daemon cannot define a domain" mkdir "$DAEMON_C/domains/intruder"
check_fails "daemon cannot rename a domain" mv "$DAEMON_C/domains/guarded" "$DAEMON_C/domains/stolen"
check_fails "daemon cannot undefine a domain" rmdir "$DAEMON_C/domains/guarded"
check_eq "daemon's attempts changed nothing" "$before" "$(cat "$MNT/domains/guarded/config.xml")"
check_eq "no domain appeared" "guarded" "$(ls "$MNT/domains")"
check "nobody (in --group) can change what daemon could not" sh -c "echo 2G > '$NOBODY_C/domains/guarded/memory'"
check_eq "nobody's write applied" "2097152" "$(cat "$MNT/domains/guarded/memory")"

# --- the lifecycle from a remote machine: a diskless domain (QEMU runs its
# firmware, which finds nothing to boot and waits), started and destroyed
# through sshfs. Streams (events, console) are followed over plain ssh, not
# sshfs: an SFTP server answers one request at a time per session, so a
# read that blocks until the next event would stall every other operation
# of the sshfs mount (docs/filesystem.md).
boot_scenario() {
  local d="$ROOT_C/domains/bootvm" events
  check "boot: mkdir bootvm" mkdir "$d"
  # The remote reader says "ready" once events is open, then copies two
  # lines. bash's read takes a line at a time from a stream; head, grep and
  # awk read ahead in blocks (or try to seek back) and would wait for more.
  ssh_as root "exec 3< '$MNT/events' && echo ready &&
    timeout 60 bash -c 'for i in 1 2; do IFS= read -r l <&3 && printf \"%s\\n\" \"\$l\"; done'" \
    > "$WORK/events.txt" &
  local events_pid=$! i
  for ((i = 0; i < 300; i++)); do
    grep -qx ready "$WORK/events.txt" && break
    sleep 0.1
  done
  check_eq "boot: ssh follows /virt/events" "ready" "$(head -n 1 "$WORK/events.txt")"
  check "boot: echo running > state" sh -c "echo running > '$d/state'"
  check_eq "boot: state reads running at once" "running" "$(cat "$d/state")"
  check "boot: id is a number while running" grep -Eq '^[0-9]+$' "$d/id"
  check_contains "boot: live.xml shows the running definition" "<name>bootvm</name>" "$(cat "$d/live.xml")"
  check_fails "boot: rmdir is refused while running" rmdir "$d"
  check_contains "boot: error says why" "active" "$(cat "$d/error")"
  check "boot: console.log can be read" cat "$d/console.log"
  check "boot: a member of --group can open the console" cat "$NOBODY_C/domains/bootvm/console"
  check_fails "boot: a non-member cannot open the console" cat "$DAEMON_C/domains/bootvm/console"
  check_fails "boot: a non-member cannot stop it" sh -c "echo destroy > '$DAEMON_C/domains/bootvm/ctl'"
  check "boot: echo destroy > ctl" sh -c "echo destroy > '$d/ctl'"
  check_eq "boot: state reads shutoff" "shutoff" "$(cat "$d/state")"
  wait "$events_pid"
  events=$(cat "$WORK/events.txt")
  check_contains "boot: events saw it start" "domain bootvm started" "$events"
  check_contains "boot: events saw it stop" "domain bootvm stopped destroyed" "$events"
  check "boot: rmdir once stopped" rmdir "$d"
}

# wait_for FILE PATTERN [TIMEOUT_S]: until FILE (read through sshfs)
# holds PATTERN.
wait_for() {
  local i
  for ((i = 0; i < ${3:-120} * 5; i++)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "# $1 after ${3:-120}s:"; tail -5 "$1" | sed 's/^/#   /'
  return 1
}

# guest_scenario: the test guest (tests/guest) booted, used and shut down
# gracefully from afar: state and console.log through sshfs, the console
# stream over ssh.
guest_scenario() {
  local dir="$VIRTFS_BUILD_ROOT/guest" d="$ROOT_C/domains/guestvm"
  if ! "$VIRTFS_SOURCE_ROOT/scripts/build-guest.sh" "$dir" > "$WORK/build-guest.log" 2>&1; then
    sed 's/^/#   /' "$WORK/build-guest.log" | tail -20
    if [[ "${CI:-}" == "true" ]]; then fail "the test guest could not be built"; fi
    echo "# guest_scenario skipped: the test guest could not be built"
    return 0
  fi
  GUEST_KERNEL="$dir/vmlinux"
  GUEST_INITRD="$dir/initrd.img"
  check "guest: mkdir through sshfs" mkdir "$d"
  guest_xml guestvm > "$WORK/guestvm.xml"
  check "guest: cp of a direct-kernel definition" cp "$WORK/guestvm.xml" "$d/config.xml"
  check "guest: echo running > state" sh -c "echo running > '$d/state'"
  check "guest: console.log shows the guest ready" wait_for "$d/console.log" VIRTFS-GUEST-READY
  ssh_as root "printf '%s\n' 'echo hello-over-ssh-\$((6*7))' > '$MNT/domains/guestvm/console'"
  check "guest: a command typed on the console over ssh runs" wait_for "$d/console.log" hello-over-ssh-42 30
  check "guest: echo shutoff > state (ACPI power button)" sh -c "echo shutoff > '$d/state'"
  check_eq "guest: state reads shutoff" "shutoff" "$(cat "$d/state")"
  check "guest: rmdir once stopped" rmdir "$d"
}

boot_scenario
guest_scenario

grep -q "Accepted publickey for nobody" "$SSHD_LOG" && pass "sshd logged nobody's login" \
  || fail "sshd logged nobody's login"

finish
