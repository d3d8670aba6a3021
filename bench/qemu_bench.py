#!/usr/bin/env python3
"""qemu_bench.py — the QEMU figures of bench/run, each beside its floor.

    qemu_bench.py MOUNT STATE_DIR RUN_DIR WORK_DIR ITERATIONS PARALLEL

MOUNT is a virtfs mount whose daemon has STATE_DIR and RUN_DIR and no
domains yet; WORK_DIR is scratch space. Prints "key value" lines (times in
ms, medians unless the key says otherwise):

  start / start_floor      `echo running > state` until it returns, against
                           the same QEMU command line (from the domain's log
                           file) launched by hand until QMP answered
                           qmp_capabilities and `cont`
  destroy / destroy_floor  `echo destroy > ctl` until it returns (the
                           process is gone then), against SIGTERM by hand
                           until waitpid returns
  cycles_per_s             start + destroy through the files, back to back
  parallel / parallel_floor   PARALLEL domains started at once until every
                           write returned, against PARALLEL QEMUs by hand
                           until every one answered
  rss_idle_kib / rss_running_kib   the daemon's VmRSS before any domain ran
                           and with PARALLEL domains running

Each domain is a plain definition without disk or kernel (SeaBIOS finds
nothing to boot and waits): what is measured is QEMU's start and stop and
the daemon around them, not a guest's boot.
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import benchlib
from benchlib import Qmp, ms, read, write

MOUNT, STATE, RUN, WORK = sys.argv[1:5]
ITER, PAR = int(sys.argv[5]), int(sys.argv[6])
DOMAINS = os.path.join(MOUNT, "domains")


def define(name):
    benchlib.define(DOMAINS, name, 128)


def info(name):
    return dict(line.split(": ", 1) for line in read(os.path.join(DOMAINS, name, "info")).splitlines()
                if ": " in line)


def daemon_pid():
    # the mount's daemon: the process whose argv names RUN as its run dir
    out = subprocess.run(["pgrep", "-f", "--", f"--run-dir {RUN} "], capture_output=True, text=True)
    return int(out.stdout.split()[0])


def rss_kib(pid):
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start(name):
    t0 = time.perf_counter()
    write(os.path.join(DOMAINS, name, "state"), "running\n")
    return ms(t0)


def destroy(name):
    pid = int(info(name)["pid"])
    t0 = time.perf_counter()
    write(os.path.join(DOMAINS, name, "ctl"), "destroy\n")
    t = ms(t0)
    if os.path.exists(f"/proc/{pid}") and read(f"/proc/{pid}/stat").split(")")[1].split()[0] != "Z":
        print(f"warning: QEMU {pid} of {name} still exists after destroy returned", file=sys.stderr)
    return t


def logged_argv(name):
    """The argv of the domain's last start, from STATE/logs/NAME.log."""
    line = [l for l in read(os.path.join(STATE, "logs", name + ".log")).splitlines()
            if l.startswith("=== ") and " starting: " in l][-1]
    return line.split(" starting: ", 1)[1].split(" ")


class Hand:
    """One QEMU launched by hand with a domain's argv, its run dir moved."""

    def __init__(self, argv, uuid, tag):
        self.dir = os.path.join(WORK, "hand-" + tag)
        os.makedirs(self.dir, exist_ok=True)
        for f in ("qmp.sock", "console.sock", "qemu.pid"):
            try:
                os.unlink(os.path.join(self.dir, f))
            except FileNotFoundError:
                pass
        own = os.path.join(RUN, "domains", uuid)
        self.argv = [a.replace(own, self.dir) for a in argv]
        self.log = open(os.path.join(self.dir, "qemu.log"), "ab")

    def start(self):
        """Spawns QEMU; returns once QMP answered qmp_capabilities and cont."""
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, start_new_session=True)
        self.qmp = Qmp(os.path.join(self.dir, "qmp.sock"), self.proc)
        self.qmp.cmd("cont")

    def stop(self):
        """SIGTERM; returns once waitpid did."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        self.qmp.close()


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return ms(t0)


def main():
    dpid = daemon_pid()
    out = {"rss_idle_kib": rss_kib(dpid)}
    define("q0")
    uuid = read(os.path.join(DOMAINS, "q0", "uuid")).strip()

    starts, destroys, floor_starts, floor_destroys = [], [], [], []
    start("q0")  # warm-up: caches, and the argv in the log
    destroy("q0")
    argv = logged_argv("q0")
    for _ in range(ITER):
        starts.append(start("q0"))
        destroys.append(destroy("q0"))
        h = Hand(argv, uuid, "0")
        floor_starts.append(timed(h.start))
        floor_destroys.append(timed(h.stop))
    out["start"] = statistics.median(starts)
    out["start_floor"] = statistics.median(floor_starts)
    out["destroy"] = statistics.median(destroys)
    out["destroy_floor"] = statistics.median(floor_destroys)

    t0 = time.perf_counter()
    for _ in range(ITER):
        start("q0")
        destroy("q0")
    out["cycles_per_s"] = ITER / (ms(t0) / 1000)

    names = [f"p{i}" for i in range(PAR)]
    for n in names:
        define(n)
    threads = [threading.Thread(target=start, args=(n,)) for n in names]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["parallel"] = ms(t0)
    running = sum(read(os.path.join(DOMAINS, n, "state")).strip() == "running" for n in names)
    if running != PAR:
        print(f"warning: {running} of {PAR} domains run after the parallel start", file=sys.stderr)
    time.sleep(1)
    out["rss_running_kib"] = rss_kib(dpid)
    p_argv = {n: logged_argv(n) for n in names}
    p_uuid = {n: read(os.path.join(DOMAINS, n, "uuid")).strip() for n in names}
    for n in names:
        destroy(n)

    hands = [Hand(p_argv[n], p_uuid[n], n) for n in names]
    threads = [threading.Thread(target=h.start) for h in hands]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["parallel_floor"] = ms(t0)
    for h in hands:
        h.stop()

    for k, v in out.items():
        print(k, f"{v:.1f}" if isinstance(v, float) else v)


main()
