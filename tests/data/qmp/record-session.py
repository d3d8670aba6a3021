#!/usr/bin/env python3
# Records the golden QMP lines in this directory from a real QEMU.
# Not run by the tests: rerun by hand to refresh the files after a QEMU
# upgrade, then review the diff. Usage: record-session.py OUTDIR
# Writes OUTDIR/session.txt (the whole exchange, ">>" sent, "<<" received)
# and one file per received line named after the step that caused it, with
# the exact bytes QEMU sent (lines end in "\r\n").
import json, os, socket, subprocess, sys, tempfile, time

out = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="qmp-record-")
sock_path = os.path.join(tmp, "qmp.sock")
qemu = subprocess.Popen([
    "qemu-system-x86_64", "-machine", "pc,accel=tcg", "-S", "-nodefaults",
    "-display", "none", "-m", "128", "-smp", "1,maxcpus=4", "-cpu", "qemu64",
    "-device", "virtio-balloon-pci,id=balloon0",
    "-chardev", "pty,id=serial0", "-device", "isa-serial,chardev=serial0",
    "-drive", "file=null-co://,if=none,id=drive0,format=raw",
    "-device", "virtio-blk-pci,drive=drive0,id=vda",
    "-blockdev", "driver=null-co,node-name=node1,size=1048576",
    "-device", "virtio-blk-pci,drive=node1,id=vdb",
    "-drive", "if=none,id=cd0,media=cdrom",
    "-device", "ide-cd,drive=cd0,id=cdrom0,bus=ide.1",
    "-device", "qemu-xhci,id=xhci",
    "-qmp", "unix:%s,server=on,wait=off" % sock_path])
for _ in range(200):
    if os.path.exists(sock_path):
        break
    time.sleep(0.05)
s = socket.socket(socket.AF_UNIX)
s.connect(sock_path)
f = s.makefile("rb")
session = open(os.path.join(out, "session.txt"), "wb")
counts = {}

def save(name, line):
    n = counts.get(name, 0)
    counts[name] = n + 1
    fname = name if n == 0 else "%s-%d" % (name, n + 1)
    with open(os.path.join(out, fname + ".line"), "wb") as g:
        g.write(line)

def receive():
    line = f.readline()
    session.write(b"<< " + line)
    return line

def send(raw):
    session.write(b">> " + raw + b"\n")
    s.sendall(raw + b"\n")

def step(name, execute, args=None, id=True):
    m = {"execute": execute}
    if args is not None:
        m["arguments"] = args
    if id:
        m["id"] = "virtfs-%s" % name
    send(json.dumps(m).encode())
    while True:
        line = receive()
        if not line:
            return
        j = json.loads(line)
        if "event" in j:
            save("event-" + j["event"].lower().replace("_", "-"), line)
            continue
        save(name, line)
        return

save("greeting", receive())
step("return-capabilities", "qmp_capabilities")
step("return-status-prelaunch", "query-status")
step("return-cont", "cont")
step("return-status-running", "query-status")
step("return-stop", "stop")
step("return-status-paused", "query-status")
step("return-cpus-fast-1", "query-cpus-fast")
step("return-hotpluggable-cpus-1", "query-hotpluggable-cpus")
step("return-device-add-cpu", "device_add", {"driver": "qemu64-x86_64-cpu", "id": "cpu1",
                                              "socket-id": 0, "core-id": 1, "thread-id": 0})
step("return-cpus-fast-2", "query-cpus-fast")
step("return-hotpluggable-cpus-2", "query-hotpluggable-cpus")
step("error-device-del-cpu", "device_del", {"id": "cpu1"})
step("return-balloon-query", "query-balloon")
step("return-balloon", "balloon", {"value": 64 * 1024 * 1024})
step("return-blockstats", "query-blockstats")
step("return-chardev", "query-chardev")
step("return-hmp-info-version", "human-monitor-command", {"command-line": "info version"})
step("error-command-not-found", "no-such-command")
step("error-device-not-found", "device_del", {"id": "nonexistent"})
step("error-bad-driver", "device_add", {"driver": "no-such-driver"})
step("error-balloon-negative", "balloon", {"value": -1})
step("return-usb-add", "device_add", {"driver": "usb-kbd", "id": "kbd0", "bus": "xhci.0"})
step("return-usb-del", "device_del", {"id": "kbd0"})
step("return-open-tray", "blockdev-open-tray", {"id": "cdrom0"})
step("return-cont-2", "cont")
step("return-system-reset", "system_reset")
step("return-system-powerdown", "system_powerdown")
time.sleep(0.2)
step("return-version", "query-version")
send(b'{"execute": "query-status" garbage}')
save("error-parse-no-id", receive())
send(b'[1, 2, 3]')
save("error-not-object-no-id", receive())
send(b'{"execute": "query-status", "id": {"n": [1, "two"]}}')
save("return-structured-id", receive())
step("return-no-id", "query-status", id=False)
step("return-quit", "quit")
try:
    while receive():
        pass
except ConnectionResetError:
    pass  # QEMU closes the socket while exiting
qemu.wait()
if os.path.exists(sock_path):
    os.unlink(sock_path)
os.rmdir(tmp)
