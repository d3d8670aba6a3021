"""benchlib.py — what the Python benchmarks share: timing, whole-file
reads and writes through the mount, a plain domain definition, and a QMP
client for QEMUs launched by hand."""
import json
import os
import socket
import time


def ms(t0):
    """Milliseconds since perf_counter() read t0."""
    return (time.perf_counter() - t0) * 1000


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


def define(domains_dir, name, memory_mib):
    """mkdir + config.xml of a domain without disk or kernel (SeaBIOS finds
    nothing to boot and waits)."""
    os.mkdir(os.path.join(domains_dir, name))
    write(os.path.join(domains_dir, name, "config.xml"), f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><serial type='pty'/></devices>
</domain>
""")


class Qmp:
    """A QMP client for QEMUs launched by hand: connects (retrying every
    millisecond while the socket is not there yet), negotiates, runs
    commands and skips events."""

    def __init__(self, path, proc):
        while True:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if proc.poll() is not None:
                    raise RuntimeError("QEMU by hand exited")
                time.sleep(0.001)
        self.s = s
        self.f = s.makefile("rwb", buffering=0)
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg).encode() + b"\n")
        while True:
            reply = json.loads(self.f.readline())
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError(f"{name}: {reply['error']}")

    def close(self):
        self.f.close()
        self.s.close()
