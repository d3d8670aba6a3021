#!/usr/bin/env python3
"""formatdomain_figures.py — how much of libvirt's domain documentation
virtfs accepts and runs: every example of formatdomain.html (Debian package
libvirt-doc, installed by this script's caller, never by the product) that
applies to an x86_64 QEMU guest is defined through a mounted virtfs and
started, and the figures are printed.

    apt-get install libvirt-doc
    tests/corpus/formatdomain_figures.py /virt [HTML]

The examples are fragments with "..." elisions. Each <pre> block is split
at its XML comments (one example each); "..." lines are dropped; what is
left is wrapped in a minimal domain (type qemu, x86_64, 64 MiB), inside
<devices> when it is a device. Examples for other hypervisors or
architectures (Xen, LXC, bhyve, VMware, s390, ppc, ARM...) are left out,
and so are fragments that are not XML on their own. A domain is defined
with mkdir + cp config.xml, started with echo running > state, destroyed
and removed; the script prints one line per example and the totals.
"""
import html
import os
import re
import subprocess
import sys
import xml.dom.minidom

DOC = "/usr/share/doc/libvirt-doc/html/formatdomain.html"

DEVICES = {
    "disk", "interface", "controller", "serial", "console", "channel", "parallel",
    "graphics", "video", "input", "sound", "audio", "hostdev", "redirdev", "redirfilter",
    "smartcard", "rng", "tpm", "watchdog", "memballoon", "panic", "shmem", "memory",
    "iommu", "vsock", "filesystem", "lease", "hub", "nvram", "crypto", "emulator",
}
# Words that mark an example for another hypervisor or architecture.
FOREIGN = re.compile(
    r"type=['\"](xen|lxc|exe|vz|bhyve|vmware|hyperv|openvz|uml|phyp|test)['\"]|xen|lxc|bhyve|"
    r"pygrub|s390|ccw|ppc|pseries|spapr|aarch64|armv7|arm|riscv|mips|sparc|zpci|vfio-ap|"
    r"vfio-ccw|hvmloader|esx|vmx|vmware|ibm", re.I)

SKELETON = ("<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>{body}</domain>")


def examples(path):
    text = open(path, encoding="utf-8").read()
    for block in re.findall(r"<pre[^>]*>(.*?)</pre>", text, re.S):
        block = html.unescape(re.sub(r"<[^>]+>", "", block))
        for part in re.split(r"<!--.*?-->", block, flags=re.S):
            lines = [ln for ln in part.splitlines() if ln.strip() not in ("...", "")]
            frag = "\n".join(lines).strip()
            if frag.startswith("<"):
                yield frag


def first_element(frag):
    m = re.match(r"<\s*([A-Za-z_][\w.-]*)", frag)
    return m.group(1) if m else ""


def wrap(name, frag):
    top = first_element(frag)
    if top == "domain":
        doc = re.sub(r"<name>[^<]*</name>", f"<name>{name}</name>", frag, count=1)
        return re.sub(r"<domain\s+type=['\"]\w+['\"]", "<domain type='qemu'", doc, count=1)
    if top in DEVICES:
        return SKELETON.format(name=name, body=f"<devices>{frag}</devices>")
    if top in ("os",):  # its own <os> replaces the skeleton's
        return ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>%s</domain>"
                % (name, frag))
    return SKELETON.format(name=name, body=frag)


def well_formed(doc):
    try:
        xml.dom.minidom.parseString(doc)
        return True
    except Exception:
        return False


def read(path):
    try:
        return open(path).read().strip()
    except OSError:
        return ""


def main():
    mnt = sys.argv[1]
    doc_path = sys.argv[2] if len(sys.argv) > 2 else DOC
    counts = {"examples": 0, "foreign": 0, "not XML alone": 0, "accepted": 0,
              "refused": 0, "started": 0, "start refused": 0}
    reasons = {}
    for i, frag in enumerate(examples(doc_path)):
        counts["examples"] += 1
        if FOREIGN.search(frag):
            counts["foreign"] += 1
            continue
        name = f"fd{i}"
        doc = wrap(name, frag)
        if not well_formed(doc):
            counts["not XML alone"] += 1
            continue
        d = os.path.join(mnt, "domains", name)
        os.mkdir(d)
        r = subprocess.run(["cp", "/dev/stdin", os.path.join(d, "config.xml")], input=doc,
                           text=True, capture_output=True)
        top = first_element(frag)
        if r.returncode != 0:
            counts["refused"] += 1
            why = re.sub(r"^\S+ ", "", read(os.path.join(d, "error")))
            reasons.setdefault(why[:110], []).append(top)
            print(f"refused  <{top}>: {why}")
        else:
            counts["accepted"] += 1
            with open(os.path.join(d, "state"), "w") as f:
                try:
                    f.write("running\n")
                    f.close()
                    counts["started"] += 1
                    print(f"started  <{top}>")
                except OSError:
                    counts["start refused"] += 1
                    why = re.sub(r"^\S+ ", "", read(os.path.join(d, "error")))
                    print(f"accepted <{top}>, start refused: {why[:140]}")
            subprocess.run(["sh", "-c", f"echo destroy > '{d}/ctl'"], capture_output=True)
        subprocess.run(["rm", "-r", d], capture_output=True)
    print()
    applicable = counts["examples"] - counts["foreign"] - counts["not XML alone"]
    print(f"formatdomain examples: {counts['examples']}; for other hypervisors or "
          f"architectures: {counts['foreign']}; not XML on their own: {counts['not XML alone']}")
    print(f"x86_64 QEMU examples: {applicable}; accepted: {counts['accepted']}; refused at "
          f"define: {counts['refused']}; started: {counts['started']}; refused at start: "
          f"{counts['start refused']}")


if __name__ == "__main__":
    main()
