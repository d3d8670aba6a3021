#!/usr/bin/env bash
# Domain definitions as files (issue 2), driven the way a user would: mkdir,
# cat, echo, cp, sed -i, mv, rm -r, through the real mount.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd setpriv fusermount3 python3

start_daemon || exit 1
D="$MNT/domains"
cat "$MNT/events" > "$WORK/events.txt" &
EVENTS_PID=$!

# --- mkdir defines a VM with defaults
check "mkdir defines a domain" mkdir "$D/web1"
check "the domain is listed" test -d "$D/web1"
xml=$(cat "$D/web1/config.xml")
check_contains "config.xml names the domain" "<name>web1</name>" "$xml"
check_contains "config.xml has a generated uuid" "<uuid>" "$xml"
check_contains "default memory is 512 MiB" "<memory unit='KiB'>524288</memory>" "$xml"
check_contains "default is one vcpu" ">1</vcpu>" "$xml"
# --- what KVM this host has decides the default type (issue 10)
host_kvm=$(host_runs_kvm_guests)
if [[ $host_kvm == 1 ]]; then
  check_contains "a host that runs KVM guests: type kvm" "<domain type='kvm'>" "$xml"
else
  check_contains "a host that cannot run KVM guests: type qemu" "<domain type='qemu'>" "$xml"
fi
node_info=$(cat "$MNT/node/info")
check_contains "node/info's kvm says what the host is" "kvm: $host_kvm" "$node_info"
if [[ $host_kvm == 0 ]]; then
  check_contains "node/info says why KVM is not used" "kvm_unavailable: " "$node_info"
  if [[ -e /dev/kvm ]]; then
    check "the daemon logged why /dev/kvm is not used" grep -q "KVM is not used: " "$DAEMON_LOG"
  fi
else
  check "node/info has no kvm_unavailable line" bash -c "! grep -q kvm_unavailable '$MNT/node/info'"
fi
check_contains "a serial console by default" "<serial type='pty'>" "$xml"
uuid=$(cat "$D/web1/uuid")
check "uuid file holds a uuid" grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "$D/web1/uuid"
check_contains "uuid file matches config.xml" "$uuid" "$xml"
check "the definition is stored" test -f "$STATE/domains/web1.xml"
ls_out=$(ls "$D/web1")
for f in config.xml uuid autostart memory vcpus info error; do
  check_contains "ls shows $f" "$f" "$ls_out"
done
check_eq "stat size of config.xml is the true length" "$(printf '%s\n' "$xml" | wc -c)" "$(stat -c %s "$D/web1/config.xml")"
check_fails "mkdir of an existing domain fails" mkdir "$D/web1"

# --- attribute files
check "echo 2G > memory" sh -c "echo 2G > '$D/web1/memory'"
check_eq "memory reads back in KiB" "2097152" "$(cat "$D/web1/memory")"
check_contains "memory is in config.xml" "<memory unit='KiB'>2097152</memory>" "$(cat "$D/web1/config.xml")"
check "echo 2 > vcpus" sh -c "echo 2 > '$D/web1/vcpus'"
check_contains "vcpus is in config.xml" ">2</vcpu>" "$(cat "$D/web1/config.xml")"
check "plain KiB numbers are accepted" sh -c "printf 1048576 > '$D/web1/memory'"
check_eq "memory without newline applied at close" "1048576" "$(cat "$D/web1/memory")"
check "blanks around a value are accepted" sh -c "echo '  512M  ' > '$D/web1/memory'"
check_eq "512M" "524288" "$(cat "$D/web1/memory")"
err=$(stderr_of bash -c "echo lots > '$D/web1/memory'")
check_contains "a bad size fails in write()" "Invalid argument" "$err"
check_contains "the error file says why" "memory" "$(cat "$D/web1/error")"
check_eq "a bad size changes nothing" "524288" "$(cat "$D/web1/memory")"
check_fails "vcpus 0 is refused" sh -c "echo 0 > '$D/web1/vcpus'"
check_fails "an impossible size is refused" sh -c "echo 99999999999T > '$D/web1/memory'"
check_fails "uuid is read-only" sh -c "echo x > '$D/web1/uuid'"
check "autostart can be set" sh -c "echo 1 > '$D/web1/autostart'"
check_eq "autostart reads back" "1" "$(cat "$D/web1/autostart")"
check "the autostart mark is stored" test -f "$STATE/domains/web1.autostart"
check "autostart can be cleared" sh -c "echo no > '$D/web1/autostart'"
check_contains "info has key: value lines" "memory: 524288" "$(cat "$D/web1/info")"
check "writing the error file clears it" sh -c ": > '$D/web1/error'; echo > '$D/web1/error'"
check_eq "error is empty after clearing" "" "$(cat "$D/web1/error")"
# issue 18: ': > error' alone (open with O_TRUNC, no write) clears it, as
# does truncate(1) by path, and so does any later write that applied
sh -c "echo lots > '$D/web1/memory'" 2>/dev/null
check "': > error' alone clears it" sh -c ": > '$D/web1/error' && [ ! -s '$D/web1/error' ]"
sh -c "echo lots > '$D/web1/memory'" 2>/dev/null
check "truncate -s 0 error clears it" sh -c "truncate -s 0 '$D/web1/error' && [ ! -s '$D/web1/error' ]"
sh -c "echo lots > '$D/web1/memory'" 2>/dev/null
check "a valid write after a refused one" sh -c "echo 512M > '$D/web1/memory'"
check_eq "clears the stale error" "" "$(cat "$D/web1/error")"
sh -c "echo fly > '$D/web1/ctl'" 2>/dev/null
cp "$D/web1/config.xml" "$WORK/same.xml"
check "a document write that applies" cp "$WORK/same.xml" "$D/web1/config.xml"
check_eq "clears the stale error too" "" "$(cat "$D/web1/error")"
err=$(stderr_of bash -c "echo destroy > '$D/web1/ctl'")
check_contains "destroy of a shut-off domain is EBUSY, as every impossible verb" \
  "Device or resource busy" "$err"
check_contains "with a reason" "not running" "$(cat "$D/web1/error")"

# --- idempotent writes: the same content twice stores nothing new
ino_before=$(stat -c %i "$STATE/domains/web1.xml")
check "writing the current memory again succeeds" sh -c "cat '$D/web1/memory' > '$WORK/m'; cat '$WORK/m' > '$D/web1/memory'"
check "writing config.xml back unchanged succeeds" sh -c "cat '$D/web1/config.xml' > '$WORK/c.xml'; cp '$WORK/c.xml' '$D/web1/config.xml'"
check_eq "identical writes did not rewrite the stored file" "$ino_before" "$(stat -c %i "$STATE/domains/web1.xml")"

# --- sed -i (temp file sedXXXXXX + rename)
check "sed -i edits config.xml" sed -i 's/>2<\/vcpu>/>3<\/vcpu>/' "$D/web1/config.xml"
check_eq "sed's change is applied" "3" "$(cat "$D/web1/vcpus")"
check_eq "no scratch file is left" "" "$(ls -A "$D/web1" | grep -E '^sed' || true)"

# --- cp of a new definition, cp of bad XML
domain_xml web1 768 > "$WORK/good.xml"
check "cp of a new definition" cp "$WORK/good.xml" "$D/web1/config.xml"
check_eq "memory follows the new definition" "786432" "$(cat "$D/web1/memory")"
check_eq "a definition without <uuid> keeps the domain's uuid" "$uuid" "$(cat "$D/web1/uuid")"
domain_xml web1 768 "<interface type='user'/>" > "$WORK/nic.xml"
check "cp of a definition with a NIC without <mac>" cp "$WORK/nic.xml" "$D/web1/config.xml"
mac=$(grep -o "mac address='[^']*'" "$D/web1/config.xml")
check_contains "the NIC got a MAC" "52:54:00:" "$mac"
ino_before=$(stat -c %i "$STATE/domains/web1.xml")
check "the same cp again" cp "$WORK/nic.xml" "$D/web1/config.xml"
check_eq "the NIC keeps its MAC" "$mac" "$(grep -o "mac address='[^']*'" "$D/web1/config.xml")"
check_eq "copying the same file twice stores nothing new" "$ino_before" "$(stat -c %i "$STATE/domains/web1.xml")"
check "cp of the definition without the NIC" cp "$WORK/good.xml" "$D/web1/config.xml"
before=$(cat "$D/web1/config.xml")
printf '<domain type="qemu"><name>web1</name><memory>1024</memory><bogus/></domain>' > "$WORK/bad.xml"
check_fails "cp of unsupported XML fails" cp "$WORK/bad.xml" "$D/web1/config.xml"
check_contains "error names the element" "bogus" "$(cat "$D/web1/error")"
check_contains "error names the line" "line 1" "$(cat "$D/web1/error")"
check_eq "bad XML left the definition unchanged" "$before" "$(cat "$D/web1/config.xml")"
printf '<domain><name>web1</name><memory>' > "$WORK/broken.xml"
check_fails "cp of malformed XML fails" cp "$WORK/broken.xml" "$D/web1/config.xml"
check_contains "error says malformed" "malformed" "$(cat "$D/web1/error")"
check_eq "malformed XML left the definition unchanged" "$before" "$(cat "$D/web1/config.xml")"
domain_xml other > "$WORK/other.xml"
check_fails "a definition naming another domain is refused" cp "$WORK/other.xml" "$D/web1/config.xml"
check_contains "error explains the name mismatch" "other" "$(cat "$D/web1/error")"
cat > "$WORK/entity.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE domain [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<domain type='qemu'><name>web1</name><memory>1024</memory><description>&b;</description></domain>
XML
check_fails "entity declarations are refused" cp "$WORK/entity.xml" "$D/web1/config.xml"
cat > "$WORK/xxe.xml" <<'XML'
<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<domain type='qemu'><name>web1</name><memory>1024</memory><description>&x;</description></domain>
XML
check_fails "external entities are refused" cp "$WORK/xxe.xml" "$D/web1/config.xml"
check_eq "entity tricks left the definition unchanged" "$before" "$(cat "$D/web1/config.xml")"

# --- rename of a temp file onto config.xml (the Ansible/rsync commit)
domain_xml web1 640 > "$D/web1/.config.xml.tmp1"
check "a scratch file can be created in the domain directory" test -f "$D/web1/.config.xml.tmp1"
check "chmod of a scratch file" chmod 0600 "$D/web1/.config.xml.tmp1"
check "mv of a scratch file onto config.xml commits it" mv "$D/web1/.config.xml.tmp1" "$D/web1/config.xml"
check_eq "the renamed content is applied" "655360" "$(cat "$D/web1/memory")"
check_fails "the scratch file is gone" test -e "$D/web1/.config.xml.tmp1"
cp "$WORK/bad.xml" "$D/web1/tmpbad"
before=$(cat "$D/web1/config.xml")
check_fails "mv of invalid content onto config.xml fails" mv "$D/web1/tmpbad" "$D/web1/config.xml"
check_eq "a failed rename changes nothing" "$before" "$(cat "$D/web1/config.xml")"
check "the failed scratch file is still there" test -f "$D/web1/tmpbad"
check "rm of a scratch file" rm "$D/web1/tmpbad"

# --- python open('w') and tee and dd
check "python writes a value" python3 -c "open('$D/web1/vcpus','w').write('2')"
check_eq "python's value applied at close" "2" "$(cat "$D/web1/vcpus")"
check "tee writes a value" sh -c "echo 1 | tee '$D/web1/vcpus' >/dev/null"
check_eq "tee's value applied" "1" "$(cat "$D/web1/vcpus")"

# --- mv renames, rm -r undefines
check "mv renames a domain" mv "$D/web1" "$D/web2"
check "the new name is listed" test -d "$D/web2"
check_fails "the old name is gone" test -e "$D/web1"
check_contains "config.xml carries the new name" "<name>web2</name>" "$(cat "$D/web2/config.xml")"
check_eq "the uuid survives a rename" "$uuid" "$(cat "$D/web2/uuid")"
check "the stored file follows the rename" test -f "$STATE/domains/web2.xml"
check_fails "the old stored file is gone" test -e "$STATE/domains/web1.xml"
sleep 0.3
check "the rename event names the old name, then the new" grep -Eq ' domain web1 renamed web2$' "$WORK/events.txt"
mkdir "$D/web3"
check_fails "mv onto an existing domain fails" mv -T "$D/web2" "$D/web3"
check "rm -r undefines a domain" rm -r "$D/web3"
check_fails "the removed domain is gone" test -e "$D/web3"
check_fails "its stored file is gone" test -e "$STATE/domains/web3.xml"

# --- two domains cannot share a UUID
mkdir "$D/twin"
sed "s/<name>web2</<name>twin</" "$D/web2/config.xml" > "$WORK/twin.xml"
check_fails "a second domain with the same uuid is refused" cp "$WORK/twin.xml" "$D/twin/config.xml"
check_contains "the error names the other domain" "web2" "$(cat "$D/twin/error")"
rmdir "$D/twin"

# --- hostile names
check_fails "mkdir .. is refused" mkdir "$D/.."
check_fails "a leading dot is refused" mkdir "$D/.hidden"
check_fails "a newline is refused" mkdir "$D/$(printf 'a\nb')"
check_fails "a 300-byte name is refused" mkdir "$D/$(head -c 300 /dev/zero | tr '\0' x)"
check_fails "a 65-byte name is refused" mkdir "$D/$(head -c 65 /dev/zero | tr '\0' x)"
check "a 64-byte name is accepted" mkdir "$D/$(head -c 64 /dev/zero | tr '\0' y)"
check_fails "a name with a slash is a path, not a domain" mkdir "$D/a/b"
check "names with commas and spaces are accepted" mkdir "$D/a,b c"
check_eq "only valid names were created" "3" "$(ls "$D" | wc -l)"
check_fails "files cannot be created among domains" touch "$D/file"
check_fails "rmdir of the domains directory fails" rmdir "$D"

# --- node/domains: every domain and its state in one read (virsh list --all)
list=$(cat "$MNT/node/domains")
check_contains "node/domains lists a domain with its id and state" "-1 shutoff web2" "$list"
check_contains "names with blanks end the line" "-1 shutoff a,b c" "$list"
check_eq "one line per domain" "$(ls "$D" | wc -l)" "$(wc -l <<<"$list")"

# --- survives unmount and remount; SIGTERM is a clean end, not an error
# (the events reader goes first: a handle still open when the daemon ends
# is never released by libfuse's high-level loop, which LeakSanitizer sees)
kill "$EVENTS_PID"; wait "$EVENTS_PID" 2>/dev/null
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check_eq "SIGTERM ends the daemon with status 0" "0" "$?"
check_fails "no signal number printed as an errno" grep -q "Block device required" "$DAEMON_LOG"
check_contains "the log names the signal" "signal 15" "$(cat "$DAEMON_LOG")"
DAEMON_PID=""
fusermount3 -u "$MNT" 2>/dev/null
check "daemon stopped cleanly" true
start_daemon || exit 1
check "domains survive a remount" test -d "$D/web2"
check_contains "their definitions survive" "655360" "$(cat "$D/web2/config.xml")"
check_eq "names with commas survive" "yes" "$( [[ -d "$D/a,b c" ]] && echo yes)"

# --- a corrupt stored file is reported and skipped, never deleted
echo '<domain><name>broken' > "$STATE/domains/broken.xml"
stop_daemon; start_daemon || exit 1
check_fails "a corrupt definition is not shown" test -e "$D/broken"
check "the corrupt file is left in place" test -f "$STATE/domains/broken.xml"
check_fails "its name cannot be reused while the file is there" mkdir "$D/broken"
check_contains "the daemon logged it" "broken" "$(cat "$DAEMON_LOG")"
rm "$STATE/domains/broken.xml"

# --- permissions: others read, only the owner (and --group) write
chmod 755 "$WORK"
check "an unprivileged user can read" as_user 65534 65534 -- cat "$D/web2/config.xml"
check_fails "an unprivileged user cannot write" as_user 65534 65534 -- sh -c "echo 1 > '$D/web2/vcpus'"
check_fails "an unprivileged user cannot mkdir" as_user 65534 65534 -- mkdir "$D/nobodys"
stop_daemon
start_daemon --group 4242 || exit 1
check_eq "files belong to the --group" "4242" "$(stat -c %g "$D/web2/memory")"
check_eq "the group may write" "-rw-rw-r--" "$(stat -c %A "$D/web2/memory")"
check "a member of --group can write" as_user 65534 65534 4242 -- sh -c "echo 2 > '$D/web2/vcpus'"
check_eq "the group member's write applied" "2" "$(cat "$D/web2/vcpus")"
check "a member of --group can mkdir" as_user 65534 65534 4242 -- mkdir "$D/groupvm"
check_fails "a non-member still cannot write" as_user 65534 65534 -- sh -c "echo 1 > '$D/web2/vcpus'"

finish
