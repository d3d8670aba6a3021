#!/usr/bin/env python3
"""snapshot_bench.py — snapshot, save and restore times of bench/run, each
beside raw QEMU doing the same work.

    snapshot_bench.py MOUNT STATE_DIR RUN_DIR WORK_DIR KERNEL INITRD MIB...

MOUNT is a virtfs mount whose daemon has STATE_DIR and RUN_DIR; KERNEL and
INITRD are the test guest (scripts/build-guest.sh). For each memory size
MIB the guest boots with a 64 MiB qcow2 disk, fills a quarter of its RAM
with random bytes in its RAM disk (so the memory is not all zero pages),
and then, through the mount:

  snapshot_MIB       mkdir snapshots/b until it returns (snapshot with memory)
  save_MIB           echo saved > state until it returns (QEMU gone)
  restore_MIB        echo running > state until it returns (guest running)
  image_MIB          bytes of the saved image

Then the same QEMU command line (from STATE/logs/NAME.log, sockets moved,
-sandbox dropped so that exec: migration may run cat) is launched by hand,
boots, fills the same amount, and:

  snapshot_floor_MIB QMP snapshot-save job until query-jobs says concluded
  save_floor_MIB     migrate "exec:cat > FILE" until query-migrate completed
  restore_floor_MIB  spawn with -incoming "exec:cat FILE" until its
                     query-migrate says completed and cont answered

Times in ms, one run each (a boot per run costs tens of seconds under TCG).
"""
import json
import os
import re
import socket
import subprocess
import sys
import time

from benchlib import Qmp, ms, read, write

MOUNT, STATE, RUN, WORK, KERNEL, INITRD = sys.argv[1:7]
SIZES = [int(a) for a in sys.argv[7:]]
DOMAINS = os.path.join(MOUNT, "domains")
CMDLINE = "console=ttyS0 quiet cryptomgr.notests"


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def fill_cmd(mib):
    return (f"dd if=/dev/urandom of=/fill bs=1M count={mib // 4} 2>/dev/null; "
            "echo FILL$((40+2))DONE\n")


def define(name, mib, disk):
    os.mkdir(os.path.join(DOMAINS, name))
    write(os.path.join(DOMAINS, name, "config.xml"), f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{mib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{KERNEL}</kernel>
    <initrd>{INITRD}</initrd>
    <cmdline>{CMDLINE}</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <devices>
    <serial type='pty'/>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='{disk}'/><target dev='vda' bus='virtio'/></disk>
  </devices>
</domain>
""")


def through_mount(name, mib, out):
    d = os.path.join(DOMAINS, name)
    log = os.path.join(d, "console.log")
    write(os.path.join(d, "state"), "running\n")
    wait_for(lambda: "VIRTFS-GUEST-READY" in read(log), 300, "the guest's boot")
    write(os.path.join(d, "console"), fill_cmd(mib))
    wait_for(lambda: "FILL42DONE" in read(log), 600, "the guest's fill")
    t0 = time.perf_counter()
    os.mkdir(os.path.join(d, "snapshots", "b"))
    out[f"snapshot_{mib}"] = ms(t0)
    t0 = time.perf_counter()
    write(os.path.join(d, "state"), "saved\n")
    out[f"save_{mib}"] = ms(t0)
    uuid = read(os.path.join(d, "uuid")).strip()
    out[f"image_{mib}"] = os.path.getsize(os.path.join(STATE, "saved", uuid + ".img"))
    t0 = time.perf_counter()
    write(os.path.join(d, "state"), "running\n")
    out[f"restore_{mib}"] = ms(t0)
    write(os.path.join(d, "ctl"), "destroy\n")
    os.rmdir(os.path.join(d, "snapshots", "b"))
    return uuid


def hand_argv(name, uuid, hand_dir):
    line = [l for l in read(os.path.join(STATE, "logs", name + ".log")).splitlines()
            if l.startswith("=== ") and " starting: " in l][-1]
    argv = line.split(" starting: ", 1)[1].split(" ")
    own = os.path.join(RUN, "domains", uuid)
    argv = [a.replace(own, hand_dir) for a in argv]
    # The log joins argv with blanks: put the kernel command line together.
    i = argv.index("-append") + 1
    j = i + 1
    while j < len(argv) and not argv[j].startswith("-"):
        j += 1
    argv[i:j] = [" ".join(argv[i:j])]
    for opt in ("-sandbox", "-incoming"):
        if opt in argv:
            i = argv.index(opt)
            del argv[i:i + 2]
    return argv


def spawn(argv, hand_dir):
    for f in ("qmp.sock", "console.sock", "qemu.pid"):
        try:
            os.unlink(os.path.join(hand_dir, f))
        except FileNotFoundError:
            pass
    log = open(os.path.join(hand_dir, "qemu.log"), "ab")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)
    return proc, Qmp(os.path.join(hand_dir, "qmp.sock"), proc)


def console_wait(sock, pattern, timeout):
    buf = b""
    sock.settimeout(1)
    end = time.time() + timeout
    while time.time() < end:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        buf += chunk
        if re.search(pattern, buf):
            return
    raise RuntimeError(f"no {pattern!r} on the console")


def by_hand(name, uuid, mib, out):
    hand_dir = os.path.join(WORK, "hand")
    os.makedirs(hand_dir, exist_ok=True)
    argv = hand_argv(name, uuid, hand_dir)
    proc, qmp = spawn(argv, hand_dir)
    con = socket.socket(socket.AF_UNIX)
    con.connect(os.path.join(hand_dir, "console.sock"))
    qmp.cmd("cont")
    console_wait(con, b"VIRTFS-GUEST-READY", 300)
    con.sendall(fill_cmd(mib).encode())
    console_wait(con, b"FILL42DONE", 600)
    t0 = time.perf_counter()
    qmp.cmd("snapshot-save", **{"job-id": "b", "tag": "b", "vmstate": "disk0-format",
                                 "devices": ["disk0-format"]})
    while not any(j["id"] == "b" and j["status"] == "concluded" for j in qmp.cmd("query-jobs")):
        time.sleep(0.01)
    out[f"snapshot_floor_{mib}"] = ms(t0)
    qmp.cmd("job-dismiss", id="b")
    qmp.cmd("snapshot-delete", **{"job-id": "d", "tag": "b", "devices": ["disk0-format"]})
    while not any(j["id"] == "d" and j["status"] == "concluded" for j in qmp.cmd("query-jobs")):
        time.sleep(0.01)
    image = os.path.join(WORK, "floor.img")
    qmp.cmd("migrate-set-parameters", **{"max-bandwidth": 2 ** 62})
    t0 = time.perf_counter()
    qmp.cmd("migrate", uri=f"exec:cat > {image}")
    while qmp.cmd("query-migrate").get("status") not in ("completed", "failed"):
        time.sleep(0.01)
    out[f"save_floor_{mib}"] = ms(t0)
    qmp.cmd("quit")
    proc.wait()
    qmp.close()
    con.close()
    t0 = time.perf_counter()
    proc, qmp = spawn(argv + ["-incoming", f"exec:cat {image}"], hand_dir)
    while (st := qmp.cmd("query-migrate").get("status")) not in ("completed", "failed"):
        time.sleep(0.01)
    qmp.cmd("cont")
    out[f"restore_floor_{mib}"] = ms(t0)
    if st != "completed":
        raise RuntimeError("the restore by hand failed")
    qmp.cmd("quit")
    proc.wait()
    qmp.close()
    os.unlink(image)


def main():
    out = {}
    for mib in SIZES:
        name = f"sb{mib}"
        disk = os.path.join(WORK, f"{name}.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
        define(name, mib, disk)
        uuid = through_mount(name, mib, out)
        by_hand(name, uuid, mib, out)
        os.rmdir(os.path.join(DOMAINS, name))
    for k, v in out.items():
        print(k, round(v, 1) if isinstance(v, float) else v)


if __name__ == "__main__":
    main()
