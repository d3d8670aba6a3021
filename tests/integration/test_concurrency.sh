#!/usr/bin/env bash
# Concurrency (issue 7): 8 client processes for a bounded time against the
# same objects: readers (cat of every file, ls -l), writers (memory, vcpus,
# config.xml by cp and sed -i), renames (mv of domain dirs), mkdir/rmdir,
# and starts/stops/suspends of test guests. Errors from races are expected
# and ignored. Afterwards: the daemon is alive with no sanitizer report,
# every stored definition loads, the tree shows the state dir's domains,
# and no VM is orphaned (each QEMU of this run dir belongs to a domain shown
# active, and each domain shown active has its QEMU). The daemon is then
# restarted and must find the same running domains.
#
#   VIRTFS_STRESS_SECONDS=600 meson test -C build-san test_concurrency
# runs the clients for 10 minutes instead of the default 60 s.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd qemu-system-x86_64 pgrep
ensure_guest
SECONDS_TO_RUN=${VIRTFS_STRESS_SECONDS:-60}
# A graceful shutoff of a guest that has not booted yet waits for nothing:
# keep such waits short so the clients keep moving.
start_daemon --state-timeout 10 || exit 1
D="$MNT/domains"

# Every QEMU started from this run dir is killed at exit, whatever happened.
on_exit "pkill -9 -f -- '-pidfile $RUN/' ; sleep 0.2"

# ---- head to head: a start against rmdir, and against mv, of the same
# domain. Before the fix, rmdir could win while the start went on (a QEMU
# running for a domain that no longer exists) and mv could rename a domain
# whose QEMU was starting under its old name. (Both a start and an mv may
# succeed: the write goes to the object its open handle names, renamed or
# not; but then it must run under its new name.) The race is a matter of
# microseconds, so each round is a new try; 30 rounds catch the old bug
# most of the time.
both_rmdir=0 misnamed=0
for i in $(seq 30); do
  for op in rmdir mv; do
    mkdir "$D/h" && domain_xml h 64 > "$WORK/h.xml" && cp "$WORK/h.xml" "$D/h/config.xml"
    rm -f "$WORK/started" "$WORK/done"
    (echo running > "$D/h/state" && touch "$WORK/started") 2>/dev/null &
    p1=$!
    if [[ $op == rmdir ]]; then (rmdir "$D/h" && touch "$WORK/done") 2>/dev/null &
    else (mv "$D/h" "$D/h2" && touch "$WORK/done") 2>/dev/null &
    fi
    wait "$p1" $!
    if [[ $op == rmdir && -e "$WORK/started" && -e "$WORK/done" ]]; then
      both_rmdir=$((both_rmdir + 1))
    fi
    for n in h h2; do
      [[ -d "$D/$n" ]] || continue
      if [[ $(cat "$D/$n/state") == running ]] && ! grep -q "<name>$n</name>" "$D/$n/live.xml"; then
        misnamed=$((misnamed + 1))
      fi
      echo destroy > "$D/$n/ctl"; rmdir "$D/$n"
    done
    pkill -9 -f -- "-pidfile $RUN/" && sleep 0.3   # an orphan of the old bug
  done
done
check_eq "a start and an rmdir of the same domain never both succeed" 0 "$both_rmdir"
check_eq "a domain started while it was renamed runs under its new name" 0 "$misnamed"
check_eq "no domain is left from the head-to-head rounds" "" "$(ls "$D")"
echo "# head to head took $SECONDS s"

# ---- 8 clients
guests=(g1 g2 g3)
plain=(c1 c2 c3 c4)
for g in "${guests[@]}"; do define_guest "$g" "" "" || fail "define $g"; done
for c in "${plain[@]}"; do
  mkdir "$D/$c" && domain_xml "$c" 128 > "$WORK/$c.xml" && cp "$WORK/$c.xml" "$D/$c/config.xml" || fail "define $c"
done

END=$(( $(date +%s) + SECONDS_TO_RUN ))
running() { [[ $(date +%s) -lt $END ]]; }
# a random element of the arguments
pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
# the domain directories now (names only)
dirs() { local p; for p in "$D"/*/; do p=${p%/}; echo "${p##*/}"; done; }
# some existing domain, or one of the usual names if the listing is empty
some_domain() { local l; mapfile -t l < <(dirs); pick "${l[@]}" "${guests[@]}" "${plain[@]}"; }

# Each client counts what it tried and what failed (races make failures).
client() { # NAME BODY-FUNCTION
  local name=$1 fn=$2 ok=0 bad=0
  while running; do
    if "$fn" >/dev/null 2>&1; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
  done
  echo "$name $ok $bad" > "$WORK/client-$name.count"
}

read_all() { # cat of every file of every domain, but not the console stream
  local d f
  for d in $(dirs); do
    for f in "$D/$d"/*; do
      [[ ${f##*/} == console ]] && continue
      cat "$f" >/dev/null 2>&1
    done
  done
  ls -l "$D" >/dev/null && ls -l "$D/$(some_domain)" >/dev/null
}
read_some() { local d; d=$(some_domain); cat "$D/$d/state" "$D/$d/info" "$D/$d/config.xml" "$D/$d/live.xml" "$D/$d/stats"; }
write_values() {
  local d; d=$(some_domain)
  case $((RANDOM % 3)) in
    0) echo "$((128 + RANDOM % 128))M" > "$D/$d/memory" ;;
    1) echo "$((1 + RANDOM % 2))" > "$D/$d/vcpus" ;;
    2) echo $((RANDOM % 2)) > "$D/$d/autostart" ;;
  esac
}
write_config() {
  local d; d=$(some_domain)
  case $((RANDOM % 3)) in
    0) [[ -f "$WORK/$d.xml" ]] && cp "$WORK/$d.xml" "$D/$d/config.xml" ;;
    1) sed -i "s|<vcpu\([^>]*\)>[0-9]*</vcpu>|<vcpu\1>$((1 + RANDOM % 2))</vcpu>|" "$D/$d/config.xml" ;;
    2) sed -i "s|<memory unit='KiB'>[0-9]*</memory>|<memory unit='KiB'>$(( (128 + RANDOM % 64) * 1024 ))</memory>|" "$D/$d/config.xml" ;;
  esac
}
renames() { # mv a domain to a new name and back (refused while it runs)
  local d; d=$(some_domain)
  if [[ $d == *-mv ]]; then mv "$D/$d" "$D/${d%-mv}"; else mv "$D/$d" "$D/$d-mv"; fi
}
mkdir_rmdir() {
  local t
  case $((RANDOM % 4)) in
    0|1) t=$(pick t1 t2 t3); mkdir "$D/$t" && rmdir "$D/$t" ;;
    2) mkdir "$D/$(pick t1 t2 t3 "${plain[@]}" "${guests[@]}")" ;;
    3) rmdir "$D/$(some_domain)" ;;   # refused while active
  esac
}
lifecycle() { # on the guests, whatever they are called now
  local d; d=$(pick $(dirs | grep '^g') "${guests[@]}")
  case $((RANDOM % 8)) in
    0|1|2) echo running > "$D/$d/state" ;;
    3|4) echo destroy > "$D/$d/ctl" ;;
    5) echo paused > "$D/$d/state" ;;
    6) echo shutoff > "$D/$d/state" ;;
    7) echo start > "$D/$d/ctl" ;;
  esac
}

cpids=()
client reader read_all & cpids+=($!)
client reader2 read_some & cpids+=($!)
client values write_values & cpids+=($!)
client config write_config & cpids+=($!)
client rename renames & cpids+=($!)
client mkdir mkdir_rmdir & cpids+=($!)
client lifecycle1 lifecycle & cpids+=($!)
client lifecycle2 lifecycle & cpids+=($!)
echo "# 8 clients for $SECONDS_TO_RUN s"
for p in "${cpids[@]}"; do wait "$p"; done
cat "$WORK"/client-*.count | while read -r n ok bad; do echo "# client $n: $ok succeeded, $bad failed"; done

check "the daemon is alive after the clients" kill -0 "$DAEMON_PID"
check "the tree still answers" ls "$D" >/dev/null

# Let starts and stops in flight settle: no domain shows 'starting'.
settle() {
  local i d busy
  for ((i = 0; i < 300; i++)); do
    busy=0
    for d in $(dirs); do grep -q '^reason: starting' "$D/$d/info" 2>/dev/null && busy=1; done
    [[ $busy == 0 ]] && return 0
    sleep 0.1
  done
  return 1
}
check "no domain is left starting" settle

# qemu_processes: "PID UUID" of every QEMU whose command line names our run dir
qemu_processes() {
  local pid
  for pid in $(pgrep -f -- "-pidfile $RUN/"); do
    tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | awk -v p="$pid" 'prev == "-uuid" {print p, $0} {prev = $0}'
  done
}

# no_orphans: every QEMU of ours is the pid of a domain shown active, and
# every domain shown active has a live QEMU of ours.
no_orphans() {
  local ok=0 d uuid state pid procs
  procs=$(qemu_processes)
  declare -A by_uuid=()
  while read -r pid uuid; do [[ -n $pid ]] && by_uuid[$uuid]=$pid; done <<<"$procs"
  for d in $(dirs); do
    uuid=$(cat "$D/$d/uuid")
    state=$(cat "$D/$d/state")
    pid=$(qemu_pid "$d")
    case $state in
      running|paused)
        if [[ "${by_uuid[$uuid]:-}" != "$pid" ]]; then
          echo "# $d is $state with pid $pid, but our QEMU of its UUID is '${by_uuid[$uuid]:-none}'"; ok=1
        fi ;;
      *)
        if [[ -n "${by_uuid[$uuid]:-}" ]]; then
          echo "# $d is $state but QEMU ${by_uuid[$uuid]} runs with its UUID"; ok=1
        fi ;;
    esac
    unset "by_uuid[$uuid]"
  done
  for uuid in "${!by_uuid[@]}"; do
    echo "# QEMU ${by_uuid[$uuid]} (uuid $uuid) belongs to no domain in the tree: orphaned"; ok=1
  done
  return $ok
}
check "no VM is orphaned" no_orphans

stored_names() { ls "$STATE/domains" | sed -n 's/\.xml$//p' | sort | tr '\n' ' '; }
tree_names() { dirs | sort | tr '\n' ' '; }
check_eq "the tree lists the state dir's domains" "$(stored_names)" "$(tree_names)"
for d in $(dirs); do
  if ! cmp -s "$D/$d/config.xml" "$STATE/domains/$d.xml"; then fail "config.xml of $d is its stored file"; fi
done
# Autostart was written at random: clear it, or the restart below would
# start more domains than ran before it.
for d in $(dirs); do echo 0 > "$D/$d/autostart"; done
active_list() { local d; for d in $(dirs); do echo "$d $(cat "$D/$d/state") $(qemu_pid "$d")"; done | awk '$2 == "running" || $2 == "paused"' | sort; }
before=$(active_list)
echo "# active after the clients: $(echo $before) (at $SECONDS s)"

# Restart: every stored definition loads, the same domains run.
stop_daemon
start_daemon || exit 1
check "every stored definition loads after a restart" bash -c "! grep -qE 'does not parse|skipped' '$DAEMON_LOG'"
check_eq "the tree still lists the state dir's domains" "$(stored_names)" "$(tree_names)"
check_eq "the same domains are active, with the same QEMU" "$before" "$(active_list)"
check "still no VM is orphaned" no_orphans

# Stop everything; nothing of ours is left running.
for d in $(dirs); do echo destroy > "$D/$d/ctl"; done
check_eq "every QEMU of this run dir is gone after destroy" "" "$(qemu_processes)"
stop_daemon
finish
