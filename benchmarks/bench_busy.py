#!/usr/bin/env python3
"""Busy machine: fastmlp's training at 1 and at 2 threads while CPU-bound processes run beside it.

On a shared machine other processes take cores away at any moment. Threads must then never
be a trap: 2-thread training should take at most 1.25× the 1-thread time of the same workload
(issue 13). This starts `--hogs` processes that spin forever, then measures each workload's
`fit` (one user call per measurement, as bench.py's "fastmlp (fit)" peer) at 1 and 2 threads,
alternating which goes first, and reports the median seconds per epoch and their ratio.

    python benchmarks/bench_busy.py                             # 2 hogs, every workload
    python benchmarks/bench_busy.py --hogs 2 --workloads W3,W4 --repeats 5 --seconds 1
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import fastmlp as fm
from bench_peers import FastmlpPeer, initial_parameters
from bench_workloads import SEED, WORKLOADS, make_data

TARGET_RATIO = 1.25
HOG = "while True:\n    pass\n"


def start_hogs(count: int) -> list:
    return [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(count)]


def seconds_per_epoch(peer, threads: int, epochs: int) -> float:
    fm.set_num_threads(threads)
    start = time.perf_counter()
    peer.train(epochs)
    return (time.perf_counter() - start) / epochs


def measure(workload, args) -> dict:
    rows = max(workload.batch, int(workload.rows * args.rows_scale))
    X, y = make_data(workload, rows)
    peer = FastmlpPeer(workload, X, y, initial_parameters(workload), SEED)
    one_epoch = min(seconds_per_epoch(peer, threads, 1) for threads in (1, 2))  # warm-up, calibration
    epochs = max(1, round(args.seconds / one_epoch))
    times = {1: [], 2: []}
    for round_ in range(args.repeats):
        for threads in ((1, 2) if round_ % 2 == 0 else (2, 1)):
            time.sleep(0.05)
            times[threads].append(seconds_per_epoch(peer, threads, epochs))
    one, two = statistics.median(times[1]), statistics.median(times[2])
    return {"workload": workload.name, "describe": workload.describe(), "rows": rows, "epochs": epochs,
            "one": one, "two": two, "ratio": two / one, "times": times}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hogs", type=int, default=2, help="CPU-bound processes beside the benchmark (2)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=5, help="measurements per thread count (5)")
    parser.add_argument("--seconds", type=float, default=1.0, help="about this long per measurement (1.0)")
    parser.add_argument("--rows-scale", type=float, default=1.0, help="scale every workload's rows (1.0)")
    args = parser.parse_args(argv)
    hogs = start_hogs(args.hogs)
    try:
        time.sleep(0.5)
        load_start = os.getloadavg()
        results = []
        for name in args.workloads.split(","):
            results.append(measure(WORKLOADS[name.strip().upper()], args))
            print(f"{name}: ratio {results[-1]['ratio']:.2f}", file=sys.stderr, flush=True)
        load_end = os.getloadavg()
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    info = fm._core.build_info()
    print(f"Busy machine: {args.hogs} CPU-bound processes beside the benchmark on {os.cpu_count()} cores; "
          f"fastmlp engine variant {info['variant']}; load average {load_start[0]:.1f} at start, "
          f"{load_end[0]:.1f} at end; median of {args.repeats} measurements, 1 and 2 threads alternating.\n")
    print("| workload | rows × epochs | 1 thread, s/epoch | 2 threads, s/epoch | 2 ÷ 1 | target ≤ 1.25 |")
    print("|---|---|---:|---:|---:|---|")
    for r in results:
        verdict = "met" if r["ratio"] <= TARGET_RATIO else "**NOT met**"
        print(f"| {r['workload']} {r['describe']} | {r['rows']:,} × {r['epochs']} | {r['one']:.4f} | {r['two']:.4f} | "
              f"{r['ratio']:.2f} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
