#!/usr/bin/env bash
# guest/ (issue 15): the QEMU guest agent of a running domain through the
# mount. One busybox guest that runs qemu-ga on its org.qemu.guest_agent.0
# port (tests/guest/init), plus a domain without the channel. Covers the
# files, the ctl verbs, an agent that hangs (SIGSTOP: the read times out in
# the documented 3 s and blocks nothing else), an agent that is gone
# (SIGKILL: said at once), a daemon restart, reboot through the agent, and
# `echo shutoff > state` of a guest that ignores ACPI (through the agent).
. "$(dirname "$0")/lib.sh"
need_root
need_cmd qemu-system-x86_64
command -v mkfs.ext4 >/dev/null || PATH=$PATH:/usr/sbin:/sbin
need_cmd mkfs.ext4
ensure_guest
[[ -f $GUEST_INITRD_AGENT ]] || skip "the test guest has no qemu-ga (install qemu-guest-agent)"
GUEST_INITRD=$GUEST_INITRD_AGENT
start_daemon || exit 1
D="$MNT/domains"

# ms_since T0_NS
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# An ext4 disk for the guest to mount: the agent lists and freezes
# filesystems on devices only.
mkfs.ext4 -q -F "$WORK/data.img" 16M
AGENT="<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='$WORK/data.img'/><target dev='vda' bus='virtio'/></disk>
    <interface type='user'><mac address='52:54:00:9a:00:01'/><model type='virtio'/></interface>"
define_guest ga "$AGENT" "virtfs.dhcp=0"
define_guest noga

G="$D/ga/guest"
check "guest/ is a directory of the domain" test -d "$G"
check_eq "it lists the agent's files" "addresses ctl filesystems os state time users" \
  "$(ls "$G" | tr '\n' ' ' | sed 's/ $//')"
check_contains "ctl lists its verbs" "fsfreeze" "$(cat "$G/ctl")"
check_contains "a stopped domain: state says so" "connected: no" "$(cat "$G/state")"
check_contains "with the reason" "not running" "$(cat "$G/state")"
check_fails "addresses of a stopped domain fail" cat "$G/addresses"
check_contains "mkdir's default definition has the agent channel" \
  "name='org.qemu.guest_agent.0'" "$(mkdir "$D/fresh" && cat "$D/fresh/config.xml")"
rmdir "$D/fresh"

# --- boot to agent
t0=$(date +%s%N)
check "echo running > state" bash -c "echo running > '$D/ga/state'"
agent_ms= ready_ms=
for ((i = 0; i < 450; i++)); do
  [[ -n $ready_ms ]] || ! grep -q VIRTFS-GUEST-READY "$D/ga/console.log" || ready_ms=$(ms_since "$t0")
  [[ -n $agent_ms ]] || ! grep -q "connected: yes" "$G/state" 2>/dev/null || agent_ms=$(ms_since "$t0")
  [[ -n $agent_ms && -n $ready_ms ]] && break
  sleep 0.2
done
check "the agent connects" test -n "$agent_ms"
echo "# boot to agent: ${agent_ms:-?} ms from echo running > state to guest/state saying connected: yes;" \
  "floor, the same boot to the console's ready marker (qemu-ga starts just before it): ${ready_ms:-?} ms"
state=$(cat "$G/state")
check_contains "state gives the agent's version" "version: $(dpkg-query -W -f='${Version}' qemu-guest-agent | sed 's/^[0-9]*://; s/[+~-].*//')" "$state"
check_contains "and that filesystems are thawed" "filesystems: thawed" "$state"

check "the guest boots" wait_console ga VIRTFS-GUEST-READY
console_cmd ga 'ip link set eth0 up && ip addr add 192.0.2.10/24 dev eth0 && mkdir -p /mnt/data && mount -t ext4 /dev/vda /mnt/data && echo GA-SETUP-DONE'
check "the guest configures eth0 and mounts its disk" wait_console ga GA-SETUP-DONE 1 60

addresses=$(cat "$G/addresses")
check_contains "addresses: loopback IPv4" "lo 00:00:00:00:00:00 ipv4 127.0.0.1/8" "$addresses"
check_contains "addresses: eth0 with its MAC and IPv4" "eth0 52:54:00:9a:00:01 ipv4 192.0.2.10/24" "$addresses"
if [[ -e /proc/net/if_inet6 ]] && grep -q "::1/128" <<<"$addresses"; then
  check_contains "addresses: IPv6" "lo 00:00:00:00:00:00 ipv6 ::1/128" "$addresses"
else
  echo "# the guest kernel has no IPv6 on lo: IPv6 lines not checked"
fi
os=$(cat "$G/os")
check_contains "os: PRETTY_NAME" "pretty_name: virtfs test guest (busybox)" "$os"
check_contains "os: kernel" "kernel_release: $(sed 's/^linux-image-//; s/ .*//' "$VIRTFS_BUILD_ROOT/guest/guest.kernel")" "$os"
check_contains "os: hostname" "hostname: virtfs-guest" "$os"
check "users reads (the guest has no logins)" cat "$G/users"
check_contains "filesystems: the mounted disk, type, used and total" "/mnt/data ext4 vda" \
  "$(cat "$G/filesystems")"
check "filesystems: sizes are numbers" bash -c "grep '^/mnt/data ' '$G/filesystems' | awk '\$4 ~ /^[0-9]+\$/ && \$5 ~ /^[0-9]+\$/ && \$5 > 0' | grep -q ."
time_line=$(cat "$G/time")
check_contains "time: the guest clock, ISO 8601" "$(date -u +%Y-)" "$time_line"

# --- ctl
check "echo fsfreeze > guest/ctl" bash -c "echo fsfreeze > '$G/ctl'"
check_contains "state: frozen" "filesystems: frozen" "$(cat "$G/state")"
console_cmd ga 'if touch /mnt/data/x 2>/dev/null & sleep 2; kill -0 $! 2>/dev/null; then echo GA-WRITE-BLOCKED; else echo GA-WRITE-DONE; fi'
check "the guest waits for the console command" wait_console ga 'GA-WRITE-' 1 30
check_contains "a write in the guest blocks while frozen" "GA-WRITE-BLOCKED" "$(cat "$D/ga/console.log")"
check "echo thaw > guest/ctl" bash -c "echo thaw > '$G/ctl'"
check_contains "state: thawed" "filesystems: thawed" "$(cat "$G/state")"
KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtestkeyvirtfs0123456789abcdefghijklmnop ops@virtfs"
check "echo ssh-key root KEY > guest/ctl" bash -c "echo 'ssh-key root $KEY' > '$G/ctl'"
console_cmd ga 'sed "s/^/GA-AUTHKEY /" /root/.ssh/authorized_keys; echo GA-AUTHKEYS-DONE'
check "the guest lists its authorized keys" wait_console ga GA-AUTHKEYS-DONE 1 30
check_contains "the key is in root's authorized_keys" "GA-AUTHKEY $KEY" "$(tr -d '\r' < "$D/ga/console.log")"
# set-password: the password is the next line, in the same write or a later one
check "set-password root, the password on the next line" \
  bash -c "printf 'set-password root\nS3cret pass\n' > '$G/ctl'"
console_cmd ga 'h=$(awk -F: "\$1 == \"root\" {print \$2}" /etc/passwd); s=${h#\$6\$}; s=${s%%\$*}; [ "$(mkpasswd -m sha512 -S "$s" "S3cret pass")" = "$h" ] && echo GA-PASSWORD-OK || echo GA-PASSWORD-BAD'
check "the guest checks root's password" wait_console ga 'GA-PASSWORD-' 1 30
check_contains "root's password is set in the guest" "GA-PASSWORD-OK" "$(cat "$D/ga/console.log")"
check "the password in a second write" \
  bash -c "{ echo 'set-password root'; sleep 0.3; echo 'other pw'; } > '$G/ctl'"
console_cmd ga 'h=$(awk -F: "\$1 == \"root\" {print \$2}" /etc/passwd); s=${h#\$6\$}; s=${s%%\$*}; [ "$(mkpasswd -m sha512 -S "$s" "other pw")" = "$h" ] && echo GA-PASSWORD2-OK || echo GA-PASSWORD2-BAD'
check "the guest checks it again" wait_console ga 'GA-PASSWORD2-' 1 30
check_contains "the second password is set" "GA-PASSWORD2-OK" "$(cat "$D/ga/console.log")"
# Without the password line it is refused at the last close (release,
# which the kernel sends after close returns): wait for the sentence.
echo 'set-password root' > "$G/ctl"
for ((i = 0; i < 50; i++)); do grep -q "must follow" "$D/ga/error" && break; sleep 0.1; done
check_contains "set-password without a password line says so" "must follow on the next line" \
  "$(cat "$D/ga/error")"
check_fails "set-password of an unknown user fails" \
  bash -c "printf 'set-password nobody9\nx\n' > '$G/ctl'"
check_contains "with the agent's reason" "guest agent refused 'guest-set-user-password'" \
  "$(cat "$D/ga/error")"
check_eq "no password reaches the daemon's log" "0" "$(grep -c -e 'S3cret' -e 'other pw' "$DAEMON_LOG")"
check_fails "an unknown verb is refused" bash -c "echo fly > '$G/ctl'"
check_contains "with the verbs in error" "unknown verb 'fly'" "$(cat "$D/ga/error")"
check_fails "ssh-key without a key is refused" bash -c "echo 'ssh-key root' > '$G/ctl'"
check_contains "and says how" "ssh-key USER KEY" "$(cat "$D/ga/error")"

# --- a hung agent: bounded by the deadline, and only its own readers wait
console_cmd ga 'kill -STOP $(cat /run/qemu-ga.pid) && echo GA-STOPPED'
check "qemu-ga is stopped in the guest" wait_console ga GA-STOPPED 1 30
t0=$(date +%s%N)
( cat "$G/time" >/dev/null 2>"$WORK/hung.err"; echo $? > "$WORK/hung.rc"; ms_since "$t0" > "$WORK/hung.ms" ) &
hung=$!
sleep 0.5
t1=$(date +%s%N)
check_contains "meanwhile the domain's other files answer" "running" "$(cat "$D/ga/state")"
check_contains "and another domain's guest/ too" "connected: no" "$(cat "$D/noga/guest/state")"
echo "# while the agent hangs: state and another domain's guest/state took $(ms_since "$t1") ms"
wait "$hung"
check_eq "the read of a hung agent fails" "1" "$(cat "$WORK/hung.rc")"
check_contains "with ETIMEDOUT" "timed out" "$(cat "$WORK/hung.err")"
check_contains "error says the agent did not answer in 3 s" "did not answer 'guest-sync-delimited' within 3 s" \
  "$(cat "$D/ga/error")"
hung_ms=$(cat "$WORK/hung.ms")
echo "# a hung agent's read failed after $hung_ms ms (deadline 3000 ms)"
check "it failed by the deadline, not later than twice it" test "$hung_ms" -lt 6000
console_cmd ga 'kill -CONT $(cat /run/qemu-ga.pid) && echo GA-CONTINUED'
check "qemu-ga continues" wait_console ga GA-CONTINUED 1 30
check_contains "the agent answers again (stale replies skipped)" "$(date -u +%Y-)" "$(cat "$G/time")"

# --- a daemon restart: the agent is found again
stop_daemon
start_daemon || exit 1
check_contains "after a daemon restart the agent answers" "connected: yes" "$(cat "$G/state")"
check_contains "and addresses read" "eth0 52:54:00:9a:00:01" "$(cat "$G/addresses")"

# --- an agent that is gone: said at once
console_cmd ga 'kill -9 $(cat /run/qemu-ga.pid) && echo GA-KILLED'
check "qemu-ga is killed in the guest" wait_console ga GA-KILLED 1 30
t0=$(date +%s%N)
state=$(cat "$G/state")
echo "# guest/state with the agent killed took $(ms_since "$t0") ms"
check_contains "state: not connected" "connected: no" "$state"
check_contains "because nothing opened the port" "not connected" "$state"
err=$(stderr_of cat "$G/addresses")
check_contains "addresses fail with ENOTCONN" "not connected" "$err"

# --- a domain without the channel says so at once
check "the domain without agent starts" bash -c "echo running > '$D/noga/state'"
t0=$(date +%s%N)
state=$(cat "$D/noga/guest/state")
echo "# guest/state of a domain without agent channel took $(ms_since "$t0") ms"
check_contains "no agent channel" "has no guest agent channel" "$state"
check_fails "its addresses fail" cat "$D/noga/guest/addresses"
check "destroy it" bash -c "echo destroy > '$D/noga/ctl'"

# --- reboot through the agent (after a restart of qemu-ga in the guest)
console_cmd ga 'qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -d -f /run/qemu-ga.pid -t /run && echo GA-RESTARTED'
check "qemu-ga restarted in the guest" wait_console ga GA-RESTARTED 1 30
for ((i = 0; i < 50; i++)); do grep -q "connected: yes" "$G/state" && break; sleep 0.2; done
check "echo reboot > guest/ctl" bash -c "echo reboot > '$G/ctl'"
check "the guest reboots" wait_console ga VIRTFS-GUEST-AGENT-REBOOT 1 30
check "and comes back" wait_console ga VIRTFS-GUEST-READY 1 60
agent_up=
for ((i = 0; i < 150; i++)); do grep -q "connected: yes" "$G/state" && { agent_up=1; break; }; sleep 0.2; done
check "its agent answers again" test -n "$agent_up"

# --- echo shutoff > state: a guest that ignores the power button (acpid
# stopped) is powered off through its agent
console_cmd ga 'kill $(cat /run/acpid.pid) && echo GA-NO-ACPID'
check "acpid is stopped in the guest" wait_console ga GA-NO-ACPID 1 30
t0=$(date +%s%N)
check "echo shutoff > state" bash -c "echo shutoff > '$D/ga/state'"
echo "# shutoff of a guest ignoring ACPI, through the agent: $(ms_since "$t0") ms (the agent is asked at the second press of the button, after 5 s)"
check_eq "the domain is shut off" "shutoff" "$(cat "$D/ga/state")"
check_contains "the agent powered it off" "VIRTFS-GUEST-AGENT-POWEROFF" "$(cat "$D/ga/console.log")"
check_contains "the daemon says it asked the agent" "asked its guest agent to power off" "$(cat "$DAEMON_LOG")"

wait_state noga shutoff 30
stop_daemon
finish
