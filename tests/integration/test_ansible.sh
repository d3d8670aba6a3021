#!/usr/bin/env bash
# Ansible against the mount (issue 6): tests/integration/ansible/site.yml
# defines domains with `file`, deploys config.xml with `copy` and
# `template`, edits it with `lineinfile` and sets value files with `copy
# content=`. The first run changes things, the second must report
# changed=0 (config management converges), and so must a --check run.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ansible-playbook python3

PLAYBOOK_DIR="$VIRTFS_SOURCE_ROOT/tests/integration/ansible"
start_daemon || exit 1
D="$MNT/domains"
# The playbook starts ans-tmpl; a VM outlives its daemon, so stop it on
# every way out.
on_exit "echo destroy > '$D/ans-tmpl/ctl' 2>/dev/null"

# Ansible keeps its temporary files and facts under $HOME: keep them in the
# scratch dir, and its output plain.
export HOME="$WORK/home" ANSIBLE_LOCAL_TEMP="$WORK/home/tmp" ANSIBLE_REMOTE_TEMP="$WORK/home/tmp"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_LOAD_CALLBACK_PLUGINS=0
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_CONFIG="$WORK/ansible.cfg"
mkdir -p "$HOME/tmp"
printf '[defaults]\n' > "$ANSIBLE_CONFIG"   # no ansible.cfg of the caller applies

# play LOG [EXTRA ARGS...]: runs the playbook, output in $WORK/LOG.
play() {
  local log=$1; shift
  ansible-playbook -i localhost, -c local -e "virt=$MNT" "$@" "$PLAYBOOK_DIR/site.yml" \
    > "$WORK/$log" 2>&1
}

# recap LOG FIELD: a number of the PLAY RECAP line ("changed", "failed"...).
recap() {
  sed -n "s/^localhost *:.* $2=\([0-9]*\).*/\1/p" "$WORK/$1" | tail -1
}

show_log() { sed 's/^/#   /' "$WORK/$1" | tail -40; }

if play run1.log; then pass "the first run succeeds"; else fail "the first run succeeds"; show_log run1.log; fi
check_eq "the first run failed nothing" "0" "$(recap run1.log failed)"
changed=$(recap run1.log changed)
check_eq "the first run changed all seven things" "7" "$changed"

# What the playbook asked for is what the mount says.
check "file state=directory defined the domains" test -d "$D/ans-copy" -a -d "$D/ans-tmpl" -a -d "$D/ans-edit"
check_eq "copy deployed the definition byte for byte" \
  "$(cat "$PLAYBOOK_DIR/files/ans-copy.xml")" "$(cat "$D/ans-copy/config.xml")"
check_eq "the copied memory applies" "786432" "$(cat "$D/ans-copy/memory")"
check_eq "the template's memory applies" "1048576" "$(cat "$D/ans-tmpl/memory")"
check_eq "the template's vcpus apply" "2" "$(cat "$D/ans-tmpl/vcpus")"
check "the template's uuid is the one it rendered" grep -Eq '^[0-9a-f-]{36}$' "$D/ans-tmpl/uuid"
check_eq "lineinfile edited vcpus" "3" "$(cat "$D/ans-edit/vcpus")"
check_eq "copy content= set memory" "2097152" "$(cat "$D/ans-edit/memory")"
check_eq "copy content= set autostart" "1" "$(cat "$D/ans-edit/autostart")"
check_eq "copy content= started a domain" "running" "$(cat "$D/ans-tmpl/state")"
check_eq "the errors are empty" "" "$(cat "$D"/ans-*/error)"
check_eq "Ansible left no temporary file" "" \
  "$(for d in "$D"/ans-*; do ls -A "$d"; done | grep -E '^\.|ansible|tmp' || true)"

# Converged: the second run and a --check --diff run change nothing.
ino=$(stat -c %i "$STATE/domains/ans-tmpl.xml")
if play run2.log; then pass "the second run succeeds"; else fail "the second run succeeds"; show_log run2.log; fi
check_eq "the second run reports changed=0" "0" "$(recap run2.log changed)"
[[ "$(recap run2.log changed)" == 0 ]] || grep -B2 -A8 '^changed:' "$WORK/run2.log" | sed 's/^/#   /'
check_eq "nothing was rewritten on disk" "$ino" "$(stat -c %i "$STATE/domains/ans-tmpl.xml")"
if play check.log --check --diff; then pass "a --check run succeeds"; else fail "a --check run succeeds"; show_log check.log; fi
check_eq "a --check run reports changed=0" "0" "$(recap check.log changed)"

# A change made by hand is put back by the next run, and only it.
echo 1 > "$D/ans-edit/vcpus"
play run3.log
check_eq "after a manual edit, one task changes" "1" "$(recap run3.log changed)"
check_eq "the manual edit is undone" "3" "$(cat "$D/ans-edit/vcpus")"

# An invalid template fails the task, and nothing changes. (The domain is
# stopped first: a running domain's definition applies at its next start.)
echo destroy > "$D/ans-tmpl/ctl"
before=$(cat "$D/ans-tmpl/config.xml")
play bad.log -e vcpus=0 || true
check_eq "an invalid rendering fails a task" "1" "$(recap bad.log failed)"
check_eq "an invalid rendering changed nothing" "$before" "$(cat "$D/ans-tmpl/config.xml")"
check_contains "error says why" "vcpu" "$(cat "$D/ans-tmpl/error")"

# file state=absent undefines (rmtree: unlink of each file, then rmdir).
check "file state=absent undefines a domain" ansible localhost -i localhost, -c local \
  -m ansible.builtin.file -a "path=$D/ans-copy state=absent" -o >/dev/null
check_fails "the undefined domain is gone" test -e "$D/ans-copy"
check_fails "its stored definition is gone" test -e "$STATE/domains/ans-copy.xml"

finish
