#!/usr/bin/env python3
"""day2_bench.py — the figures of /virt/metrics and history/ for bench/run.

    day2_bench.py MOUNT MOUNT_NO_HISTORY DOMAINS WRITES

MOUNT is a virtfs mount with the default history, MOUNT_NO_HISTORY one
started with --history 0; both without domains. Prints "key value" lines
(times in ms unless the key says µs):

  metrics / metrics_p90       reading /virt/metrics with DOMAINS domains
                              running (a new rendering each time: reads are
                              1.1 s apart), median and 90th percentile of 10
  metrics_floor               reading every domain's `stats` once, one after
                              the other: the same questions to the same QEMUs
                              through the files that existed before
  metrics_bytes               the size of the file
  uuid_p99_idle_us / uuid_p99_busy_us   open+read+close of a domain's `uuid`
                              (99th percentile over 3 s), idle, and over 6 s
                              while another thread renders /virt/metrics
                              every second
  write / write_floor_us      `echo N > vcpus` of a shut-off domain (open,
                              write, close from Python), median of WRITES,
                              alternating between the mount with history and
                              the one without (the floor), in µs

Each domain is a plain definition without disk or kernel (SeaBIOS finds
nothing to boot and waits), 32 MiB.
"""
import os
import statistics
import sys
import threading
import time

import benchlib
from benchlib import ms, read, write

MOUNT, MOUNT0 = sys.argv[1:3]
NDOM, NWRITES = int(sys.argv[3]), int(sys.argv[4])


def define(mount, name):
    benchlib.define(f"{mount}/domains", name, 32)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def history_writes():
    for m in (MOUNT, MOUNT0):
        define(m, "hist")
    times = {MOUNT: [], MOUNT0: []}
    for i in range(NWRITES):
        for m in (MOUNT, MOUNT0) if i % 2 else (MOUNT0, MOUNT):
            t0 = time.perf_counter()
            write(f"{m}/domains/hist/vcpus", f"{2 + i % 2}\n")
            times[m].append(ms(t0) * 1000)
    print("write_us", round(statistics.median(times[MOUNT])))
    print("write_floor_us", round(statistics.median(times[MOUNT0])))
    print("history_entries", len(os.listdir(f"{MOUNT}/domains/hist/history")))


def start_all(names):
    errors = []

    def worker(chunk):
        for n in chunk:
            try:
                write(f"{MOUNT}/domains/{n}/state", "running\n")
            except OSError as e:
                errors.append(f"{n}: {e}")
    threads = [threading.Thread(target=worker, args=(names[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("start errors:", errors[:3], file=sys.stderr)


def uuid_latency(path, seconds):
    out = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        with open(path) as f:
            f.read()
        out.append(ms(t0) * 1000)
    return pct(out, 0.99)


def main():
    history_writes()
    names = [f"m{i:03d}" for i in range(NDOM)]
    for n in names:
        define(MOUNT, n)
    t0 = time.perf_counter()
    start_all(names)
    running = sum(read(f"{MOUNT}/domains/{n}/state").strip() == "running" for n in names)
    print("started", running, "in_ms", round(ms(t0)))
    reads, size = [], 0
    for _ in range(10):
        time.sleep(1.1)
        t0 = time.perf_counter()
        size = len(read(f"{MOUNT}/metrics"))
        reads.append(ms(t0))
    print("metrics", round(statistics.median(reads), 1))
    print("metrics_p90", round(pct(reads, 0.9), 1))
    print("metrics_bytes", size)
    floors = []
    for _ in range(3):
        t0 = time.perf_counter()
        for n in names:
            read(f"{MOUNT}/domains/{n}/stats")
        floors.append(ms(t0))
    print("metrics_floor", round(statistics.median(floors), 1))
    uuid = f"{MOUNT}/domains/{names[0]}/uuid"
    print("uuid_p99_idle_us", round(uuid_latency(uuid, 3)))
    stop = threading.Event()

    def render_loop():
        while not stop.is_set():
            time.sleep(1.01)  # past the snapshot's second: a new rendering
            read(f"{MOUNT}/metrics")
    t = threading.Thread(target=render_loop)
    t.start()
    busy = uuid_latency(uuid, 6)
    stop.set()
    t.join()
    print("uuid_p99_busy_us", round(busy))
    start_all_destroy = [threading.Thread(target=lambda c=names[i::8]: [
        write(f"{MOUNT}/domains/{n}/ctl", "destroy\n") for n in c]) for i in range(8)]
    for th in start_all_destroy:
        th.start()
    for th in start_all_destroy:
        th.join()


main()
