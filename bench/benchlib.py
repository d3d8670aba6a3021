"""benchlib.py — what the Python benchmarks share: timing, whole-file
reads and writes through the mount, and a plain domain definition."""
import os
import time


def ms(t0):
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
