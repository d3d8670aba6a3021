#!/usr/bin/env bash
# What real writers do to config.xml and value files (spec/clients.md): each
# tool is run for real against the mount and must succeed, commit exactly
# once, and leave nothing behind. Ansible and sshfs have their own tests.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd vim rsync install dd truncate python3 tee

start_daemon || exit 1
D="$MNT/domains"
mkdir "$D/vm"
C="$D/vm/config.xml"
mem() { cat "$D/vm/memory"; }

# canonical content with a given memory (KiB) and the existing UUID
canon_with_mem() { sed "s|<memory unit='KiB'>[0-9]*</memory>|<memory unit='KiB'>$1</memory>|; s|<currentMemory unit='KiB'>[0-9]*</currentMemory>|<currentMemory unit='KiB'>$1</currentMemory>|" "$C"; }

# 1. bash redirection: early flush before the first write must not commit
canon_with_mem 300000 > "$WORK/a.xml"
check "bash > redirection of a document" bash -c "cat '$WORK/a.xml' > '$C'"
check_eq "committed once, content applied" "300000" "$(mem)"

# 2. dd with conv=notrunc over the same length, and with truncation
canon_with_mem 310000 > "$WORK/b.xml"
check "dd writes a document" dd if="$WORK/b.xml" of="$C" bs=7 status=none
check_eq "dd in 7-byte chunks assembles by offset" "310000" "$(mem)"

# 3. cp and tee report a failing flush
printf '<domain><name>vm</name>' > "$WORK/bad.xml"
check_fails "tee reports an invalid document" sh -c "cat '$WORK/bad.xml' | tee '$C' >/dev/null"
check_eq "and nothing changed" "310000" "$(mem)"

# 3b. a document already whole at a write() is checked there: echo and
#     printf redirections exit non-zero with the reason (clients.md 3)
check_fails "echo of a whole, invalid document fails" sh -c "echo '<domain>bad</domain>' > '$C'"
check_contains "the error explains it" "unexpected text inside <domain>" "$(cat "$D/vm/error")"
check_eq "and nothing changed" "310000" "$(mem)"
check_fails "printf of a document naming another domain fails" \
  sh -c "printf '<domain type=\"qemu\"><name>other</name><memory>1</memory></domain>' > '$C'"
check_contains "the error names both" "names domain 'other' but this is 'vm'" "$(cat "$D/vm/error")"
check_eq "and nothing changed either" "310000" "$(mem)"
canon_with_mem 315000 > "$WORK/b2.xml"
check "echo of a whole, valid document succeeds" sh -c "echo \"\$(cat '$WORK/b2.xml')\" > '$C'"
check_eq "and commits at close" "315000" "$(mem)"
canon_with_mem 310000 > "$WORK/b3.xml"
check "dd of a valid document in 7-byte chunks still commits" dd if="$WORK/b3.xml" of="$C" bs=7 status=none
check_eq "dd's document is applied" "310000" "$(mem)"

# 4. a read-only open and close of a document succeeds (sed, Ansible)
check "a read-only handle closes without error" python3 -c "f=open('$C'); f.read(); f.close()"

# 5. vim in ex mode, default settings (rename config.xml -> config.xml~)
check "vim -e edits config.xml" vim -Nu NONE -i NONE -es -c "%s/<vcpu placement='static'>1</<vcpu placement='static'>2</" -c "wq" "$C"
check_eq "vim's edit is applied" "2" "$(cat "$D/vm/vcpus")"
check_eq "vim left no backup or swap file" "" "$(ls -A "$D/vm" | grep -E '~$|\.sw[px]$|^4913$' || true)"
check "config.xml is listed after vim" test -f "$C"
check "vim with backupcopy=yes (overwrite in place)" vim -Nu NONE -i NONE -es -c "set backupcopy=yes" -c "%s/<vcpu placement='static'>2</<vcpu placement='static'>1</" -c "wq" "$C"
check_eq "vim's in-place write is applied" "1" "$(cat "$D/vm/vcpus")"

# 6. rsync (temp file .config.xml.XXXXXX + rename) and rsync --inplace
canon_with_mem 320000 > "$WORK/c.xml"
check "rsync of a definition" rsync --checksum "$WORK/c.xml" "$C"
check_eq "rsync's rename committed" "320000" "$(mem)"
canon_with_mem 330000 > "$WORK/d.xml"
check "rsync --inplace" rsync --checksum --inplace "$WORK/d.xml" "$C"
check_eq "rsync --inplace committed" "330000" "$(mem)"
check_eq "rsync left no temp file" "" "$(ls -A "$D/vm" | grep '^\.' || true)"

# 7. install -m (unlink, then create)
canon_with_mem 340000 > "$WORK/e.xml"
check "install -m 0644" install -m 0644 "$WORK/e.xml" "$C"
check_eq "install's content is applied" "340000" "$(mem)"

# 8. mv from another filesystem (copy to a new file, or unlink + create)
canon_with_mem 350000 > "$WORK/f.xml"
check "mv from another filesystem" mv "$WORK/f.xml" "$C"
check_eq "mv's content is applied" "350000" "$(mem)"

# 9. truncation: O_TRUNC, ftruncate, truncate by path then write, O_APPEND
canon_with_mem 360000 > "$WORK/g.xml"
check "python truncate + rewrite" python3 -c "
f=open('$C','r+'); f.truncate(0); f.write(open('$WORK/g.xml').read()); f.close()"
check_eq "ftruncate then write" "360000" "$(mem)"
canon_with_mem 370000 > "$WORK/h.xml"
check "truncate -s 0 config.xml" truncate -s 0 "$C"
check_eq "truncate alone changes nothing" "360000" "$(mem)"
check "then a write without O_TRUNC" python3 -c "
import os; fd=os.open('$C', os.O_WRONLY); os.write(fd, open('$WORK/h.xml','rb').read()); os.close(fd)"
check_eq "truncate(path) applies to the next writer" "370000" "$(mem)"
check "open without O_TRUNC starts from the current content" python3 -c "
import os; fd=os.open('$C', os.O_RDWR); data=os.read(fd, 1<<20); os.lseek(fd,0,0); os.write(fd, data); os.close(fd)"
check_eq "rewrite of the same content changes nothing" "370000" "$(mem)"
check "python writes a value in two chunks" python3 -c "
import os; fd=os.open('$D/vm/memory', os.O_WRONLY|os.O_TRUNC); os.write(fd, b'400'); os.write(fd, b'000'); os.close(fd)"
check_eq "the chunks form one value" "400000" "$(mem)"

# 10. scratch files: O_EXCL, chmod, chown, utimens, fsync, rename, unlink
check "touch creates a scratch file" touch "$D/vm/notes"
check_fails "O_EXCL create of an existing scratch file fails" python3 -c "import os; os.open('$D/vm/notes', os.O_CREAT|os.O_EXCL|os.O_WRONLY)"
check_fails "O_EXCL create of config.xml fails" python3 -c "import os; os.open('$C', os.O_CREAT|os.O_EXCL|os.O_WRONLY)"
check "chmod a scratch file" chmod 0600 "$D/vm/notes"
check_eq "its mode changed" "600" "$(stat -c %a "$D/vm/notes")"
check "chown a scratch file" chown 1:1 "$D/vm/notes"
check "touch -d sets a scratch file's time" touch -d '2020-01-02 03:04:05' "$D/vm/notes"
check_eq "its mtime changed" "2020" "$(stat -c %y "$D/vm/notes" | cut -c1-4)"
check "echo into a scratch file" sh -c "echo hello > '$D/vm/notes'"
check_eq "read it back" "hello" "$(cat "$D/vm/notes")"
check "sync a scratch file" python3 -c "import os; fd=os.open('$D/vm/notes', os.O_RDWR); os.fsync(fd); os.close(fd)"
check "rename a scratch file" mv "$D/vm/notes" "$D/vm/notes2"
check "rm a scratch file" rm "$D/vm/notes2"
check "chmod and touch of config.xml succeed" sh -c "chmod 0644 '$C' && touch '$C'"
check "chown of config.xml succeeds" chown 0:0 "$C"

# 11. xattrs: ACL copies fall back to chmod, probes answer cleanly
check "cp -a preserves what it can" cp -a "$WORK/g.xml" "$D/vm/copy.xml"
check_eq "cp -a of a scratch file keeps its mode" "644" "$(stat -c %a "$D/vm/copy.xml")"
check_fails "setfattr is refused" python3 -c "import os; os.setxattr('$C', 'user.x', b'1')"
check "getfattr probes answer cleanly" python3 -c "
import os, errno
try: os.getxattr('$C', 'security.selinux')
except OSError as e: assert e.errno in (errno.ENODATA, errno.EOPNOTSUPP)"
rm -f "$D/vm/copy.xml"

# 12. cp between two files of the mount (copy_file_range falls back)
mkdir "$D/vm2"
cp "$C" "$WORK/vm.xml"
check "cp from one config.xml to a scratch file on the mount" cp "$C" "$D/vm2/from-vm.xml"
check_eq "the copy is complete" "$(cat "$C")" "$(cat "$D/vm2/from-vm.xml")"

# 13. consistent reads: a reader keeps its snapshot while a writer commits
check "a reader sees one version" python3 - "$C" "$D/vm/memory" <<'PY'
import sys
f = open(sys.argv[1]); first = f.read(100)
open(sys.argv[2], 'w').write('500000\n')
rest = f.read()
whole = first + rest
assert "400000" in whole and "500000" not in whole, whole
PY

# 14. ctl-style: unknown names in an object directory are scratch, not files
check_fails "reading a missing file fails" cat "$D/vm/nonexistent"
check_fails "a directory cannot be made inside a domain" mkdir "$D/vm/sub"

# 15. Python's atomic-write idiom (tempfile in the same directory, then
# os.replace) and install onto a value file
canon_with_mem 380000 > "$WORK/i.xml"
check "python tempfile + os.replace onto config.xml" python3 - "$C" "$WORK/i.xml" <<'PY'
import os, sys, tempfile
dest, src = sys.argv[1], sys.argv[2]
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest))
with os.fdopen(fd, "w") as f:
    f.write(open(src).read())
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, dest)
PY
check_eq "os.replace committed" "380000" "$(mem)"
check_eq "python left no temp file" "" "$(ls -A "$D/vm" | grep '^tmp' || true)"
printf '2\n' > "$WORK/vcpus"
check "install -m 0644 onto a value file" install -m 0644 "$WORK/vcpus" "$D/vm/vcpus"
check_eq "install's value is applied" "2" "$(cat "$D/vm/vcpus")"

finish
