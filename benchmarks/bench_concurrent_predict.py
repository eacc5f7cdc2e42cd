"""Concurrent-predict throughput: one model, many threads (issue 10, "Serving").

A W3-shaped model (784-256-128-10, float32) answers 1,000-row predict calls from 1, 2 and 8
threads at once; the table gives rows per second over all threads. The engine's own
threads stay at fm.get_num_threads() (set FASTMLP_BENCH_ENGINE_THREADS to change it).

    python benchmarks/bench_concurrent_predict.py [--seconds 3]
"""
import argparse
import os
import platform
import threading
import time

import numpy as np

import fastmlp as fm
from fastmlp import _core

ROWS_PER_CALL = 1000


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def w3_model() -> fm.Sequential:
    model = fm.Sequential([fm.Dense(256, activation="relu"), fm.Dense(128, activation="relu"),
                           fm.Dense(10, activation="softmax")], input_dim=784, dtype="float32", seed=0)
    model.compile(loss="cross_entropy")
    return model


def throughput(model, X, n_threads: int, seconds: float) -> float:
    """Rows per second summed over n_threads threads calling predict in a loop."""
    model.predict(X)  # warm up: workspaces, packing buffers, the OpenMP pool
    stop = threading.Event()
    counts = [0] * n_threads
    start_line = threading.Barrier(n_threads + 1)

    def loop(slot):
        start_line.wait()
        while not stop.is_set():
            model.predict(X)
            counts[slot] += 1

    threads = [threading.Thread(target=loop, args=(slot,)) for slot in range(n_threads)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return sum(counts) * len(X) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 8])
    args = parser.parse_args()
    if "FASTMLP_BENCH_ENGINE_THREADS" in os.environ:
        fm.set_num_threads(int(os.environ["FASTMLP_BENCH_ENGINE_THREADS"]))
    model = w3_model()
    X = np.random.default_rng(0).standard_normal((ROWS_PER_CALL, 784)).astype(np.float32)
    print(f"CPU: {cpu_name()} ({os.cpu_count()} logical cores); engine variant {_core.variant}, "
          f"engine threads {fm.get_num_threads()}")
    print(f"{'threads':>7}  {'rows/s':>12}")
    for n_threads in args.threads:
        print(f"{n_threads:>7}  {throughput(model, X, n_threads, args.seconds):>12,.0f}")


if __name__ == "__main__":
    main()
